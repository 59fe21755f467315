"""Downloadable files from a table: CSV, an Excel workbook and a print-ready HTML report.

Pure builders: they take column descriptions and plain row dicts (what a grid shows) and return
text or bytes; no database, no Dash. Callers load the scoped rows through a service and hand
them over with the context (filters, who exported and when) that the file must state.

Workbooks are written with openpyxl: it is well kept, writes real formatted workbooks (number
formats, bold and filled headers, autofilter, frozen panes, column widths, document properties)
without Excel installed, and reads them back, so tests can check what a user will open. Values
stay numbers (percentages stay fractions with a ``0.0%`` format) so sums and formulas work.
"""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

if TYPE_CHECKING:
    from plotly.graph_objects import Figure

KINDS = ("text", "money", "count", "percent", "date")
NUMERIC_KINDS = ("money", "count", "percent")

# The grid's JS formatters (assets/dashAgGridFunctions.js) and the kind each one implies.
# Checked in this order, so a formatter that switches per row ("percent_view ? formatPercent :
# formatMoney") exports as its money majority; give such a column an explicit "exportKind".
_FORMATTER_KINDS = (
    ("formatMoney", "money"),
    ("formatRate", "money"),
    ("formatPercent", "percent"),
    ("formatAccuracy", "percent"),
    ("formatCount", "count"),
)

XLSX_FORMATS = {
    "money": '"$"#,##0.00;[Red]-"$"#,##0.00',
    "count": "#,##0",
    "percent": "0.0%",
    "date": "yyyy-mm-dd",
}

# Cells starting with these are run as formulas by spreadsheet programs (CSV injection).
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
_MAX_WIDTH = 50


@dataclass(frozen=True)
class ExportColumn:
    """One exported column: the row key, the header shown and how values are formatted."""

    field: str
    header: str
    kind: str = "text"

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Unknown column kind {self.kind!r}; expected one of {KINDS}.")


@dataclass
class Sheet:
    """One worksheet of a workbook export."""

    name: str
    title: str
    context: list[tuple[str, str]]
    columns: list[ExportColumn]
    rows: list[dict]
    totals: dict | None = None


@dataclass
class ReportSection:
    """One section of the HTML report: a heading, an optional note, figure and table."""

    heading: str
    figure: Figure | None = None
    columns: list[ExportColumn] | None = None
    rows: list[dict] | None = None
    totals: dict | None = None
    note: str = ""


# ---------------------------------------------------------------------------------------------
# Column definitions and filter models from the grid


def _kind_of(column_def: dict) -> str:
    explicit = column_def.get("exportKind")
    if explicit in KINDS:
        return explicit
    formatter = column_def.get("valueFormatter")
    text = formatter.get("function", "") if isinstance(formatter, dict) else str(formatter or "")
    for name, kind in _FORMATTER_KINDS:
        if name in text:
            return kind
    return "text"


def _is_selection_only(column_def: dict) -> bool:
    # A checkbox column without a title exists only to select rows. A titled data column that
    # also carries the checkbox (the review grid's "Site") is still exported.
    return bool(column_def.get("checkboxSelection")) and not column_def.get("headerName")


def columns_from_defs(column_defs: list[dict]) -> list[ExportColumn]:
    """Export columns from AG Grid ``columnDefs`` as the grid factory makes them.

    Column groups are flattened ("Group – Child"); columns without a field, hidden ones and
    selection checkbox columns are left out. The kind comes from the value formatter unless the
    def carries an explicit ``"exportKind"``.
    """
    columns: list[ExportColumn] = []

    def walk(defs: list[dict], prefix: str) -> None:
        for column_def in defs:
            if column_def.get("hide") is True:
                continue
            header = str(column_def.get("headerName") or column_def.get("field") or "")
            label = f"{prefix} – {header}" if prefix and header else (prefix or header)
            if "children" in column_def:
                walk(column_def.get("children") or [], label)
                continue
            field = column_def.get("field")
            if not field or _is_selection_only(column_def):
                continue
            columns.append(ExportColumn(str(field), label, _kind_of(column_def)))

    walk(column_defs, "")
    return columns


_TEXT_OPERATORS = {
    "contains": "contains",
    "notContains": "does not contain",
    "equals": "is",
    "notEqual": "is not",
    "startsWith": "starts with",
    "endsWith": "ends with",
}
_NUMBER_OPERATORS = {
    "equals": "=",
    "notEqual": "≠",
    "greaterThan": ">",
    "greaterThanOrEqual": "≥",
    "lessThan": "<",
    "lessThanOrEqual": "≤",
}


