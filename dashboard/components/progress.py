"""The progress of a background job on a page: a bar and a line saying which step runs,
hidden until the job starts (``<prefix>-progress``, ``-progress-text``, ``-progress-box``: the
ids a background callback's ``progress`` and ``running`` outputs name)."""

from __future__ import annotations

import dash_mantine_components as dmc
from dash import html


def job_progress(prefix: str) -> html.Div:
    return html.Div(
        [
            dmc.Progress(id=f"{prefix}-progress", value=0, size="lg", animated=True),
            dmc.Text(id=f"{prefix}-progress-text", size="sm", c="dimmed"),
        ],
        id=f"{prefix}-progress-box",
        style={"display": "none"},
        role="status",
        **{"aria-live": "polite"},
    )
