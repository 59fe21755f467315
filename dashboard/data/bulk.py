"""Bulk loading of DataFrames into tables: COPY on PostgreSQL, executemany on SQLite.

Used by the demo generator; one ORM object per row would take minutes for the default
portfolio.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Connection, MetaData, text


def _python_rows(frame: pd.DataFrame, for_sqlite: bool) -> list[tuple]:
    columns = []
    for name in frame.columns:
        series = frame[name]
        if pd.api.types.is_datetime64_any_dtype(series):
            values = series.dt.strftime("%Y-%m-%d" if for_sqlite else "%Y-%m-%d %H:%M:%S")
            values = values.astype(object).where(series.notna(), None).tolist()
        elif pd.api.types.is_bool_dtype(series):
            values = series.tolist()
        elif series.dtype == object:
            values = [
                None
                if v is None or (isinstance(v, float) and v != v)
                else (v.isoformat() if for_sqlite and hasattr(v, "isoformat") else v)
                for v in series.tolist()
            ]
        else:
            values = series.astype(object).where(series.notna(), None).tolist()
        columns.append(values)
    return list(zip(*columns, strict=True))


def insert_frame(conn: Connection, table: str, frame: pd.DataFrame) -> int:
    """Insert every row of ``frame`` (columns named as the table's) into ``table``."""
    if frame.empty:
        return 0
    cols = list(frame.columns)
    dialect = conn.dialect.name
    rows = _python_rows(frame, for_sqlite=dialect == "sqlite")
    if dialect == "postgresql":
        raw = conn.connection.driver_connection
        with raw.cursor() as cursor:
            col_list = ", ".join(f'"{c}"' for c in cols)
            with cursor.copy(f'COPY "{table}" ({col_list}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
    else:
        placeholders = ", ".join("?" for _ in cols)
        col_list = ", ".join(f'"{c}"' for c in cols)
        conn.exec_driver_sql(f'INSERT INTO "{table}" ({col_list}) VALUES ({placeholders})', rows)
    return len(rows)


def reset_sequences(conn: Connection, metadata: MetaData) -> None:
    """After explicit ids were loaded, move PostgreSQL's id sequences past them."""
    if conn.dialect.name != "postgresql":
        return
    for table in metadata.sorted_tables:
        if table.autoincrement_column is None or table.autoincrement_column.name != "id":
            continue  # no integer id of its own (a text key, a composite key)
        conn.execute(
            text(
                f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                f'COALESCE((SELECT MAX(id) FROM "{table.name}"), 0) + 1, false)'
            )
        )
