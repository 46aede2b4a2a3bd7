"""infra/compose.yaml and the image, checked by reading them: no Docker engine runs here."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import yaml
from typer.testing import CliRunner

from evalstream.dashboards import catalog

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "infra" / "compose.yaml"


def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_runs_the_whole_stack() -> None:
    services = compose()["services"]
    assert {"kafka", "clickhouse", "grafana", "migrate", "worker", "drift", "notifier", "kafka-exporter", "prometheus"} <= set(services)
    assert services["kafka"]["image"].startswith("apache/kafka:")
    kafka_env = services["kafka"]["environment"]
    assert kafka_env["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper
    assert "grafana-clickhouse-datasource" in services["grafana"]["environment"]["GF_INSTALL_PLUGINS"]
    assert services["drift"]["command"] == ["evalstream", "drift"]
    for name in ("migrate", "worker", "drift", "notifier"):
        build = services[name]["build"]
        assert (COMPOSE.parent / build["context"] / build["dockerfile"]).resolve() == REPO / "infra" / "Dockerfile"
    # the workers start once the schema is migrated, and migrate once ClickHouse is up
    assert services["worker"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["migrate"]["depends_on"]["clickhouse"]["condition"] == "service_healthy"


def test_compose_mounts_and_env_files_exist_and_ports_are_unique() -> None:
    spec = compose()
    host_ports = []
    for name, service in spec["services"].items():
        for env_file in service.get("env_file", []):
            assert (COMPOSE.parent / env_file).is_file(), (name, env_file)
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):  # a bind mount of a repository path; named volumes are declared
                assert (COMPOSE.parent / source).exists(), (name, source)
            else:
                assert source in spec.get("volumes", {}), (name, source)
        host_ports += [str(p).rsplit(":", 2)[-2] for p in service.get("ports", [])]
    assert len(host_ports) == len(set(host_ports)), host_ports


def test_grafana_in_compose_gets_the_boards_and_provisioning_of_this_repository() -> None:
    grafana = compose()["services"]["grafana"]
    mounts = {target: (COMPOSE.parent / source).resolve() for source, target, *_ in (v.split(":") for v in grafana["volumes"])}
    (provider,) = [p for doc in catalog.load_provisioning("dashboards") for p in doc["providers"]]
    assert mounts[provider["options"]["path"]] == catalog.BOARDS_DIR
    for kind in ("datasources", "dashboards", "alerting"):
        assert mounts[f"/etc/grafana/provisioning/{kind}"] == catalog.PROVISIONING_DIR / kind
    # every $VAR the provisioning files need is set in Grafana's environment
    values = json.dumps([catalog.load_provisioning(kind) for kind in ("datasources", "dashboards", "alerting")])
    needed = set(re.findall(r"\$\{?([A-Z][A-Z0-9_]*)", values))
    assert needed == {"EVALSTREAM_GRAFANA_CLICKHOUSE_PASSWORD"}
    assert needed <= set(_environment(grafana))


def test_evalstream_services_get_the_settings_they_read(monkeypatch: pytest.MonkeyPatch) -> None:
    from evalstream.config.settings import Settings

    def settings_of(service: str) -> Settings:
        for name in [n for n in os.environ if n.startswith("EVALSTREAM_")]:
            monkeypatch.delenv(name)
        for name, value in _environment(services[service]).items():
            monkeypatch.setenv(name, value)
        return Settings()

    services = compose()["services"]
    clickhouse_env = _environment(services["clickhouse"])
    # the password each ClickHouse account is created with (image entrypoint, users.d/evalstream.xml)
    accounts = {"default": clickhouse_env["CLICKHOUSE_PASSWORD"], "evalstream_writer": clickhouse_env["EVALSTREAM_CLICKHOUSE_WRITER_PASSWORD"]}
    for name, user in (("migrate", "default"), ("worker", "evalstream_writer")):
        dsn = urlsplit(settings_of(name).clickhouse.dsn)
        assert dsn.scheme == "http" and dsn.hostname == "clickhouse" and dsn.port == 8123
        assert (dsn.username, unquote(dsn.password)) == (user, accounts[user])
    for name in ("worker", "notifier"):
        assert settings_of(name).kafka.bootstrap == "kafka:9092"


# What infra/.env holds on a real install (compose interpolates ${VAR:?message} from it).
TEST_SECRETS = {
    "EVALSTREAM_CLICKHOUSE_ADMIN_PASSWORD": "admin-9f1c",
    "EVALSTREAM_CLICKHOUSE_WRITER_PASSWORD": "writer-2b7d",
    "EVALSTREAM_GRAFANA_CLICKHOUSE_PASSWORD": "grafana-ch-44e0",
    "EVALSTREAM_GRAFANA_ADMIN_PASSWORD": "grafana-admin-13aa",
}
_REQUIRED = re.compile(r"\$\{([A-Z][A-Z0-9_]*):\?[^}]*\}")


def interpolate(value: str, secrets: dict[str, str] = TEST_SECRETS) -> str:
    """Compose's ${VAR:?message}: the value, or an error when it is unset or empty."""
    def required(match: re.Match[str]) -> str:
        if not secrets.get(match[1]):
            raise ValueError(f"compose refuses to start: {match[1]} is unset or empty")
        return secrets[match[1]]

    return _REQUIRED.sub(required, value)


def _environment(service: dict[str, Any]) -> dict[str, str]:
    """A service's environment: its env_files, then its `environment` entries (interpolated)."""
    env: dict[str, str] = {}
    for env_file in service.get("env_file", []):
        for line in (COMPOSE.parent / env_file).read_text().splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                key, _, value = line.partition("=")
                env[key.strip()] = value.strip()
    environment = service.get("environment", {})
    if isinstance(environment, list):
        environment = dict(item.partition("=")[::2] for item in environment)
    env.update({k: interpolate(str(v)) for k, v in environment.items()})
    return env



def test_evalstream_services_run_commands_that_exist() -> None:
    from evalstream.notifiers.config import load_config
    from evalstream.cli.main import app

    for name, service in compose()["services"].items():
        command = service.get("command", [])
        if command[:1] != ["evalstream"]:
            continue
        result = CliRunner().invoke(app, [command[1], "--help"])
        assert result.exit_code == 0, (name, result.output)
        for option in (arg for arg in command[2:] if arg.startswith("--")):
            assert option in result.output, (name, option)
    notifier = compose()["services"]["notifier"]
    (config,) = [v.split(":")[0] for v in notifier["volumes"] if v.split(":")[1] == notifier["command"][-1]]
    assert load_config(COMPOSE.parent / config).channels  # the notifier accepts the shipped config


def test_the_image_holds_every_package_of_the_project() -> None:
    import tomllib

    dockerfile = (REPO / "infra" / "Dockerfile").read_text()
    copied = {source for line in dockerfile.splitlines() if line.startswith("COPY ") for source in line.split()[1:-1]}
    assert all((REPO / source).exists() for source in copied), copied
    packages = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    assert set(packages.values()) | {"producer", "requirements.lock", "pyproject.toml", "README.md"} <= copied
