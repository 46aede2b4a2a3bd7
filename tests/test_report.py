"""`evalstream report`: the boards' panels, run on their own SQL over seeded data, as one HTML file
that a real headless Chromium opens with no network, no console error and every chart drawn.

The browser checks need Chromium from the system's packages (`apt-get install chromium`); without
it they are skipped, saying so.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from dashboards_data import ALERT_COLUMNS, NOW, alert_rows, new_database, seeded_rows
from evalstream.cli.main import app
from evalstream.cli.report import write_demo_report
from evalstream.report import parse_range, parse_since, write_report
from evalstream.report.html import EMPTY
from evalstream.report.panels import CHARTS, STATS

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="Chromium is not installed: `apt-get install chromium` to run the report's browser checks")
RANGE = (NOW - timedelta(days=3), NOW)

# Loaded first in the page under test: records uncaught errors, console.error calls, failed loads
# and every network request into attributes of <html>, which --dump-dom then shows.
HOOK = """
(function () {
  var root = document.documentElement;
  function record(kind, text) { root.setAttribute("data-" + kind, (root.getAttribute("data-" + kind) || "") + text + "\\n"); }
  window.addEventListener("error", function (e) {
    record("errors", e.message ? "uncaught: " + e.message : "failed to load: " + (e.target && (e.target.src || e.target.href)));
  }, true);
  window.addEventListener("unhandledrejection", function (e) { record("errors", "unhandled rejection: " + e.reason); });
  var consoleError = console.error;
  console.error = function () {
    record("errors", "console.error: " + Array.prototype.join.call(arguments, " "));
    consoleError.apply(console, arguments);
  };
  new PerformanceObserver(function (list) {
    list.getEntries().forEach(function (e) { record("requests", e.name); });
  }).observe({type: "resource", buffered: true});
})();
"""

# Decodes a PNG in the browser and writes its pixel statistics into <body data-stats>: in the
# load event, which waits for the image and which --dump-dom waits for (img.decode() it does not).
PIXEL_STATS = """
<img id="shot" src="data:image/png;base64,{png}"><script>
var img = document.getElementById("shot");
window.addEventListener("load", function () {{
  var canvas = document.createElement("canvas");
  canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
  var context = canvas.getContext("2d");
  context.drawImage(img, 0, 0);
  var d = context.getImageData(0, 0, canvas.width, canvas.height).data, n = 0, sum = 0, squares = 0, coloured = 0;
  for (var i = 0; i < d.length; i += 4) {{
    var grey = (d[i] + d[i + 1] + d[i + 2]) / 3;
    sum += grey; squares += grey * grey; n++;
    if (Math.max(d[i], d[i + 1], d[i + 2]) - Math.min(d[i], d[i + 1], d[i + 2]) > 60) coloured++;
  }}
  var mean = sum / n;
  document.body.setAttribute("data-stats", JSON.stringify(
    {{width: canvas.width, height: canvas.height, mean: mean, variance: squares / n - mean * mean, coloured: coloured}}));
}});
</script>
"""


def with_flags(row: dict[str, Any]) -> dict[str, Any]:
    """The seeded rows with the scorers' flags, where the seed does not set them."""
    if row.get("faithfulness") is not None:
        row.setdefault("unfaithful", row["faithfulness"] < 0.5)
    row.setdefault("refusal", row["source_offset"] % 17 == 0)
    return row


@pytest.fixture(scope="module")
def seeded_sink() -> Any:
    _, sink = new_database()
    rows = [with_flags(row) for row in seeded_rows()]
    for start in range(0, len(rows), 1000):
        sink.write(rows[start:start + 1000])
    sink.client.insert("alerts", alert_rows(), column_names=ALERT_COLUMNS)
    return sink


@pytest.fixture(scope="module")
def written(seeded_sink: Any, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    out = tmp_path_factory.mktemp("report") / "report.html"
    return out, write_report(seeded_sink.client, out, *RANGE)


def sections(page: str) -> dict[str, tuple[str, int, str]]:
    """data-panel -> (kind, data-points, the section's HTML)."""
    pattern = r'<section class="panel (\w+)"[^>]*data-panel="([\w-]+)"[^>]*data-points="(\d+)">(.*?)</section>'
    found = re.findall(pattern, page, re.S)
    return {key: (kind, int(points), body) for kind, key, points, body in found}


def test_every_panel_runs_on_the_boards_sql_and_has_data(written: tuple[Path, Any]) -> None:
    out, report = written
    assert report.missing == [], "panels named in report/panels.py are not on the boards"
    assert [p.error for p in report.failed] == []
    assert {p.spec.key for p in report.charts} == {s.key for s in CHARTS}
    assert [p.spec.key for p in report.stats + report.charts if not p.rows] == []
    page = out.read_text()
    assert f"{RANGE[0]:%Y-%m-%d %H:%M} to {RANGE[1]:%Y-%m-%d %H:%M} UTC" in page
    assert "all tenants" in page and "generated" in page
    shown = sections(page)
    assert set(shown) == {s.key for s in CHARTS}
    assert {key: points for key, (_, points, _) in shown.items() if points == 0} == {}
    assert len(re.findall(r'class="stat" data-panel="[\w-]+" data-points="1"', page)) == len(STATS)


def test_the_page_loads_nothing_from_the_network(written: tuple[Path, Any]) -> None:
    page = written[0].read_text()
    assert "plotly.js v" in page, "plotly's JavaScript is inline"
    assert not re.search(r"<(script|img|iframe)[^>]*\ssrc=|<link[^>]*\shref=", page)


def test_a_range_without_data_says_so(seeded_sink: Any, tmp_path: Path) -> None:
    long_ago = datetime(2020, 1, 1, tzinfo=timezone.utc)
    report = write_report(seeded_sink.client, tmp_path / "empty.html", long_ago, long_ago + timedelta(hours=6))
    page = (tmp_path / "empty.html").read_text()
    assert report.failed == []
    for key, (_, points, body) in sections(page).items():
        assert points == 0 and EMPTY in body and "Plotly.newPlot" not in body, key


def test_one_tenant(seeded_sink: Any, written: tuple[Path, Any], tmp_path: Path) -> None:
    report = write_report(seeded_sink.client, tmp_path / "globex.html", *RANGE, tenant="globex")
    every_tenant = {p.spec.key: p for p in written[1].stats + written[1].charts}
    globex = {p.spec.key: p for p in report.stats + report.charts}
    assert 0 < globex["events"].rows[0][0] < every_tenant["events"].rows[0][0]
    alerts = globex["recent-alerts"]
    assert {row[alerts.columns.index("tenant")] for row in alerts.rows} == {"globex"}
    assert "evalstream report: globex" in (tmp_path / "globex.html").read_text()


def test_time_ranges() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)
    assert parse_since("24h", now) == (now - timedelta(hours=24), now)
    assert parse_since("2w", now)[0] == now - timedelta(days=14)
    assert parse_range("2026-11-20T08:00..2026-11-20T14:00+01:00") == (
        datetime(2026, 11, 20, 8, 0, tzinfo=timezone.utc), datetime(2026, 11, 20, 13, 0, tzinfo=timezone.utc))
    for bad in ("24", "0h", "3x"):
        with pytest.raises(ValueError, match="duration"):
            parse_since(bad)
    for bad in ("2026-11-20", "2026-11-21..2026-11-20", "yesterday..today"):
        with pytest.raises(ValueError, match="range"):
            parse_range(bad)


