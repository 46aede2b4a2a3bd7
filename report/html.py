"""The report as one HTML file: plotly's JavaScript inline, so it opens with no network at all."""

from __future__ import annotations

import html
from datetime import datetime
from typing import TYPE_CHECKING, Any

import plotly.graph_objects as go
import plotly.io as pio
from plotly.colors import qualitative
from plotly.offline import get_plotlyjs

from evalstream.report.data import PanelData

if TYPE_CHECKING:
    from evalstream.report.build import Report

EMPTY = "no data in this range"
AXIS_LABELS = {
    "cost_usd_per_1k_events": "cost per 1,000 events (USD)",
    "faithfulness_mean": "faithfulness (mean)",
}
# No toolbar: drag zooms, a double click zooms back out, and the page stays uncluttered in print.
PLOT_CONFIG = {"displayModeBar": False, "responsive": True}
# Each chart is sized when its script runs, before the rest of the page is laid out: size them
# again once it is (plotly's own "responsive" follows window resizes only).
RESIZE = ("window.addEventListener('load', function () { "
          "document.querySelectorAll('.js-plotly-plot').forEach(function (gd) { Plotly.Plots.resize(gd); }); });")
STYLE = """
html{overflow-y:scroll}
body{margin:0;background:#f4f5f7;color:#1f2328;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header{background:#fff;border-bottom:1px solid #d8dee4;padding:18px 28px}
h1{margin:0 0 6px;font-size:22px}
header dl{display:flex;flex-wrap:wrap;gap:4px 28px;margin:0}
header dt{color:#57606a;font-size:12px;text-transform:uppercase;letter-spacing:.04em}
header dd{margin:0;font-weight:600}
main{max-width:1640px;margin:0 auto;padding:18px 28px 28px}
.stats{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:12px;margin-bottom:16px}
.stat{background:#fff;border:1px solid #d8dee4;border-radius:8px;padding:10px 14px}
.stat .label{color:#57606a;font-size:12px}
.stat .value{font-size:24px;font-weight:650}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:16px}
.panel{background:#fff;border:1px solid #d8dee4;border-radius:8px;padding:12px 16px;min-width:0}
.panel.table{grid-column:1/-1}
.panel h2{margin:0;font-size:16px}
.panel .source,.panel .note{margin:2px 0 0;color:#57606a;font-size:12px}
.chart{height:340px}
.empty,.error{height:120px;display:flex;align-items:center;justify-content:center;color:#57606a;font-style:italic}
.error{color:#b42318}
.table-wrap{max-height:520px;overflow:auto;margin-top:8px}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eaeef2;white-space:nowrap}
td.summary{white-space:normal;min-width:260px}
th{position:sticky;top:0;background:#f6f8fa}
.firing{color:#b42318;font-weight:600}
footer{color:#57606a;font-size:12px;padding:0 28px 24px;max-width:1640px;margin:0 auto}
"""


def render(report: "Report") -> str:
    stats = "".join(_stat(panel) for panel in report.stats)
    colours = Colours()
    charts = "".join(_panel(panel, colours) for panel in report.charts)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{html.escape(report.title)}</title><style>{STYLE}</style>"
        f"<script>{get_plotlyjs()}</script></head><body>"
        f"<header><h1>{html.escape(report.title)}</h1>{_facts(report)}</header>"
        f"<main><div class=\"stats\">{stats}</div><div class=\"grid\">{charts}</div></main>"
        f"<footer>{_footer(report)}</footer><script>{RESIZE}</script></body></html>\n"
    )


def _facts(report: "Report") -> str:
    facts = {
        "time range": f"{_when(report.time_range.start)} to {_when(report.time_range.end)} UTC ({report.span_text})",
        "tenant": report.tenant or "all tenants",
        "generated": f"{_when(report.generated_at)} UTC",
        "resolution": f"one point per {_duration(report.step_s)}",
    }
    return "<dl>" + "".join(f"<div><dt>{k}</dt><dd>{html.escape(v)}</dd></div>" for k, v in facts.items()) + "</dl>"


def _footer(report: "Report") -> str:
    text = "Every panel runs the SQL of the Grafana board named under its title (dashboards/boards), for this range and tenant."
    if report.missing:
        text += " Not on the boards, so not shown: " + "; ".join(report.missing) + "."
    return html.escape(text)


def _stat(panel: PanelData) -> str:
    value = panel.rows[0][0] if panel.rows and panel.rows[0] else None
    shown = "error" if panel.error else _format(value, panel.spec.unit)
    points = 0 if value is None else 1
    title = f' title="{html.escape(panel.error)}"' if panel.error else ""
    return (f'<div class="stat" data-panel="{panel.spec.key}" data-points="{points}"{title}>'
            f'<div class="label">{html.escape(panel.heading)}</div><div class="value">{html.escape(shown)}</div></div>')


class Colours:
    """One colour per series name across the whole report: a model is the same colour in every chart."""

    def __init__(self) -> None:
        self.assigned: dict[str, str] = {}

    def __call__(self, name: str) -> str:
        palette = qualitative.Plotly
        return self.assigned.setdefault(name, palette[len(self.assigned) % len(palette)])


def _panel(panel: PanelData, colours: Colours) -> str:
    spec = panel.spec
    if panel.error:
        body, points = f'<p class="error">query failed: {html.escape(panel.error)}</p>', 0
    elif spec.kind == "table":
        body, points = _table(panel)
    else:
        figure, points = (_scatter if spec.kind == "scatter" else _lines)(panel, colours)
        body = f'<div class="chart">{_plot(figure, spec.key)}</div>' if points else ""
    if not points and not panel.error:
        body = f'<p class="empty">{EMPTY}</p>'
    note = f'<p class="note">{html.escape(spec.note)}</p>' if spec.note else ""
    return (f'<section class="panel {spec.kind}" id="{spec.key}" data-panel="{spec.key}" data-kind="{spec.kind}" '
            f'data-points="{points}"><h2>{html.escape(panel.heading)}</h2>'
            f'<p class="source">{html.escape(_board_name(panel.board_title))} board</p>{note}{body}</section>')


