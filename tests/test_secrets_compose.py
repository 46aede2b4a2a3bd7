"""No secret committed, none on a command line, nothing published beyond the host: checked by
reading infra/ (no Docker engine here)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from test_compose import COMPOSE, TEST_SECRETS, _environment, compose, interpolate

INFRA = COMPOSE.parent
SECRET_NAME = re.compile(r"(PASSWORD|SECRET|TOKEN|ROUTING_KEY|WEBHOOK_URL|API_KEY)", re.IGNORECASE)


def test_no_env_file_holds_a_password_or_a_dsn_with_one() -> None:
    for env_file in sorted((INFRA / "env").glob("*.env")):
        for line in env_file.read_text().splitlines():
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            name, _, value = line.partition("=")
            assert not SECRET_NAME.search(name), (env_file.name, name)
            assert not re.search(r"://[^/@\s]*:[^/@\s]*@", value), (env_file.name, line)  # user:password@ in a URL


def test_every_secret_in_compose_is_required_from_the_environment() -> None:
    text = COMPOSE.read_text()
    references = re.findall(r"\$\{[^}]*\}", text)
    assert references
    for reference in references:  # ${VAR:?message}: compose refuses to start when unset or empty
        assert re.fullmatch(r"\$\{[A-Z][A-Z0-9_]*:\?[^}]+\}", reference), reference
    named = set(re.findall(r"\$\{([A-Z][A-Z0-9_]*)", text))
    example = dict(line.split("=", 1) for line in (INFRA / "secrets.env.example").read_text().splitlines() if line and not line.startswith("#"))
    assert named == set(example) == set(TEST_SECRETS)
    assert all(value == "" for value in example.values())  # the placeholders are empty: compose refuses them
    for name in named:
        with pytest.raises(ValueError, match=name):
            interpolate(f"${{{name}:?missing}}", {**TEST_SECRETS, name: ""})
    for service in compose()["services"].values():  # no literal secret in any service's environment
        for name, value in (service.get("environment") or {}).items() if isinstance(service.get("environment"), dict) else []:
            if SECRET_NAME.search(name):
                assert str(value).startswith("${"), (name, value)


def test_no_secret_is_on_a_command_line() -> None:
    for name, service in compose()["services"].items():
        command = " ".join(map(str, service.get("command", []) + service.get("entrypoint", [])))
        assert not any(secret in command for secret in TEST_SECRETS.values()), name
        assert "$" not in command.replace("$$topic", ""), (name, command)  # nothing interpolated into a command


def test_the_secrets_reach_the_services_that_need_them() -> None:
    services = compose()["services"]
    assert _environment(services["clickhouse"])["CLICKHOUSE_PASSWORD"] == TEST_SECRETS["EVALSTREAM_CLICKHOUSE_ADMIN_PASSWORD"]
    assert _environment(services["worker"])["EVALSTREAM_CLICKHOUSE_PASSWORD"] == TEST_SECRETS["EVALSTREAM_CLICKHOUSE_WRITER_PASSWORD"]
    assert _environment(services["grafana"])["GF_SECURITY_ADMIN_PASSWORD"] == TEST_SECRETS["EVALSTREAM_GRAFANA_ADMIN_PASSWORD"]
    users = (INFRA / "clickhouse" / "users.d" / "evalstream.xml").read_text()
    for variable in re.findall(r'from_env="([A-Z_]+)"', users):
        assert variable in _environment(services["clickhouse"]), variable
    assert "EVALSTREAM_CLICKHOUSE_PASSWORD" not in _environment(services["drift"])  # drift never reaches ClickHouse


def test_the_worker_writes_as_a_user_that_may_only_insert_and_select() -> None:
    import xml.etree.ElementTree as ET

    users = ET.parse(INFRA / "clickhouse" / "users.d" / "evalstream.xml").getroot().find("users")
    writer = users.find("evalstream_writer")
    grants = [q.text for q in writer.find("grants")]
    assert grants == ["GRANT INSERT, SELECT ON default.*", "GRANT CREATE TABLE ON default.schema_migrations"]
    assert _environment(compose()["services"]["worker"])["EVALSTREAM_CLICKHOUSE"].startswith("http://evalstream_writer@")


def test_published_ports_listen_on_localhost_only() -> None:
    published = [(name, str(port)) for name, s in compose()["services"].items() for port in s.get("ports", [])]
    assert published
    for name, port in published:
        assert port.startswith("127.0.0.1:") and port.count(":") == 2, (name, port)


def test_images_are_pinned_to_a_patch_release() -> None:
    for name, service in compose()["services"].items():
        image = service.get("image", "")
        if not image or image == "evalstream:local":
            continue
        tag = image.rsplit(":", 1)[1]
        assert re.fullmatch(r"v?\d+\.\d+\.\d+(\.\d+)?", tag), (name, image)