def test_the_command(seeded_sink: Any, tmp_path: Path) -> None:
    out = tmp_path / "cli.html"
    command = ["report", "--clickhouse", seeded_sink.dsn, "--out", str(out), "--since", "3d", "--tenant", "acme"]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, result.output
    assert f"{len(CHARTS)} of {len(CHARTS)} charts have data" in result.output
    assert "evalstream report: acme" in out.read_text()
    assert CliRunner().invoke(app, ["report", "--since", "3x", "--out", str(out)]).exit_code == 2
    command = ["report", "--clickhouse", "http://u:secret@127.0.0.1:1", "--out", str(tmp_path / "no.html")]
    unreachable = CliRunner().invoke(app, command)
    assert unreachable.exit_code == 1
    assert "cannot reach ClickHouse at http://u:***@127.0.0.1:1" in unreachable.output and "secret" not in unreachable.output
    assert not (tmp_path / "no.html").exists()


def test_the_demo_report_spans_the_stored_events(seeded_sink: Any, tmp_path: Path) -> None:
    """A replay's events may be days old: the demo's report covers the hours they span."""
    where = write_demo_report(seeded_sink.client, tmp_path / "demo.html")
    assert where == str((tmp_path / "demo.html").resolve())
    first = min(row["ts"] for row in seeded_rows())
    page = (tmp_path / "demo.html").read_text()
    assert f"{first:%Y-%m-%d %H}:00 to " in page
    assert all(points > 0 for key, (_, points, _) in sections(page).items()), sections(page).keys()


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """Headless Chromium with every network request sent to a closed port: nothing outside loads."""
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-extensions",
               "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
               "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
               f"--user-data-dir={tmp_path / 'profile'}", "--virtual-time-budget=15000", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=240)


@needs_chromium
def test_chromium_loads_it_with_no_error_and_draws_every_chart(written: tuple[Path, Any], tmp_path: Path) -> None:
    page = written[0].read_text()
    hooked = tmp_path / "hooked.html"
    hooked.write_text(page.replace("<head>", f"<head><script>{HOOK}</script>", 1))
    dumped = chromium(tmp_path, "--dump-dom", hooked.as_uri())
    assert dumped.returncode == 0, dumped.stderr[-2000:]
    dom = dumped.stdout
    root = re.search(r"<html[^>]*>", dom)[0]
    assert "data-errors" not in root, root
    assert "data-requests" not in root, f"the page loaded something: {root}"
    assert "Uncaught" not in dumped.stderr
    drawn = sections(dom)
    assert set(drawn) == {s.key for s in CHARTS}
    for key, (kind, points, body) in drawn.items():
        assert points > 0, f"{key}: no data"
        if kind == "table":
            assert body.count("<tr>") == points + 1, key
        else:  # plotly drew it: an SVG with a trace per series, each with a line or markers
            assert 'class="main-svg"' in body and re.search(r'class="trace scatter', body), f"{key}: no chart drawn"
            assert re.search(r'class="js-line" d="M|class="point"', body), f"{key}: no line or point drawn"


@needs_chromium
def test_screenshot_is_not_blank(written: tuple[Path, Any], tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    taken = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1400,3000", written[0].as_uri())
    assert taken.returncode == 0 and shot.stat().st_size > 50_000, taken.stderr[-2000:]
    viewer = tmp_path / "pixels.html"
    viewer.write_text(PIXEL_STATS.format(png=base64.b64encode(shot.read_bytes()).decode()))
    dumped = chromium(tmp_path, "--dump-dom", viewer.as_uri())
    stats = json.loads(re.search(r"data-stats=\"([^\"]+)\"", dumped.stdout)[1].replace("&quot;", '"'))
    assert (stats["width"], stats["height"]) == (1400, 3000)
    # A blank page has no variance; the report's grey ground, white panels, text and coloured
    # lines have plenty, and its charts leave many thousands of coloured pixels.
    assert stats["variance"] > 20, stats
    assert stats["coloured"] > 5000, stats
