"""The regional report's charts and its print-ready document (presentation of
``dashboard.services.regional_report``)."""

from __future__ import annotations

import pandas as pd

from dashboard.components import charts
from dashboard.services import exports
from dashboard.services import regional_report as rr
from dashboard.services.scope import Principal


def charts_of(report: rr.Report):
    """(districts ranked by FLC vs budget %, accuracy by month) figures."""
    frame = pd.DataFrame(
        [
            {"district": d["name"], "flc_vs_budget_pct": d["flc_vs_budget_pct"]}
            for d in report.districts
            if d["flc_vs_budget_pct"] is not None
        ],
        columns=["district", "flc_vs_budget_pct"],
    )
    marked = [d["name"] for d in report.top_districts + report.bottom_districts]
    ranked = charts.ranked_bar_figure(
        frame,
        "district",
        "flc_vs_budget_pct",
        "percent",
        f"FLC vs budget by district, {report.year}",
        highlight=marked,
        value_title="Forecast FLC vs budget",
    )
    return ranked, charts.accuracy_figure(report.accuracy_by_month[["period", "mape", "bias"]])


def document(report: rr.Report, principal: Principal) -> str:
    """The report as a print-ready HTML document with its charts."""
    ranked, accuracy = charts_of(report)
    rollup = rr.export_columns(rr.ROLLUP_COLUMNS)
    total = rr.display_rows([report.total])[0] if report.total else None
    top = ", ".join(d["name"] for d in report.top_districts) or "—"
    bottom = ", ".join(d["name"] for d in report.bottom_districts) or "—"
    sections = [
        exports.ReportSection("Regions", None, rollup, rr.display_rows(report.regions), total),
        exports.ReportSection(
            "Districts",
            ranked,
            [exports.ExportColumn("region", "Region"), *rollup],
            rr.display_rows(report.districts),
            total,
            note=f"Top districts (FLC vs budget): {top}. Bottom: {bottom}.",
        ),
        exports.ReportSection(
            "At-risk sites", None, rr.export_columns(rr.RISK_COLUMNS), report.at_risk
        ),
        exports.ReportSection("Forecast accuracy", accuracy),
    ]
    return exports.report_html(
        f"Regional report {report.year}", rr.context_lines(report, principal), sections
    )
