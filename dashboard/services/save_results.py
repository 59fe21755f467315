"""What a workspace save reports back: refused cells, version conflicts and the outcome.

Every tab's validation returns ``Problem`` rows and every tab's save step appends ``Conflict``
rows; ``workspace_save.save_forecast_inputs`` gathers them into one ``SaveResult`` for the
callback to show. ``ConflictDetected`` is raised inside the save transaction to roll it back
when any step met a conflict.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Problem:
    """A refused cell: ``key`` is the day (ISO) or 'YYYY-MM/category' for rates."""

    key: str
    field: str
    message: str


@dataclass(frozen=True)
class Conflict:
    """A cell someone else saved meanwhile: your value, theirs, and who saved it."""

    key: str
    field: str
    yours: object
    theirs: object
    by: str | None


@dataclass
class SaveResult:
    """The outcome of a save: nothing is stored unless ``ok``."""

    problems: list[Problem] = field(default_factory=list)
    conflicts: list[Conflict] = field(default_factory=list)
    saved_cells: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and not self.conflicts


class ConflictDetected(Exception):
    """Raised inside the save transaction so a save with conflicts stores nothing."""
