"""P&L grid (DOMAIN.md §7.3): P&L lines as rows, the 12 months, Total and % of IR as columns.

Views: the figures, the basis, or the variance against the basis in $ or %; variance cells
with |%| ≥ 7.5% are bold and negative ones red (flags computed by ``domain/pnl.py``).
"""

from __future__ import annotations

from dashboard.domain import pnl

VIEWS = {
    "values": "Figures",
    "basis": "Basis",
    "variance_amount": "Variance $",
    "variance_pct": "Variance %",
}


def _cell(line: dict, view: str, index: int | None):
    """Value and (bold, negative) flags of one month (``index``) or of the total (None)."""
    if view == "values":
        return (line["total"] if index is None else line["values"][index]), False, False
    if view == "basis":
        if "basis" not in line:
            return None, False, False
        return (line["basis_total"] if index is None else line["basis"][index]), False, False
    variance = (
        line.get("total_variance")
        if index is None
        else (line.get("variance") or [None] * 12)[index]
    )
    if not variance:
        return None, False, False
    value = variance["amount"] if view == "variance_amount" else variance["fraction"]
    return value, bool(variance["bold"]), bool(variance["negative"])


def rows(result: dict, view: str) -> list[dict]:
    table = []
    for line in result["lines"]:
        row = {"row_id": line["line"], "line": line["line"], "label": line["label"]}
        for i in range(12):
            value, bold, negative = _cell(line, view, i)
            row[f"m{i + 1}"], row[f"m{i + 1}_bold"], row[f"m{i + 1}_neg"] = value, bold, negative
        value, bold, negative = _cell(line, view, None)
        row["total"], row["total_bold"], row["total_neg"] = value, bold, negative
        row["pct_of_ir"] = line.get("pct_of_ir") if view == "values" else None
        row["percent_view"] = view == "variance_pct"
        table.append(row)
    return table


def column_defs(result: dict) -> list[dict]:
    formatter = {
        "function": "params.data.percent_view ? formatPercent(params.value) : "
        "formatMoney(params.value)"
    }
    columns = [{"field": "label", "headerName": "Line", "pinned": "left", "minWidth": 210}]
    for month in result["months"]:
        key = f"m{month['month']}"
        columns.append(
            {
                "field": key,
                "headerName": f"{month['label']}{' (A)' if month['actual'] else ''}",
                "headerTooltip": "Actual" if month["actual"] else "Forecast",
                "type": "rightAligned",
                "minWidth": 96,
                "valueFormatter": formatter,
                "cellClassRules": {
                    "cell-bold": f"params.data.{key}_bold === true",
                    "cell-negative": f"params.data.{key}_neg === true",
                    "cell-actual": "true" if month["actual"] else "false",
                },
            }
        )
    columns.append(
        {
            "field": "total",
            "headerName": "Total",
            "type": "rightAligned",
            "minWidth": 110,
            "valueFormatter": formatter,
            "cellClassRules": {
                "cell-bold": "params.data.total_bold === true",
                "cell-negative": "params.data.total_neg === true",
                "cell-total": "true",
            },
        }
    )
    columns.append(
        {
            "field": "pct_of_ir",
            "headerName": "% of IR",
            "type": "rightAligned",
            "minWidth": 80,
            "valueFormatter": {"function": "formatPercent(params.value)"},
        }
    )
    return columns


def site_rows(sites: list[dict], month: int | None) -> list[dict]:
    """Drill-down: the sites behind one line, for one month (or the year), largest variance
    first."""
    table = []
    for site in sites:
        value = site["total"] if month is None else site["values"][month - 1]
        basis = site["basis_total"] if month is None else site["basis"][month - 1]
        delta, fraction = pnl.variance(value, basis)
        table.append(
            {
                "row_id": str(site["site_id"]),
                "site": f"{site['site_number']} · {site['name']}",
                "value": value,
                "basis": basis,
                "variance": delta,
                "variance_pct": fraction,
            }
        )
    return sorted(table, key=lambda r: -abs(r["variance"]))
