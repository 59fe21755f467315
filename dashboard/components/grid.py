"""Grid factory with the house column types (CONVENTIONS.md §6)."""

from __future__ import annotations

from typing import Any

import dash_ag_grid as dag

# Column types: how a column is aligned, formatted and styled.
COLUMN_TYPES: dict[str, dict[str, Any]] = {
    "text": {"cellClass": "cell-text"},
    "money": {
        "type": "rightAligned",
        "valueFormatter": {"function": "formatMoney(params.value)"},
        "cellClassRules": {"cell-negative": "params.value < 0"},
        "filter": "agNumberColumnFilter",
    },
    "count": {
        "type": "rightAligned",
        "valueFormatter": {"function": "formatCount(params.value)"},
        "filter": "agNumberColumnFilter",
    },
    "percent": {
        "type": "rightAligned",
        "valueFormatter": {"function": "formatPercent(params.value)"},
        "cellClassRules": {"cell-negative": "params.value < 0"},
        "filter": "agNumberColumnFilter",
    },
}

# Columns share the grid's width (AG Grid's column flex): they follow the grid's size as it
# changes, also when a grid in a hidden tab is shown, down to each column's minWidth (then the
# grid scrolls). dash-ag-grid's columnSize="responsiveSizeToFit" instead calls
# sizeColumnsToFit(), which finds a grid in a hidden tab 0 px wide (AG Grid warning #29).
# Pinned columns do not flex: they take this width or their minWidth if larger (what size to
# fit gave them), not AG Grid's 200 px.
FIT_WIDTH: dict[str, Any] = {"flex": 1, "width": 100}

# A grid keyed by row (selection, focus and scroll kept across updates) reads each row's
# string ``row_id``; every row it is given must have one (AG Grid warning #25 otherwise).
ROW_ID = "params.data.row_id"


def column(field: str, header: str, kind: str = "text", **extra: Any) -> dict[str, Any]:
    """A column definition of one of the house types (a column of a fixed ``width`` does not
    flex)."""
    if "width" in extra:
        extra.setdefault("flex", None)
    return {"field": field, "headerName": header, **COLUMN_TYPES[kind], **extra}


def with_row_ids(rows: list[dict[str, Any]], field: str) -> list[dict[str, Any]]:
    """Rows with a string ``row_id`` taken from ``field`` (the grid's expression evaluator has
    no String())."""
    return [{**row, "row_id": str(row[field])} for row in rows]


def data_grid(
    grid_id: str,
    columns: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    *,
    height: str | None = None,
    row_id_field: str | None = None,
    **extra: Any,
) -> dag.AgGrid:
    """A read-only, sortable, filterable, keyboard-navigable grid whose columns fill its
    width; keyed by ``row_id_field`` when given (``with_row_ids``)."""
    options: dict[str, Any] = {
        "animateRows": False,
        "enableCellTextSelection": True,
        "ensureDomOrder": True,  # screen readers and keyboard order follow the DOM
        "suppressCellFocus": False,
        "domLayout": "autoHeight" if height is None else "normal",
        **extra.pop("dashGridOptions", {}),
    }
    column_size = extra.pop("columnSize", None)
    defaults = {"sortable": True, "resizable": True, "filter": True, "minWidth": 90}
    if column_size is None:
        defaults.update(FIT_WIDTH)
    else:
        extra["columnSize"] = column_size
    if row_id_field:
        rows = with_row_ids(rows, row_id_field)
        extra.setdefault("getRowId", ROW_ID)
    return dag.AgGrid(
        id=grid_id,
        columnDefs=columns,
        rowData=rows,
        defaultColDef={**defaults, **extra.pop("defaultColDef", {})},
        dashGridOptions=options,
        className="ag-theme-quartz",
        style={"height": height} if height else {"width": "100%"},
        **extra,
    )


def empty_grid(grid_id: str, height: str | None = None, **extra: Any) -> dag.AgGrid:
    """A read-only grid whose rows and columns a callback fills."""
    return data_grid(grid_id, [], [], height=height, **extra)
