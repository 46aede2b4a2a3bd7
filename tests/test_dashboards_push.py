"""`dashboards push` against a local stand-in for Grafana's HTTP API (the few endpoints it uses)."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Iterator

import pytest
from typer.testing import CliRunner

from evalstream.dashboards import catalog
from evalstream.dashboards.push import clickhouse_datasource, prometheus_datasource, push

TOKEN = "glsa_test_token"


class FakeGrafana:
    """The endpoints of Grafana's HTTP API that a push uses, answering as Grafana does: 404 for
    what does not exist, ids and versions added, secrets kept write-only, rule durations in Go's
    form ('5m0s'). It rejects what Grafana would reject and records every request."""

    NO_DATA_STATES = {"Alerting", "NoData", "OK", "KeepLast"}
    ERROR_STATES = {"Alerting", "Error", "OK", "KeepLast"}

    def __init__(self) -> None:
        self.folders: dict[str, dict] = {}
        self.datasources: dict[str, dict] = {}
        self.dashboards: dict[str, dict] = {}
        self.rule_groups: dict[tuple[str, str], dict] = {}
        self.requests: list[tuple[str, str, Any]] = []
        self.next_id = 1

    @property
    def writes(self) -> list[tuple[str, str]]:
        return [(method, path) for method, path, _ in self.requests if method != "GET"]

    def _id(self) -> int:
        self.next_id += 1
        return self.next_id

    def handle(self, method: str, path: str, headers: Any, body: Any) -> tuple[int, Any]:
        self.requests.append((method, path, body))
        if headers.get("Authorization") != f"Bearer {TOKEN}":
            return 401, {"message": "Unauthorized"}
        if method in ("POST", "PUT") and not headers.get("Content-Type", "").startswith("application/json"):
            return 415, {"message": "expected JSON"}
        routes = [
            ("GET", r"/api/folders/([\w-]+)", self.get_folder),
            ("POST", r"/api/folders", self.create_folder),
            ("PUT", r"/api/folders/([\w-]+)", self.update_folder),
            ("GET", r"/api/datasources/uid/([\w-]+)", self.get_datasource),
            ("POST", r"/api/datasources", self.create_datasource),
            ("PUT", r"/api/datasources/uid/([\w-]+)", self.update_datasource),
            ("GET", r"/api/dashboards/uid/([\w-]+)", self.get_dashboard),
            ("POST", r"/api/dashboards/db", self.save_dashboard),
            ("GET", r"/api/v1/provisioning/folder/([\w-]+)/rule-groups/([\w-]+)", self.get_rule_group),
            ("PUT", r"/api/v1/provisioning/folder/([\w-]+)/rule-groups/([\w-]+)", self.put_rule_group),
        ]
        for route_method, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if match and method == route_method:
                return handler(*match.groups(), *((body,) if method != "GET" else ()))
        return 404, {"message": f"no route {method} {path}"}

    def get_folder(self, uid):
        return (200, self.folders[uid]) if uid in self.folders else (404, {"message": "folder not found"})

    def create_folder(self, body):
        if not body.get("title") or body.get("uid") in self.folders:
            return 409, {"message": "a folder with that uid or title exists"}
        folder = {"id": self._id(), "uid": body["uid"], "title": body["title"], "version": 1}
        self.folders[body["uid"]] = folder
        return 200, folder

    def update_folder(self, uid, body):
        if uid not in self.folders:
            return 404, {"message": "folder not found"}
        if not (body.get("overwrite") or body.get("version") == self.folders[uid]["version"]):
            return 412, {"message": "version mismatch"}
        self.folders[uid].update(title=body["title"], version=self.folders[uid]["version"] + 1)
        return 200, self.folders[uid]

    def _stored_datasource(self, body, previous=None):
        missing = {"name", "type", "access"} - set(body)
        if missing or body["access"] not in ("proxy", "direct"):
            return None
        secrets = dict((previous or {}).get("secureJsonFields", {}))
        secrets.update({k: True for k, v in (body.get("secureJsonData") or {}).items() if v})
        stored = {k: v for k, v in body.items() if k != "secureJsonData"}
        stored.update(id=(previous or {}).get("id") or self._id(), secureJsonFields=secrets, version=(previous or {}).get("version", 0) + 1,
                      orgId=1, readOnly=False, basicAuth=False, withCredentials=False)
        stored.setdefault("url", "")
        stored.setdefault("jsonData", {})
        return stored

    def get_datasource(self, uid):
        return (200, self.datasources[uid]) if uid in self.datasources else (404, {"message": "Data source not found"})

    def create_datasource(self, body):
        if body.get("uid") in self.datasources or any(d["name"] == body.get("name") for d in self.datasources.values()):
            return 409, {"message": "data source with the same name already exists"}
        stored = self._stored_datasource(body)
        if stored is None:
            return 400, {"message": "name, type and access are required"}
        self.datasources[body["uid"]] = stored
        return 200, {"datasource": stored, "id": stored["id"], "message": "Datasource added", "name": stored["name"]}

    def update_datasource(self, uid, body):
        if uid not in self.datasources:
            return 404, {"message": "Data source not found"}
        stored = self._stored_datasource({**body, "uid": uid}, self.datasources[uid])
        if stored is None:
            return 400, {"message": "name, type and access are required"}
        self.datasources[uid] = stored
        return 200, {"datasource": stored, "id": stored["id"], "message": "Datasource updated", "name": stored["name"]}

    def get_dashboard(self, uid):
        if uid not in self.dashboards:
            return 404, {"message": "Dashboard not found"}
        stored = self.dashboards[uid]
        return 200, {"dashboard": stored["dashboard"], "meta": {"folderUid": stored["folderUid"], "version": stored["dashboard"]["version"]}}

    def save_dashboard(self, body):
        dashboard = body.get("dashboard") or {}
        if not dashboard.get("uid") or not dashboard.get("title") or body.get("folderUid") not in self.folders:
            return 400, {"message": "dashboard needs uid and title, and folderUid an existing folder"}
        previous = self.dashboards.get(dashboard["uid"])
        if previous and not body.get("overwrite"):
            return 412, {"message": "The dashboard has been changed by someone else"}
        version = previous["dashboard"]["version"] + 1 if previous else 1
        stored = {**dashboard, "id": previous["dashboard"]["id"] if previous else self._id(), "version": version}
        self.dashboards[dashboard["uid"]] = {"dashboard": stored, "folderUid": body["folderUid"]}
        return 200, {"id": stored["id"], "uid": stored["uid"], "status": "success", "version": version, "url": f"/d/{stored['uid']}"}

    def get_rule_group(self, folder, group):
        return (200, self.rule_groups[(folder, group)]) if (folder, group) in self.rule_groups else (404, {"message": "rule group not found"})

    def put_rule_group(self, folder, group, body):
        problems = self._rule_group_problems(folder, group, body)
        if problems:
            return 400, {"message": "; ".join(problems)}
        stored_rules = []
        for rule in body["rules"]:
            stored = {**rule, "id": self._id(), "updated": "2026-01-01T00:00:00Z", "provenance": "api"}
            seconds = catalog.duration_seconds(rule["for"])
            stored["for"] = f"{seconds // 60}m{seconds % 60}s" if seconds >= 60 else f"{seconds}s"
            stored_rules.append(stored)
        self.rule_groups[(folder, group)] = {**body, "rules": stored_rules}
        return 200, self.rule_groups[(folder, group)]

    def _rule_group_problems(self, folder, group, body) -> list[str]:
        problems = []
        if folder not in self.folders:
            problems.append(f"folder {folder} does not exist")
        if body.get("title") != group or body.get("folderUid") != folder:
            problems.append("title/folderUid differ from the path")
        if not isinstance(body.get("interval"), int) or body["interval"] <= 0 or body["interval"] % 10:
            problems.append("interval must be a positive multiple of 10 seconds")
        for rule in body.get("rules", []):
            refs = {d.get("refId") for d in rule.get("data", [])}
            if rule.get("condition") not in refs:
                problems.append(f"{rule.get('uid')}: condition {rule.get('condition')} is no refId")
            for query in rule.get("data", []):
                if not query.get("datasourceUid") or "model" not in query:
                    problems.append(f"{rule.get('uid')}: query {query.get('refId')} lacks datasourceUid or model")
                if query.get("datasourceUid") != "__expr__":
                    if query.get("datasourceUid") not in self.datasources:
                        problems.append(f"{rule.get('uid')}: datasource {query.get('datasourceUid')} does not exist")
                    relative = query.get("relativeTimeRange") or {}
                    if not relative.get("from", 0) > relative.get("to", 0):
                        problems.append(f"{rule.get('uid')}: relativeTimeRange.from must exceed .to")
            if rule.get("noDataState") not in self.NO_DATA_STATES or rule.get("execErrState") not in self.ERROR_STATES:
                problems.append(f"{rule.get('uid')}: bad noDataState/execErrState")
            if not all(rule.get(k) for k in ("uid", "title", "for")) or rule.get("folderUID") != folder or rule.get("ruleGroup") != group:
                problems.append(f"{rule.get('uid')}: uid/title/for/folderUID/ruleGroup missing or wrong")
            if not isinstance(rule.get("orgID"), int):
                problems.append(f"{rule.get('uid')}: orgID must be an integer")
        return problems


@pytest.fixture
def grafana() -> Iterator[tuple[FakeGrafana, str]]:
    fake = FakeGrafana()

    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            status, payload = fake.handle(self.command, self.path.split("?")[0], self.headers, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


CLICKHOUSE_URL = "http://grafana:s3cret-pw@clickhouse:8123/evalstream"


def api(url: str, token: str = TOKEN):
    from grafana_client import GrafanaApi

    return GrafanaApi.from_url(url, credential=token, timeout=5)


def test_push_creates_everything_then_a_second_push_changes_nothing(grafana) -> None:
    fake, url = grafana
    datasources = [clickhouse_datasource(CLICKHOUSE_URL), prometheus_datasource("http://prometheus:9090")]

    first = push(api(url), datasources)
    assert sorted(fake.writes) == sorted([
        ("POST", "/api/folders"),
        ("POST", "/api/datasources"), ("POST", "/api/datasources"),
        *[("POST", "/api/dashboards/db")] * 4,
        ("PUT", "/api/v1/provisioning/folder/evalstream/rule-groups/evalstream-slo"),
        ("PUT", "/api/v1/provisioning/folder/evalstream/rule-groups/evalstream-delivery"),
    ])
    assert {c.action for c in first.changes} == {"created"}

    for board in catalog.load_boards():  # the files' boards, in the folder, as they are
        stored = fake.dashboards[board["uid"]]
        assert stored["folderUid"] == catalog.FOLDER_UID
        assert {k: v for k, v in stored["dashboard"].items() if k not in ("id", "version")} == board
    clickhouse = fake.datasources[catalog.CLICKHOUSE_DATASOURCE_UID]
    assert clickhouse["type"] == catalog.CLICKHOUSE_PLUGIN
    assert {k: clickhouse["jsonData"][k] for k in ("host", "port", "username", "defaultDatabase", "protocol", "secure")} == {
        "host": "clickhouse", "port": 8123, "username": "grafana", "defaultDatabase": "evalstream", "protocol": "http", "secure": False}
    assert clickhouse["secureJsonFields"] == {"password": True}
    (create_ch,) = [b for m, p, b in fake.requests if p == "/api/datasources" and b["uid"] == catalog.CLICKHOUSE_DATASOURCE_UID]
    assert create_ch["secureJsonData"] == {"password": "s3cret-pw"}
    for group in catalog.alert_rule_groups():
        stored = fake.rule_groups[(catalog.FOLDER_UID, group["name"])]
        assert [r["uid"] for r in stored["rules"]] == [r["uid"] for r in group["rules"]] and stored["interval"] == 60

    fake.requests.clear()
    second = push(api(url), datasources)
    assert fake.writes == []  # only GETs: nothing created, nothing rewritten
    assert second.changed == []
    assert len(second.changes) == len(first.changes)


def test_push_rewrites_only_what_differs(grafana) -> None:
    fake, url = grafana
    datasources = [clickhouse_datasource(CLICKHOUSE_URL)]
    push(api(url), datasources)
    fake.dashboards["evalstream-alerts"]["dashboard"]["title"] = "edited in the UI"
    fake.folders[catalog.FOLDER_UID]["title"] = "renamed"
    boards = catalog.load_boards()
    groups = catalog.alert_rule_groups()
    (slo,) = [g for g in groups if g["name"] == "evalstream-slo"]
    slo["rules"][0]["data"][2]["model"]["conditions"][0]["evaluator"]["params"] = [0.05]

    fake.requests.clear()
    report = push(api(url), datasources, boards=boards, rule_groups=groups)
    assert sorted(fake.writes) == sorted([
        ("PUT", f"/api/folders/{catalog.FOLDER_UID}"),
        ("POST", "/api/dashboards/db"),
        ("PUT", "/api/v1/provisioning/folder/evalstream/rule-groups/evalstream-slo"),
    ])
    assert {(c.kind, c.action.split(":")[0]) for c in report.changed} == {
        ("folder", "updated"), ("dashboard", "updated"), ("alert-rule-group", "updated"), ("alert-rule-group", "skipped")}
    assert fake.dashboards["evalstream-alerts"]["dashboard"]["title"] == "evalstream / Drift alerts"

    # a password is sent again only when asked: Grafana cannot tell us whether it changed
    fake.requests.clear()
    push(api(url), [clickhouse_datasource(CLICKHOUSE_URL.replace("s3cret-pw", "rotated"))], update_secrets=True)
    (update,) = [b for m, p, b in fake.requests if m == "PUT" and p.startswith("/api/datasources/")]
    assert update["secureJsonData"] == {"password": "rotated"}


def test_push_needs_the_datasource_when_not_given_one(grafana) -> None:
    from evalstream.dashboards.push import PushError

    fake, url = grafana
    with pytest.raises(PushError, match="--clickhouse-url"):
        push(api(url), [])
    assert not fake.dashboards


def test_push_command_reads_credentials_from_the_environment(grafana) -> None:
    from evalstream.cli.main import app

    fake, url = grafana
    env = {"EVALSTREAM_GRAFANA_URL": url, "EVALSTREAM_GRAFANA_TOKEN": TOKEN, "EVALSTREAM_GRAFANA_CLICKHOUSE": CLICKHOUSE_URL}
    result = CliRunner().invoke(app, ["dashboards", "push"], env=env)
    assert result.exit_code == 0, result.output
    assert len(fake.dashboards) == 4 and catalog.CLICKHOUSE_DATASOURCE_UID in fake.datasources
    # without a Prometheus URL the rules over Prometheus wait, and the output says why
    assert set(fake.rule_groups) == {(catalog.FOLDER_UID, "evalstream-slo")}
    assert "skipped: Grafana has no datasource evalstream-prometheus" in " ".join(result.output.split())
    assert "s3cret-pw" not in result.output

    result = CliRunner().invoke(app, ["dashboards", "push"], env={**env, "EVALSTREAM_GRAFANA_TOKEN": "wrong"})
    assert result.exit_code == 1
    assert "push failed" in result.output and "Unauthorized" in result.output


