"""A report with pictures for teams without Grafana: the boards' main panels, run on their own SQL,
as one self-contained HTML file (the charting library's JavaScript inline: no network at view time)."""

from evalstream.report.build import Report, build_report, data_time_range, parse_range, parse_since, write_report

__all__ = ["Report", "build_report", "data_time_range", "parse_range", "parse_since", "write_report"]
