"""Query results as DataFrames, fast: Core rows through the session's connection (no ORM row
processing) and built column by column (pandas inspecting every Row object is far slower)."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy.orm import Session


def frame_of(rows: Sequence, columns: Sequence[str]) -> pd.DataFrame:
    """A DataFrame of result rows (tuples or Rows) with these column names."""
    if not rows:
        return pd.DataFrame(columns=list(columns))
    return pd.DataFrame(dict(zip(columns, zip(*rows, strict=True), strict=True)))


def read_frame(session: Session, query, columns: Sequence[str]) -> pd.DataFrame:
    """Run ``query`` and return its rows as a DataFrame with these column names."""
    return frame_of(session.connection().execute(query).fetchall(), columns)
