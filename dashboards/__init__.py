"""Grafana dashboards as code over ClickHouse, their provisioning, and the push command."""
