"""Export builders: columns from grid defs, filter descriptions, CSV, Excel and the HTML report."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from decimal import Decimal

import plotly.graph_objects as go
import pytest
from openpyxl import load_workbook

from dashboard.components.grid import column
from dashboard.services.exports import (
    ExportColumn,
    ReportSection,
    Sheet,
    columns_from_defs,
    filter_model_lines,
    report_html,
    to_csv,
    to_xlsx,
    xlsx_header_row,
)

COLUMNS = [
    ExportColumn("site", "Site"),
    ExportColumn("revenue", "External revenue", "money"),
    ExportColumn("cars", "Cars", "count"),
    ExportColumn("margin", "Margin", "percent"),
    ExportColumn("day", "Day", "date"),
]
ROWS = [
    {
        "site": "Harbor Garage",
        "revenue": 1234.567,
        "cars": 1500,
        "margin": 0.075,
        "day": dt.date(2026, 12, 1),
    },
    {
        "site": '=HYPERLINK("http://evil")',
        "revenue": -250.0,
        "cars": float("nan"),
        "margin": None,
        "day": "2026-12-02",
    },
    {"site": "<script>alert(1)</script>", "revenue": None, "cars": 3, "margin": -0.1234},
]
TOTALS = {"revenue": 984.567, "cars": 1503, "margin": 0.05}
CONTEXT = [
    ("Filters", "District = North; Month = 2026-12"),
    ("Exported", "2026-11-24 10:03 by dm03@example.com"),
]


# --- columns_from_defs -----------------------------------------------------------------------


def test_columns_from_defs_flattens_groups_and_skips_hidden_and_selection_columns():
    defs = [
        {"field": "select", "headerName": "", "checkboxSelection": True, "maxWidth": 50},
        {"headerName": "", "checkboxSelection": True},
        column("site_link", "Site", checkboxSelection=True, headerCheckboxSelection=True),
        column("site_id", "Site id", "count", hide=True),
        {"headerName": "Actions", "cellRenderer": "Button"},  # no field
        {
            "headerName": "Budget",
            "children": [
                column("budget_revenue", "Revenue", "money"),
                column("budget_margin", "Margin", "percent"),
                column("budget_hidden", "Hidden", "money", hide=True),
            ],
        },
        column("cars", "Cars", "count"),
        {"field": "label", "headerName": "Line"},
        {"field": "rate", "valueFormatter": {"function": "formatRate(params.value)"}},
        column("pct", "% of IR", "money", exportKind="percent"),
        {"field": "month", "headerName": "Month", "exportKind": "date"},
    ]
    assert columns_from_defs(defs) == [
        ExportColumn("site_link", "Site", "text"),
        ExportColumn("budget_revenue", "Budget – Revenue", "money"),
        ExportColumn("budget_margin", "Budget – Margin", "percent"),
        ExportColumn("cars", "Cars", "count"),
        ExportColumn("label", "Line", "text"),
        ExportColumn("rate", "rate", "money"),
        ExportColumn("pct", "% of IR", "percent"),
        ExportColumn("month", "Month", "date"),
    ]


def test_columns_from_defs_nested_groups_and_hidden_group():
    defs = [
        {
            "headerName": "2026",
            "children": [
                {"headerName": "Q4", "children": [column("dec", "Dec", "money")]},
            ],
        },
        {"headerName": "Gone", "hide": True, "children": [column("x", "X")]},
    ]
    assert columns_from_defs(defs) == [ExportColumn("dec", "2026 – Q4 – Dec", "money")]


def test_export_column_rejects_unknown_kind():
    with pytest.raises(ValueError):
        ExportColumn("x", "X", "currency")


# --- filter_model_lines ----------------------------------------------------------------------

FILTER_COLUMNS = [
    ExportColumn("site", "Site"),
    ExportColumn("flc", "FLC", "money"),
    ExportColumn("margin", "Margin", "percent"),
    ExportColumn("cars", "Cars", "count"),
]


def test_filter_model_lines_text_and_number_use_headers_in_column_order():
    model = {
        "flc": {"filterType": "number", "type": "greaterThanOrEqual", "filter": 1000},
        "site": {"filterType": "text", "type": "contains", "filter": "Harbor"},
        "cars": {"filterType": "number", "type": "notEqual", "filter": 12.5},
        "margin": {"filterType": "number", "type": "lessThan", "filter": 0.075},
    }
    assert filter_model_lines(model, FILTER_COLUMNS) == [
        "Site contains “Harbor”",
        "FLC ≥ 1,000",
        "Margin < 7.5%",
        "Cars ≠ 12.5",
    ]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"type": "equals", "filter": "Harbor"}, "Site is “Harbor”"),
        ({"type": "notEqual", "filter": "Harbor"}, "Site is not “Harbor”"),
        ({"type": "notContains", "filter": "Lot"}, "Site does not contain “Lot”"),
        ({"type": "startsWith", "filter": "H"}, "Site starts with “H”"),
        ({"type": "endsWith", "filter": "Garage"}, "Site ends with “Garage”"),
        ({"type": "blank"}, "Site is blank"),
        ({"type": "notBlank"}, "Site is not blank"),
    ],
)
def test_filter_model_lines_text_operators(condition, expected):
    model = {"site": {"filterType": "text", **condition}}
    assert filter_model_lines(model, FILTER_COLUMNS) == [expected]


def test_filter_model_lines_in_range_and_combined_conditions():
    model = {
        "flc": {"filterType": "number", "type": "inRange", "filter": 1000, "filterTo": 25000.5},
        "site": {
            "filterType": "text",
            "operator": "OR",
            "conditions": [
                {"filterType": "text", "type": "contains", "filter": "Harbor"},
                {"filterType": "text", "type": "startsWith", "filter": "Pier"},
            ],
        },
        "cars": {
            "filterType": "number",
            "operator": "AND",
            "conditions": [
                {"filterType": "number", "type": "greaterThan", "filter": 10},
                {"filterType": "number", "type": "lessThanOrEqual", "filter": 2000},
            ],
        },
    }
    assert filter_model_lines(model, FILTER_COLUMNS) == [
        "Site contains “Harbor” OR Site starts with “Pier”",
        "FLC between 1,000 and 25,000.5",
        "Cars > 10 AND Cars ≤ 2,000",
    ]


def test_filter_model_lines_unknown_shapes_degrade_to_json():
    model = {
        "site": {"filterType": "text", "type": "fuzzyMatch", "filter": "Harb"},
        "zone": {"filterType": "custom", "whatever": [1, 2]},
        "flc": "not a dict",
    }
    assert filter_model_lines(model, FILTER_COLUMNS) == [
        'Site: {"filterType": "text", "type": "fuzzyMatch", "filter": "Harb"}',
        'FLC: "not a dict"',
        'zone: {"filterType": "custom", "whatever": [1, 2]}',
    ]


def test_filter_model_lines_empty():
    assert filter_model_lines(None, FILTER_COLUMNS) == []
    assert filter_model_lines({}, FILTER_COLUMNS) == []


# --- to_csv ----------------------------------------------------------------------------------


def _csv_table(text: str) -> list[list[str]]:
    body = [line for line in text.split("\n") if not line.startswith("#")]
    return list(csv.reader(io.StringIO("\n".join(body))))


def test_to_csv_header_lines_then_table():
    text = to_csv("Revenue by site", CONTEXT, COLUMNS, ROWS, TOTALS)
    lines = text.split("\n")
    assert lines[:3] == [
        "# Revenue by site",
        "# Filters: District = North; Month = 2026-12",
        "# Exported: 2026-11-24 10:03 by dm03@example.com",
    ]
    assert lines[3] == "Site,External revenue,Cars,Margin (%),Day"
    assert "\r" not in text
    assert text.endswith("\n")


def test_to_csv_values_percent_nan_injection_and_totals():
    table = _csv_table(to_csv("Revenue by site", CONTEXT, COLUMNS, ROWS, TOTALS))
    assert table[1] == ["Harbor Garage", "1234.57", "1500", "7.5", "2026-12-01"]
    # Formula text is quoted; NaN and None become empty cells; a negative number stays a number.
    assert table[2] == ['\'=HYPERLINK("http://evil")', "-250.00", "", "", "2026-12-02"]
    assert table[3] == ["<script>alert(1)</script>", "", "3", "-12.34", ""]
    assert table[4] == ["Total", "984.57", "1503", "5", ""]
    assert len(table) == 5


@pytest.mark.parametrize("text", ["+1", "-1+2", "@SUM(A1)", "\tx", "\rx", "=1"])
def test_to_csv_guards_every_formula_prefix(text):
    table = _csv_table(to_csv("t", [], [ExportColumn("a", "A")], [{"a": text}]))
    assert table[1] == ["'" + text.replace("\r", "\n")]


def test_to_csv_line_breaks_inside_values_stay_inside_one_quoted_field():
    text = to_csv(
        "t", [], [ExportColumn("a", "A"), ExportColumn("b", "B")], [{"a": "x\ry", "b": 1}]
    )
    rows = list(csv.reader(io.StringIO(text.split("\n", 1)[1])))
    assert rows == [["A", "B"], ["x\ny", "1"]]


def test_to_csv_numeric_types_and_no_totals():
    cols = [ExportColumn("m", "M", "money"), ExportColumn("c", "C", "count")]
    rows = [
        {"m": Decimal("10.005"), "c": 2.0},
        {"m": "12.5", "c": "n/a"},
        {},
        {"m": float("inf"), "c": Decimal("NaN")},
    ]
    table = _csv_table(to_csv("t", [], cols, rows))
    assert table[1:] == [["10.01", "2"], ["12.50", "n/a"], ["", ""], ["", ""]]


def test_to_csv_context_newlines_stay_in_comment():
    text = to_csv("Line\none", [("Note", "a\nb")], [ExportColumn("a", "A")], [])
    assert text.split("\n")[:3] == ["# Line one", "# Note: a b", "A"]


# --- to_xlsx ---------------------------------------------------------------------------------


def _sheet(**extra) -> Sheet:
    values = {
        "name": "Revenue",
        "title": "Revenue by site",
        "context": CONTEXT,
        "columns": COLUMNS,
        "rows": ROWS,
        "totals": TOTALS,
    }
    return Sheet(**{**values, **extra})


def test_to_xlsx_layout_values_and_formats():
    sheet = _sheet()
    workbook = load_workbook(io.BytesIO(to_xlsx([sheet])))
    ws = workbook["Revenue"]
    assert workbook.properties.title == "Revenue by site"

    assert ws["A1"].value == "Revenue by site"
    assert ws["A1"].font.bold and ws["A1"].font.size == 14
    assert (ws["A2"].value, ws["B2"].value) == CONTEXT[0]
    assert (ws["A3"].value, ws["B3"].value) == CONTEXT[1]
    assert ws["A2"].font.bold and not ws["B2"].font.bold
    assert ws["A4"].value is None

    header = xlsx_header_row(sheet)
    assert header == 5
    assert [c.value for c in ws[header]] == ["Site", "External revenue", "Cars", "Margin", "Day"]
    for cell in ws[header]:
        assert cell.font.bold
        assert cell.alignment.wrap_text
        assert cell.border.bottom.style == "thin"
        assert cell.fill.fill_type == "solid"

    first = [c.value for c in ws[header + 1]]
    assert first[:4] == ["Harbor Garage", 1234.567, 1500, 0.075]
    assert first[4] == dt.datetime(2026, 12, 1)
    assert ws.cell(header + 1, 2).number_format == '"$"#,##0.00;[Red]-"$"#,##0.00'
    assert ws.cell(header + 1, 3).number_format == "#,##0"
    assert ws.cell(header + 1, 4).number_format == "0.0%"
    assert ws.cell(header + 1, 5).number_format == "yyyy-mm-dd"

    second = [c.value for c in ws[header + 2]]
    # Formula text stays text; NaN and None are empty; an ISO date string becomes a date.
    assert second == ['=HYPERLINK("http://evil")', -250.0, None, None, dt.datetime(2026, 12, 2)]
    assert ws.cell(header + 2, 1).data_type == "s"
    assert ws.cell(header + 3, 4).value == -0.1234

    last_data = header + len(ROWS)
    assert ws.auto_filter.ref == f"A{header}:E{last_data}"
    assert ws.freeze_panes == f"A{header + 1}"

    totals_row = ws.max_row
    assert totals_row > last_data
    assert [c.value for c in ws[totals_row]] == ["Total", 984.567, 1503, 0.05, None]
    assert all(c.font.bold for c in ws[totals_row])
    assert ws.cell(totals_row, 4).number_format == "0.0%"

    widths = {k: v.width for k, v in ws.column_dimensions.items()}
    assert widths["A"] >= len('=HYPERLINK("http://evil")')
    assert all(w <= 50 for w in widths.values())


def test_to_xlsx_without_totals_or_rows():
    sheet = _sheet(rows=[], totals=None, context=[])
    ws = load_workbook(io.BytesIO(to_xlsx([sheet]))).active
    header = xlsx_header_row(sheet)
    assert header == 3
    assert ws.max_row == header
    assert ws.auto_filter.ref == f"A{header}:E{header}"


def test_to_xlsx_caps_column_width():
    sheet = _sheet(rows=[{"site": "x" * 300}], totals=None)
    ws = load_workbook(io.BytesIO(to_xlsx([sheet]))).active
    assert ws.column_dimensions["A"].width == 50


def test_to_xlsx_sheet_names_are_valid_and_unique():
    names = [
        "P&L: North/South [2026]?",
        "A very long district name that goes on and on",
        "A very long district name that goes on and on",
        "revenue",
        "Revenue",
        "",
    ]
    data = to_xlsx([_sheet(name=n) for n in names])
    sheetnames = load_workbook(io.BytesIO(data)).sheetnames
    assert len(sheetnames) == len(names)
    assert len({n.casefold() for n in sheetnames}) == len(names)
    for name in sheetnames:
        assert 0 < len(name) <= 31
        assert not re.search(r"[\[\]:*?/\\]", name)
    assert sheetnames[0] == "P&L- North-South -2026--"
    assert sheetnames[1] == "A very long district name that"
    assert sheetnames[2].endswith(" (2)") and len(sheetnames[2]) <= 31
    assert sheetnames[3:] == ["revenue", "Revenue (2)", "Sheet"]


def test_to_xlsx_needs_a_sheet():
    with pytest.raises(ValueError):
        to_xlsx([])


# --- report_html -----------------------------------------------------------------------------


def _figure(name: str) -> go.Figure:
    return go.Figure(go.Bar(x=["a", "b"], y=[1, 2], name=name))


def test_report_html_document_escaping_and_tables():
    page = report_html(
        "Revenue <North>",
        [("Filters", "Site contains “<b>”"), *CONTEXT[1:]],
        [
            ReportSection(
                "Sites & totals",
                columns=COLUMNS,
                rows=ROWS,
                totals=TOTALS,
                note="Note <i>here</i>",
            )
        ],
    )
    assert page.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in page
    assert "<title>Revenue &lt;North&gt;</title>" in page
    assert "<dt>Filters</dt><dd>Site contains “&lt;b&gt;”</dd>" in page
    assert "<h2>Sites &amp; totals</h2>" in page
    assert '<p class="note">Note &lt;i&gt;here&lt;/i&gt;</p>' in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page

    assert "<thead><tr>" in page
    assert '<th scope="col" class="num">External revenue</th>' in page
    assert '<td class="num">$1,235</td>' in page
    assert '<td class="num negative">-$250</td>' in page
    assert '<td class="num">1,500</td>' in page
    assert '<td class="num">7.5%</td>' in page
    assert '<td class="num negative">-12.3%</td>' in page
    assert '<td class="num">n/a</td>' in page
    assert "<td>2026-12-01</td>" in page
    assert "<tfoot><tr><td>Total</td>" in page
    assert "$985" in page


def test_report_html_print_css_and_button():
    page = report_html("R", [], [ReportSection("One"), ReportSection("Two")])
    assert "@page { size: landscape; margin: 12mm; }" in page
    assert "@media print" in page
    assert "break-before: page" in page
    assert "thead { display: table-header-group; }" in page
    assert "break-inside: avoid" in page
    assert "text-align: right" in page
    assert '<button type="button" onclick="window.print()">Print</button>' in page
    assert re.search(r"\.no-print \{ display: none", page)
    assert 'class="toolbar no-print"' in page
    assert page.count('<section class="report-section">') == 2


def test_report_html_bundles_plotly_js_once():
    bundle_marker = "window.PlotlyConfig = {MathJaxConfig: 'local'};"
    page = report_html(
        "Charts",
        [],
        [
            ReportSection("No chart"),
            ReportSection("First", figure=_figure("first")),
            ReportSection("Second", figure=_figure("</script><script>alert(2)</script>")),
        ],
    )
    assert page.count(bundle_marker) == 1
    assert len(re.findall(r"\* plotly\.js v\d", page)) == 1
    # Both figures are drawn, and the bundle comes before the first one.
    assert page.count("Plotly.newPlot(") == 2
    assert page.index(bundle_marker) < page.index("Plotly.newPlot(")
    assert "<script>alert(2)</script>" not in page
    assert '"displayModeBar": false' in page


def test_report_html_empty_table_and_nan():
    page = report_html(
        "R",
        [],
        [ReportSection("Empty", columns=COLUMNS, rows=[]), ReportSection("NaN", columns=COLUMNS)],
    )
    assert page.count("No rows.") == 2
