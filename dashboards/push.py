"""`evalstream dashboards push`: makes a Grafana hold the folder, datasources, boards and alert
rules of dashboards/, through its HTTP API (grafana-client).

Idempotent by reading before writing: each object is fetched first and written only when it
is missing or differs from what the files describe. A second push therefore sends only GETs.
"Differs" compares the fields we send with what Grafana returns, ignoring what Grafana adds
(ids, versions, timestamps, provenance) and reading durations in either form ("5m", "5m0s").

Secrets cannot be read back, so a datasource password is sent when the datasource is
created, when Grafana reports none stored, or when asked (`update_secrets`) -- never on every
push, which would make every push a change.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import unquote, urlparse

from grafana_client import GrafanaApi
from grafana_client.client import GrafanaClientError

from evalstream.dashboards import catalog

PUSH_MESSAGE = "evalstream dashboards push"


@dataclass(frozen=True)
class Change:
    kind: str  # folder | datasource | dashboard | alert-rule-group
    name: str
    action: str  # created | updated | unchanged | skipped: why


@dataclass
class PushReport:
    changes: list[Change] = field(default_factory=list)

    def add(self, kind: str, name: str, action: str) -> None:
        self.changes.append(Change(kind, name, action))

    @property
    def changed(self) -> list[Change]:
        return [c for c in self.changes if c.action != "unchanged"]


class PushError(RuntimeError):
    pass


def clickhouse_datasource(url: str) -> dict[str, Any]:
    """The shipped ClickHouse datasource, pointed at `http(s)://user:password@host:port/database`
    (the address Grafana reaches ClickHouse at, which may differ from the workers')."""
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise PushError(f"--clickhouse-url must be http(s)://user:password@host:port/database, got {parsed.scheme}://...")
    datasource = _shipped_datasource(catalog.CLICKHOUSE_DATASOURCE_UID)
    datasource["jsonData"].update(
        host=parsed.hostname,
        port=parsed.port or (8443 if parsed.scheme == "https" else 8123),
        protocol="http",
        secure=parsed.scheme == "https",
        username=unquote(parsed.username or "default"),
        defaultDatabase=parsed.path.strip("/") or "default",
    )
    datasource["secureJsonData"] = {"password": unquote(parsed.password or "")}
    return datasource


def prometheus_datasource(url: str) -> dict[str, Any]:
    datasource = _shipped_datasource(catalog.PROMETHEUS_DATASOURCE_UID)
    datasource["url"] = url
    return datasource


def _shipped_datasource(uid: str) -> dict[str, Any]:
    for datasource in catalog.datasources():
        if datasource["uid"] == uid:
            datasource = copy.deepcopy(datasource)
            datasource.pop("secureJsonData", None)  # holds ${ENV} references for Grafana's own provisioning
            datasource.pop("editable", None)  # a provisioning-file setting, not an API field
            datasource.pop("isDefault", None)  # the compose stack's choice; a shared Grafana keeps its own default
            datasource.setdefault("jsonData", {})
            return datasource
    raise PushError(f"no datasource {uid!r} in {catalog.PROVISIONING_DIR / 'datasources'}")


def push(
    grafana: GrafanaApi,
    datasources: list[dict[str, Any]],
    *,
    update_secrets: bool = False,
    boards: list[dict[str, Any]] | None = None,
    rule_groups: list[dict[str, Any]] | None = None,
) -> PushReport:
    """Create or update the folder, `datasources`, boards and alert rules; returns what changed.

    With no ClickHouse datasource in `datasources`, the one the boards use must already exist.
    """
    report = PushReport()
    _push_folder(grafana, report)
    for datasource in datasources:
        _push_datasource(grafana, datasource, report, update_secrets)
    if not any(d["uid"] == catalog.CLICKHOUSE_DATASOURCE_UID for d in datasources):
        if _get_or_none(lambda: grafana.datasource.get_datasource_by_uid(catalog.CLICKHOUSE_DATASOURCE_UID)) is None:
            raise PushError(f"Grafana has no datasource {catalog.CLICKHOUSE_DATASOURCE_UID!r}: pass --clickhouse-url to create it")
    for board in catalog.load_boards() if boards is None else boards:
        _push_dashboard(grafana, board, report)
    pushed = {d["uid"] for d in datasources}
    for group in catalog.alert_rule_groups() if rule_groups is None else rule_groups:
        if missing := [uid for uid in _datasource_uids(group) if uid not in pushed and not _has_datasource(grafana, uid)]:
            # Grafana refuses a rule on a datasource it lacks; the other groups still go in.
            report.add("alert-rule-group", group["name"], f"skipped: Grafana has no datasource {', '.join(missing)} (pass --prometheus-url)")
            continue
        _push_rule_group(grafana, group, report)
    return report


def _datasource_uids(group: dict[str, Any]) -> list[str]:
    uids = {d["datasourceUid"] for rule in group["rules"] for d in rule["data"] if d.get("datasourceUid") != "__expr__"}
    return sorted(uids)


def _has_datasource(grafana: GrafanaApi, uid: str) -> bool:
    return _get_or_none(lambda: grafana.datasource.get_datasource_by_uid(uid)) is not None


def _push_folder(grafana: GrafanaApi, report: PushReport) -> None:
    current = _get_or_none(lambda: grafana.folder.get_folder(catalog.FOLDER_UID))
    if current is None:
        grafana.folder.create_folder(catalog.FOLDER_TITLE, uid=catalog.FOLDER_UID)
        report.add("folder", catalog.FOLDER_TITLE, "created")
    elif current.get("title") != catalog.FOLDER_TITLE:
        grafana.folder.update_folder(catalog.FOLDER_UID, title=catalog.FOLDER_TITLE, overwrite=True)
        report.add("folder", catalog.FOLDER_TITLE, "updated")
    else:
        report.add("folder", catalog.FOLDER_TITLE, "unchanged")


def _push_datasource(grafana: GrafanaApi, datasource: dict[str, Any], report: PushReport, update_secrets: bool) -> None:
    uid, name = datasource["uid"], datasource["name"]
    settings = {k: v for k, v in datasource.items() if k != "secureJsonData"}
    secrets = datasource.get("secureJsonData") or {}
    current = _get_or_none(lambda: grafana.datasource.get_datasource_by_uid(uid))
    if current is None:
        grafana.datasource.create_datasource(datasource)
        report.add("datasource", name, "created")
        return
    stored_secrets = current.get("secureJsonFields") or {}
    secrets_missing = any(not stored_secrets.get(key) for key, value in secrets.items() if value)
    if _matches(settings, current) and not secrets_missing and not update_secrets:
        report.add("datasource", name, "unchanged")
        return
    body = {**settings, **({"secureJsonData": secrets} if secrets and (secrets_missing or update_secrets) else {})}
    grafana.datasource.update_datasource_by_uid(uid, body)
    report.add("datasource", name, "updated")


def _push_dashboard(grafana: GrafanaApi, board: dict[str, Any], report: PushReport) -> None:
    desired = {k: v for k, v in board.items() if k not in ("id", "version")}
    current = _get_or_none(lambda: grafana.dashboard.get_dashboard(board["uid"]))
    if current is not None:
        in_folder = current.get("meta", {}).get("folderUid") == catalog.FOLDER_UID
        if in_folder and _matches(desired, current.get("dashboard", {})):
            report.add("dashboard", board["title"], "unchanged")
            return
    grafana.dashboard.update_dashboard(
        {"dashboard": {**desired, "id": None}, "folderUid": catalog.FOLDER_UID, "overwrite": True, "message": PUSH_MESSAGE}
    )
    report.add("dashboard", board["title"], "created" if current is None else "updated")


def rule_group_for_api(group: dict[str, Any]) -> dict[str, Any]:
    """A rule group of a provisioning file, in the shape of the alerting provisioning API."""
    rules = []
    for rule in group["rules"]:
        rule = copy.deepcopy(rule)
        rule["for"] = _go_duration(catalog.duration_seconds(rule.get("for", "0s")))
        rule.update(folderUID=catalog.FOLDER_UID, ruleGroup=group["name"], orgID=group.get("orgId", 1))
        rule.setdefault("isPaused", False)
        rules.append(rule)
    return {
        "title": group["name"],
        "folderUid": catalog.FOLDER_UID,
        "interval": catalog.duration_seconds(group["interval"]),
        "rules": rules,
    }


def _push_rule_group(grafana: GrafanaApi, group: dict[str, Any], report: PushReport) -> None:
    desired = rule_group_for_api(group)
    name = desired["title"]
    current = _get_or_none(lambda: grafana.alertingprovisioning.get_rule_group(catalog.FOLDER_UID, name))
    if current is not None and _same_rule_group(desired, current):
        report.add("alert-rule-group", name, "unchanged")
        return
    # PUT replaces the whole group: a rule deleted from the file is deleted in Grafana too.
    grafana.alertingprovisioning.update_rule_group(catalog.FOLDER_UID, name, desired)
    report.add("alert-rule-group", name, "created" if current is None else "updated")


def _same_rule_group(desired: dict[str, Any], current: dict[str, Any]) -> bool:
    if current.get("interval") != desired["interval"]:
        return False
    current_rules = {r.get("uid"): r for r in current.get("rules") or []}
    if set(current_rules) != {r["uid"] for r in desired["rules"]}:
        return False
    for rule in desired["rules"]:
        stored = current_rules[rule["uid"]]
        if catalog.duration_seconds(stored.get("for", "0s")) != catalog.duration_seconds(rule["for"]):
            return False
        if not _matches({k: v for k, v in rule.items() if k != "for"}, stored):
            return False
    return True


def _matches(desired: Any, current: Any) -> bool:
    """Whether `current` holds everything `desired` says; keys only `current` has are ignored."""
    if isinstance(desired, dict):
        return isinstance(current, dict) and all(k in current and _matches(v, current[k]) for k, v in desired.items())
    if isinstance(desired, list):
        return isinstance(current, list) and len(desired) == len(current) and all(map(_matches, desired, current))
    return desired == current


def _go_duration(seconds: int) -> str:
    """Grafana's API writes durations as Go does: 300 -> '5m0s'."""
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


def _get_or_none(fetch: Callable[[], Any]) -> Any:
    try:
        return fetch()
    except GrafanaClientError as exc:
        if exc.status_code == 404:
            return None
        raise