def _filter_number(value: Any, kind: str) -> str:
    number = _number(value)
    if number is None:
        return f"“{value}”"
    if kind == "percent":
        return f"{_plain(round(float(number) * 100, 2))}%"
    return f"{float(number):,.2f}".rstrip("0").rstrip(".")


def _filter_date(value: Any) -> str:
    # The date filter sends "YYYY-MM-DD HH:MM:SS"; the time part is always midnight.
    return str(value).split(" ")[0]


def _condition_text(header: str, condition: dict, kind: str) -> str | None:
    """One filter condition as words, or None when its shape is not one we know."""
    operator = condition.get("type")
    filter_type = condition.get("filterType")
    if operator == "blank":
        return f"{header} is blank"
    if operator == "notBlank":
        return f"{header} is not blank"
    if filter_type == "set" and isinstance(condition.get("values"), list):
        values = ", ".join(f"“{v}”" for v in condition["values"])
        return f"{header} is one of {values}" if values else f"{header} is none of the values"
    if filter_type == "date" or "dateFrom" in condition:
        start, end = condition.get("dateFrom"), condition.get("dateTo")
        if operator == "inRange" and start and end:
            return f"{header} between {_filter_date(start)} and {_filter_date(end)}"
        words = {"equals": "on", "notEqual": "not on", "greaterThan": "after", "lessThan": "before"}
        if operator in words and start:
            return f"{header} {words[operator]} {_filter_date(start)}"
        return None
    if "filter" not in condition:
        return None
    value = condition["filter"]
    if filter_type == "number" or (filter_type is None and _number(value) is not None):
        if operator == "inRange" and "filterTo" in condition:
            low, high = _filter_number(value, kind), _filter_number(condition["filterTo"], kind)
            return f"{header} between {low} and {high}"
        if operator in _NUMBER_OPERATORS:
            return f"{header} {_NUMBER_OPERATORS[operator]} {_filter_number(value, kind)}"
        return None
    if operator in _TEXT_OPERATORS:
        return f"{header} {_TEXT_OPERATORS[operator]} “{value}”"
    return None


def _model_text(header: str, model: Any, kind: str) -> str | None:
    if not isinstance(model, dict):
        return None
    conditions = model.get("conditions")
    if conditions is None and "condition1" in model:  # the older two-condition shape
        conditions = [model.get("condition1"), model.get("condition2")]
    if isinstance(conditions, list):
        operator = str(model.get("operator") or "AND").upper()
        parts = [
            _condition_text(header, {"filterType": model.get("filterType"), **c}, kind)
            for c in conditions
            if isinstance(c, dict)
        ]
        if not parts or any(part is None for part in parts):
            return None
        return f" {operator} ".join(parts)  # type: ignore[arg-type]
    return _condition_text(header, model, kind)


def filter_model_lines(filter_model: dict | None, columns: list[ExportColumn]) -> list[str]:
    """Human-readable lines for an AG Grid ``filterModel``, one per filtered column.

    Uses the column headers, in column order; a shape we do not know is shown as
    ``"Header: <json>"`` rather than raising.
    """
    if not filter_model:
        return []
    by_field = {c.field: c for c in columns}
    order = [c.field for c in columns if c.field in filter_model]
    order += [f for f in filter_model if f not in by_field]
    lines = []
    for field in order:
        column = by_field.get(field)
        header = column.header if column else str(field)
        model = filter_model[field]
        try:
            text = _model_text(header, model, column.kind if column else "text")
        except (TypeError, ValueError, AttributeError):
            text = None
        if text is None:
            text = f"{header}: {json.dumps(model, default=str, ensure_ascii=False)}"
        lines.append(text)
    return lines


# ---------------------------------------------------------------------------------------------
# Values


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float | Decimal):
        return not math.isfinite(value)  # NaN, and infinities no cell can show
    try:
        return bool(value != value)  # NaN and NaT are the only values unequal to themselves
    except (TypeError, ValueError):
        return True  # pandas.NA refuses to become a bool


def _number(value: Any) -> int | float | Decimal | None:
    """The value as a number, or None when it is not one (text, bools, missing)."""
    if isinstance(value, bool) or _is_missing(value):
        return None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        return value if value.is_finite() else None
    if hasattr(value, "item"):  # numpy scalars
        return _number(value.item())
    if isinstance(value, str) and value.strip():
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _plain(number: float | int) -> str:
    """A number without a useless ".0" and without exponent notation for ordinary sizes."""
    if isinstance(number, float) and number.is_integer():
        return str(int(number))
    return str(number)


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.datetime.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _date_text(value: dt.date) -> str:
    if isinstance(value, dt.datetime):
        if value.time() == dt.time.min:
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes")
    return value.isoformat()


