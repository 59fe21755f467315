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


def column(field: str, header: str, kind: str = "text", **extra: Any) -> dict[str, Any]:
    """A column definition of one of the house types."""
    return {"field": field, "headerName": header, **COLUMN_TYPES[kind], **extra}


def data_grid(
    grid_id: str,
    columns: list[dict[str, Any]],
    rows: list[dict[str, Any]],
    *,
    height: str | None = None,
    row_id_field: str | None = None,
    **extra: Any,
) -> dag.AgGrid:
    """A read-only, sortable, filterable, keyboard-navigable grid."""
    options: dict[str, Any] = {
        "animateRows": False,
        "enableCellTextSelection": True,
        "ensureDomOrder": True,  # screen readers and keyboard order follow the DOM
        "suppressCellFocus": False,
        "domLayout": "autoHeight" if height is None else "normal",
    }
    if row_id_field:
        # Row ids must be strings; the grid's expression evaluator has no String().
        rows = [{**row, "row_id": str(row[row_id_field])} for row in rows]
        extra.setdefault("getRowId", "params.data.row_id")
    return dag.AgGrid(
        id=grid_id,
        columnDefs=columns,
        rowData=rows,
        defaultColDef={"sortable": True, "resizable": True, "filter": True, "minWidth": 90},
        columnSize=extra.pop("columnSize", "responsiveSizeToFit"),
        dashGridOptions=options,
        className="ag-theme-quartz",
        style={"height": height} if height else {"width": "100%"},
        **extra,
    )


def empty_grid(grid_id: str, height: str | None = None, **extra: Any) -> dag.AgGrid:
    """A read-only grid whose rows and columns a callback fills."""
    return data_grid(grid_id, [], [], height=height, **extra)
