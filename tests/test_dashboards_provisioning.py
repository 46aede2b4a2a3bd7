"""Provisioning files and boards agree with each other."""

from __future__ import annotations

from dashboards_queries import expected_columns
from evalstream.dashboards import catalog


def test_boards_use_the_provisioned_datasources_and_folder() -> None:
    datasources = {d["uid"]: d for d in catalog.datasources()}
    assert datasources[catalog.CLICKHOUSE_DATASOURCE_UID]["type"] == catalog.CLICKHOUSE_PLUGIN
    assert datasources[catalog.PROMETHEUS_DATASOURCE_UID]["type"] == "prometheus"
    (provider,) = [p for doc in catalog.load_provisioning("dashboards") for p in doc["providers"]]
    assert provider["folderUid"] == catalog.FOLDER_UID and provider["folder"] == catalog.FOLDER_TITLE
    uids = [b["uid"] for b in catalog.load_boards()]
    assert len(uids) == len(set(uids)) == 4
    for board in catalog.load_boards():
        variables = {v["name"]: v for v in board["templating"]["list"]}
        assert variables["datasource"]["current"]["value"] == catalog.CLICKHOUSE_DATASOURCE_UID
        for variable in ("tenant", "app", "region", "model"):
            assert variables[variable]["multi"] and variables[variable]["includeAll"], (board["uid"], variable)
        ids = [p["id"] for p in catalog.panels(board)]
        assert len(ids) == len(set(ids)), board["uid"]
        for panel in catalog.panels(board):
            uid = panel["datasource"]["uid"]
            assert uid in ("${datasource}", "${prometheus}"), (board["uid"], panel["title"])
            if uid == "${prometheus}":
                assert variables["prometheus"]["current"]["value"] == catalog.PROMETHEUS_DATASOURCE_UID
            named = [o["matcher"]["options"] for o in panel["fieldConfig"]["overrides"] if o["matcher"]["id"] == "byName"]
            if named:  # an override must name a column the panel's query returns
                (query,) = [q for q in catalog.clickhouse_queries(board) if q.kind == "panel" and q.name == panel["title"]]
                assert set(named) <= set(expected_columns(query)), (board["uid"], panel["title"])