def _guard_formula(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_PREFIXES) else text


def _one_line(text: str) -> str:
    return " ".join(str(text).splitlines())


# ---------------------------------------------------------------------------------------------
# CSV


def _csv_cell(value: Any, kind: str) -> str:
    if _is_missing(value) or (kind != "text" and value == ""):
        return ""
    number = _number(value) if kind in NUMERIC_KINDS else None
    if number is not None:
        if kind == "money":
            return f"{float(number):.2f}"
        if kind == "percent":
            return _plain(round(float(number) * 100, 2))
        return _plain(round(float(number), 6)) if not isinstance(number, int) else str(number)
    if kind == "date" and (date := _as_date(value)) is not None:
        return _date_text(date)
    if isinstance(value, dt.date):
        return _date_text(value)
    # The writer quotes only fields holding its "\n" line ending; a bare CR must become one.
    return _guard_formula(str(value)).replace("\r\n", "\n").replace("\r", "\n")


def _csv_header(column: ExportColumn) -> str:
    header = f"{column.header} (%)" if column.kind == "percent" else column.header
    return _guard_formula(header)


def _totals_values(columns: list[ExportColumn], totals: dict) -> list[tuple[ExportColumn, Any]]:
    values = [(c, totals.get(c.field)) for c in columns]
    if values and _is_missing(values[0][1]):
        values[0] = (ExportColumn(columns[0].field, columns[0].header, "text"), "Total")
    return values