def _lines(panel: PanelData, colours: Colours) -> tuple[go.Figure, int]:
    """One line per breakdown value, or per value column where the panel has no breakdown."""
    columns = panel.columns
    series: dict[str, tuple[list, list]] = {}
    if "breakdown" in columns:
        t, b = columns.index("time"), columns.index("breakdown")
        v = next(i for i, name in enumerate(columns) if name not in ("time", "breakdown"))
        for row in panel.rows:
            xs, ys = series.setdefault(str(row[b]), ([], []))
            xs.append(row[t])
            ys.append(row[v])
    else:
        t = columns.index("time") if columns else 0
        for i, name in enumerate(columns):
            if i != t:
                series[name] = ([row[t] for row in panel.rows], [row[i] for row in panel.rows])
    figure = go.Figure()
    points = 0
    for name, (xs, ys) in sorted(series.items()) if "breakdown" in columns else series.items():
        shown = sum(y is not None for y in ys)
        if not shown:
            continue
        points += shown
        mode = "lines+markers" if len(xs) <= 40 else "lines"
        colour = colours(name)
        figure.add_trace(go.Scatter(x=xs, y=ys, name=name, mode=mode, connectgaps=False,
                                    marker={"size": 5, "color": colour}, line={"color": colour}))
    _layout(figure, panel.spec.unit)
    figure.update_layout(hovermode="x unified", xaxis={"type": "date"})
    return figure, points


def _scatter(panel: PanelData, colours: Colours) -> tuple[go.Figure, int]:
    """The board's xy chart: a label, then x, then y; one point per row, named in the legend
    (labels beside points overlap where variants cost the same)."""
    _, x, y = panel.columns[:3] if len(panel.columns) >= 3 else ("", "", "")
    figure = go.Figure()
    points = 0
    for label, cost, quality in (row[:3] for row in panel.rows):
        if cost is None or quality is None:
            continue  # e.g. a model without a price: no cost to place it at
        points += 1
        hover = f"{label}<br>{_axis(x)}: %{{x:.4g}}<br>{_axis(y)}: %{{y:.3f}}<extra></extra>"
        figure.add_trace(go.Scatter(x=[cost], y=[quality], name=str(label), mode="markers",
                                    marker={"size": 13, "color": colours(str(label))}, hovertemplate=hover))
    _layout(figure, "")
    figure.update_layout(
        xaxis={"title": {"text": _axis(x)}, "tickprefix": "$", "rangemode": "tozero"},
        yaxis={"title": {"text": _axis(y)}, "rangemode": "normal"},
        legend={"orientation": "v", "x": 1.02, "y": 1, "yanchor": "top"}, margin={"t": 8},
    )
    return figure, points


def _layout(figure: go.Figure, unit: str) -> None:
    yaxis: dict[str, Any] = {"rangemode": "tozero", "automargin": True}
    if unit == "%":
        yaxis["tickformat"] = ".1%"
    elif unit == "$":
        yaxis["tickprefix"] = "$"
    elif unit:
        yaxis["ticksuffix"] = f" {unit}"
    figure.update_layout(
        template="plotly_white", height=340, margin={"l": 8, "r": 8, "t": 36, "b": 8}, yaxis=yaxis,
        font={"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12},
        legend={"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
    )
    figure.update_xaxes(automargin=True)


def _plot(figure: go.Figure, key: str) -> str:
    return pio.to_html(figure, include_plotlyjs=False, full_html=False, div_id=f"chart-{key}",
                       config=PLOT_CONFIG, default_height="340px", default_width="100%")


def _table(panel: PanelData) -> tuple[str, int]:
    wanted = [c for c in panel.spec.columns if c in panel.columns] or panel.columns
    index = [panel.columns.index(c) for c in wanted]
    rows = panel.rows[: panel.spec.max_rows]
    if not rows:
        return "", 0
    head = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in wanted)
    body = "".join("<tr>" + "".join(_cell(wanted[j], row[i]) for j, i in enumerate(index)) + "</tr>" for row in rows)
    more = f'<p class="note">the latest {len(rows)} of {len(panel.rows)}</p>' if len(panel.rows) > len(rows) else ""
    return f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>{more}', len(rows)


def _cell(column: str, value: Any) -> str:
    text = _format(value, "")
    css = {"summary": "summary", "state": "firing" if value == "firing" else ""}.get(column, "")
    return f'<td class="{css}">{html.escape(text)}</td>' if css else f"<td>{html.escape(text)}</td>"


def _format(value: Any, unit: str) -> str:
    if value is None:
        return "–"
    if isinstance(value, datetime):
        return _when(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if unit == "%":
        return f"{value:.2%}"
    if unit == "$":
        return f"${value:,.2f}" if abs(value) >= 1 else f"${value:.4g}"
    if unit:
        return f"{value:,.3g} {unit}"
    return f"{value:,}" if isinstance(value, int) else f"{value:.4g}"


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _duration(seconds: int) -> str:
    for size, name in ((86400, "day"), (3600, "hour"), (60, "minute")):
        if seconds % size == 0:
            count = seconds // size
            return f"{count} {name}{'s' if count > 1 else ''}" if count > 1 else name
    return f"{seconds} s"


def _board_name(title: str) -> str:
    return title.removeprefix("evalstream / ")


def _axis(column: str) -> str:
    return AXIS_LABELS.get(column, column.replace("_", " "))