def to_csv(
    title: str,
    context: list[tuple[str, str]],
    columns: list[ExportColumn],
    rows: list[dict],
    totals: dict | None = None,
) -> str:
    """CSV with ``# title`` and ``# key: value`` context lines above the header row.

    Money is rounded to cents, percentages are written as percentage numbers ("7.5", header
    suffixed " (%)"), missing values are empty and text that a spreadsheet would run as a
    formula is prefixed with a quote. The totals row, if any, comes last.
    """
    out = io.StringIO()
    out.write(f"# {_one_line(title)}\n")
    for key, value in context:
        out.write(f"# {_one_line(key)}: {_one_line(value)}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([_csv_header(c) for c in columns])
    for row in rows:
        writer.writerow([_csv_cell(row.get(c.field), c.kind) for c in columns])
    if totals is not None:
        writer.writerow([_csv_cell(v, c.kind) for c, v in _totals_values(columns, totals)])
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# Excel

_TITLE_FONT = Font(bold=True, size=14)
_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_HEADER_BORDER = Border(bottom=Side(style="thin", color="808080"))


def xlsx_header_row(sheet: Sheet) -> int:
    """The 1-based row of the table header: title, context rows, one blank row, header."""
    return len(sheet.context) + 3


def _sheet_names(names: list[str]) -> list[str]:
    """Names Excel accepts: no []:*?/\\, not quoted at the ends, ≤ 31 characters, unique."""
    used: set[str] = set()
    result = []
    for raw in names:
        base = _SHEET_NAME_BAD.sub("-", str(raw)).strip().strip("'").strip() or "Sheet"
        base = base[:31].rstrip().rstrip("'") or "Sheet"
        name, n = base, 1
        while name.casefold() in used:
            n += 1
            suffix = f" ({n})"
            name = base[: 31 - len(suffix)].rstrip() + suffix
        used.add(name.casefold())
        result.append(name)
    return result


def _xlsx_value(value: Any, kind: str) -> Any:
    if _is_missing(value) or (kind != "text" and value == ""):
        return None
    if kind in NUMERIC_KINDS and (number := _number(value)) is not None:
        return number
    if kind == "date" and (date := _as_date(value)) is not None:
        value = date
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.replace(tzinfo=None)  # Excel has no time zones; keep the wall-clock time
    if isinstance(value, dt.date | int | float | Decimal) and not isinstance(value, bool):
        return None if _number(value) is None and not isinstance(value, dt.date) else value
    if hasattr(value, "item"):
        return value.item()
    return ILLEGAL_CHARACTERS_RE.sub("", str(value))


def _display_width(value: Any, kind: str) -> int:
    if value is None:
        return 0
    if kind == "money" and isinstance(value, int | float | Decimal):
        return len(f"${float(value):,.2f}") + 1
    if kind == "percent" and isinstance(value, int | float | Decimal):
        return len(f"{float(value) * 100:.1f}%")
    if kind == "count" and isinstance(value, int | float | Decimal):
        return len(f"{float(value):,.0f}")
    if isinstance(value, dt.date):
        return 10 if kind == "date" or not isinstance(value, dt.datetime) else 16
    return max((len(line) for line in str(value).splitlines()), default=0)


def _write_cell(ws: Any, row: int, col: int, value: Any, kind: str) -> Any:
    cell = ws.cell(row=row, column=col, value=value)
    if isinstance(value, str):
        # openpyxl stores any text starting with "=" as a formula; data is never a formula.
        cell.data_type = "s"
    elif kind in XLSX_FORMATS and value is not None:
        cell.number_format = XLSX_FORMATS[kind]
    return cell


def _write_sheet(ws: Any, sheet: Sheet) -> None:
    _write_cell(
        ws, 1, 1, ILLEGAL_CHARACTERS_RE.sub("", str(sheet.title)), "text"
    ).font = _TITLE_FONT
    for i, (key, value) in enumerate(sheet.context, start=2):
        _write_cell(ws, i, 1, ILLEGAL_CHARACTERS_RE.sub("", str(key)), "text").font = _BOLD
        _write_cell(ws, i, 2, ILLEGAL_CHARACTERS_RE.sub("", str(value)), "text")

    header_row = xlsx_header_row(sheet)
    widths = [len(c.header) for c in sheet.columns]
    for col, column in enumerate(sheet.columns, start=1):
        cell = _write_cell(ws, header_row, col, column.header, "text")
        cell.font = _BOLD
        cell.fill = _HEADER_FILL
        cell.border = _HEADER_BORDER
        cell.alignment = Alignment(
            wrap_text=True,
            vertical="bottom",
            horizontal="right" if column.kind in NUMERIC_KINDS else "left",
        )

    for r, row in enumerate(sheet.rows, start=header_row + 1):
        for col, column in enumerate(sheet.columns, start=1):
            value = _xlsx_value(row.get(column.field), column.kind)
            _write_cell(ws, r, col, value, column.kind)
            widths[col - 1] = max(widths[col - 1], _display_width(value, column.kind))

    last_data_row = header_row + len(sheet.rows)
    if sheet.columns:
        last_col = get_column_letter(len(sheet.columns))
        ws.auto_filter.ref = f"A{header_row}:{last_col}{last_data_row}"
    ws.freeze_panes = f"A{header_row + 1}"

    if sheet.totals is not None and sheet.columns:
        # One blank row keeps the totals out of the filter range and out of Excel's "current
        # region" when a user re-applies the filter or sorts.
        totals_row = last_data_row + 2
        for col, (column, raw) in enumerate(_totals_values(sheet.columns, sheet.totals), start=1):
            value = _xlsx_value(raw, column.kind)
            _write_cell(ws, totals_row, col, value, column.kind).font = _BOLD
            widths[col - 1] = max(widths[col - 1], _display_width(value, column.kind))

    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = min(max(width + 2, 8), _MAX_WIDTH)


def to_xlsx(sheets: list[Sheet]) -> bytes:
    """An .xlsx workbook with one formatted, filterable table per sheet."""
    if not sheets:
        raise ValueError("A workbook needs at least one sheet.")
    workbook = Workbook()
    workbook.remove(workbook.active)
    for sheet, name in zip(sheets, _sheet_names([s.name for s in sheets]), strict=True):
        _write_sheet(workbook.create_sheet(title=name), sheet)
    workbook.properties.title = sheets[0].title
    workbook.properties.creator = "Site forecast dashboard"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------------------------------
# HTML report

_REPORT_CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif;
       color: #1a1b1e; margin: 24px; font-size: 13px; }
h1 { font-size: 22px; margin: 0 0 8px; }
h2 { font-size: 17px; margin: 24px 0 8px; }
dl.context { display: grid; grid-template-columns: max-content 1fr; gap: 2px 12px; margin: 0 0 16px; }
dl.context dt { font-weight: 600; }
dl.context dd { margin: 0; }
p.note { color: #495057; margin: 4px 0 8px; }
.figure { margin: 8px 0 12px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; }
th, td { border-bottom: 1px solid #dee2e6; padding: 4px 8px; text-align: left; vertical-align: top; }
thead th { background: #eef3fb; border-bottom: 2px solid #868e96; }
th.num, td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.negative { color: #c92a2a; }
tfoot td { font-weight: 700; border-top: 2px solid #868e96; }
.toolbar { margin: 0 0 16px; }
.toolbar button { font: inherit; padding: 6px 14px; cursor: pointer; }
@page { size: landscape; margin: 12mm; }
@media print {
  body { margin: 0; }
  .no-print { display: none !important; }
  thead { display: table-header-group; }
  tfoot { display: table-row-group; }
  tr, td, th { break-inside: avoid; page-break-inside: avoid; }
  h2 { break-after: avoid; page-break-after: avoid; }
  section.report-section + section.report-section { break-before: page; page-break-before: always; }
  .figure { break-inside: avoid; page-break-inside: avoid; }
}
"""


def _html_cell(value: Any, kind: str) -> tuple[str, bool]:
    """Display text for a report cell and whether it is negative."""
    if _is_missing(value) or (kind != "text" and value == ""):
        return ("" if kind == "text" else "n/a"), False
    number = _number(value) if kind in NUMERIC_KINDS else None
    if number is not None:
        x = float(number)
        if kind == "money":
            rounded = round(x)
            return ("-" if rounded < 0 else "") + f"${abs(rounded):,}", rounded < 0
        if kind == "percent":
            text = f"{x * 100:.1f}%"
            if text == "-0.0%":
                text = "0.0%"
            return text, text.startswith("-")
        text = f"{x:,.2f}".rstrip("0").rstrip(".")
        return text, x < 0
    if kind == "date" and (date := _as_date(value)) is not None:
        return _date_text(date), False
    if isinstance(value, dt.date):
        return _date_text(value), False
    return str(value), False


def _html_row(columns: list[ExportColumn], values: list[Any], tag: str = "td") -> str:
    cells = []
    for column, value in zip(columns, values, strict=True):
        text, negative = _html_cell(value, column.kind)
        classes = (["num"] if column.kind in NUMERIC_KINDS else []) + (
            ["negative"] if negative else []
        )
        attr = f' class="{" ".join(classes)}"' if classes else ""
        cells.append(f"<{tag}{attr}>{html.escape(text)}</{tag}>")
    return "<tr>" + "".join(cells) + "</tr>"


def _html_table(columns: list[ExportColumn], rows: list[dict], totals: dict | None) -> str:
    head = "".join(
        f'<th scope="col" class="num">{html.escape(c.header)}</th>'
        if c.kind in NUMERIC_KINDS
        else f'<th scope="col">{html.escape(c.header)}</th>'
        for c in columns
    )
    body = "\n".join(_html_row(columns, [row.get(c.field) for c in columns]) for row in rows)
    if not rows:
        body = f'<tr><td colspan="{max(len(columns), 1)}">No rows.</td></tr>'
    parts = ["<table>", f"<thead><tr>{head}</tr></thead>", f"<tbody>\n{body}\n</tbody>"]
    if totals is not None:
        pairs = _totals_values(columns, totals)
        row = _html_row([c for c, _ in pairs], [v for _, v in pairs])
        parts.append(f"<tfoot>{row}</tfoot>")
    parts.append("</table>")
    return "\n".join(parts)


def report_html(title: str, context: list[tuple[str, str]], sections: list[ReportSection]) -> str:
    """A complete, self-contained, print-ready HTML report (landscape pages).

    The first figure carries the plotly.js bundle inline, later figures reuse it; tables are
    formatted for reading and every text from data is escaped.
    """
    context_html = "\n".join(
        f"<dt>{html.escape(str(key))}</dt><dd>{html.escape(str(value))}</dd>"
        for key, value in context
    )
    parts = []
    bundled = False
    for section in sections:
        body = [f"<h2>{html.escape(section.heading)}</h2>"]
        if section.note:
            body.append(f'<p class="note">{html.escape(section.note)}</p>')
        if section.figure is not None:
            figure_html = section.figure.to_html(
                full_html=False,
                include_plotlyjs=not bundled,
                config={"displayModeBar": False, "staticPlot": False},
            )
            bundled = True
            body.append(f'<div class="figure">{figure_html}</div>')
        if section.columns:
            body.append(_html_table(section.columns, section.rows or [], section.totals))
        parts.append('<section class="report-section">\n' + "\n".join(body) + "\n</section>")
    sections_html = "\n".join(parts)
    escaped_title = html.escape(title)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escaped_title}</title>
<style>{_REPORT_CSS}</style>
</head>
<body>
<div class="toolbar no-print"><button type="button" onclick="window.print()">Print</button></div>
<h1>{escaped_title}</h1>
<dl class="context">
{context_html}
</dl>
{sections_html}
</body>
</html>
"""
