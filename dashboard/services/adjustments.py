"""Other Revenue and Other Expenses tabs of a site: the 12-month load and the save steps
(DOMAIN.md §6, §10; decisions D2, D9).

The save steps run inside the caller's write transaction (``workspace_save.save_forecast_inputs``
checks scope, opens the transaction and audits refused attempts): ``validate_adjustments``
collects every problem at once, ``save_adjustments`` applies the clean edits month row by
month row with ``UPDATE ... WHERE id AND version`` and appends audit rows. Every rule about
signs, ranges and locked months comes from ``dashboard.domain.adjustments``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.data.models import OtherExpenseMonth, OtherRevenueMonth, User
from dashboard.domain import adjustments as adj
from dashboard.domain.statistics import parse_number
from dashboard.services import accounts, audit, month_locks, versioned
from dashboard.services.save_results import Conflict, Problem
from dashboard.services.scope import Principal, can_edit_site, require_view

OTHER_REVENUE, OTHER_EXPENSE = "other_revenue", "other_expense"
KINDS = (OTHER_REVENUE, OTHER_EXPENSE)
MODELS = {OTHER_REVENUE: OtherRevenueMonth, OTHER_EXPENSE: OtherExpenseMonth}
FIELDS = {OTHER_REVENUE: adj.OTHER_REVENUE_FIELDS, OTHER_EXPENSE: adj.OTHER_EXPENSE_FIELDS}
# Label of every field of both tabs (the two tabs share no field name).
FIELD_LABELS = {
    **adj.OTHER_REVENUE_LABELS,
    **{f: label for f, (label, _gl) in adj.OTHER_EXPENSE_CATEGORIES.items()},
}
VIEW_ONLY_REASON = "You can view this site but not change its forecast."
_YEARS = range(2000, 2101)  # what a month key may name (SmallInteger columns)


@dataclass(frozen=True)
class AdjustmentEdit:
    """One edited cell of a tab; ``version`` is the saved forecast row's version the person
    saw for that month (0 = no forecast saved yet, the month showed the budget)."""

    kind: str
    year: int
    month: int
    field: str
    value: object
    version: int = 0

    @property
    def month_key(self) -> str:
        return month_key(self.year, self.month)


def month_key(year: int, month: int) -> str:
    return f"{year}-{month:02d}"


def parse_month_key(text: str) -> tuple[int, int]:
    """'2026-12' -> (2026, 12); ValueError when it is not such a key."""
    year_text, month_text = str(text).split("-")
    if len(year_text) != 4 or len(month_text) != 2:
        raise ValueError(f"not a YYYY-MM month: {text!r}")
    year, month = int(year_text), int(month_text)
    if year not in _YEARS or not 1 <= month <= 12:
        raise ValueError(f"not a YYYY-MM month: {text!r}")
    return year, month


def edit_key(kind: str, year: int, month: int, field: str) -> str:
    """Key of an unsaved edit in the browser's store: "other_revenue|2026-12|gpo_fees"."""
    return f"{kind}|{month_key(year, month)}|{field}"


def edits_from_store(store: dict | None) -> list[AdjustmentEdit]:
    """The edits of the ``ws-adjustment-edits`` store ("kind|YYYY-MM|field" -> {"value",
    "version"}). Raises ValueError when an entry is malformed; values are checked later by
    ``validate_adjustments``."""
    if store is None:
        return []
    if not isinstance(store, dict):
        raise ValueError("adjustment edits must be an object")
    edits = []
    for key, entry in store.items():
        parts = str(key).split("|")
        if len(parts) != 3:
            raise ValueError(f"malformed adjustment key {key!r}")
        kind, month_text, field = parts
        if kind not in KINDS:
            raise ValueError(f"unknown adjustment kind {kind!r}")
        if field not in FIELDS[kind]:
            raise ValueError(f"unknown {kind} field {field!r}")
        year, month = parse_month_key(month_text)
        if not isinstance(entry, dict) or "value" not in entry:
            raise ValueError(f"malformed adjustment edit for {key!r}")
        version = entry.get("version", 0)
        if isinstance(version, bool) or not isinstance(version, int) or version < 0:
            raise ValueError(f"malformed version for {key!r}")
        edits.append(AdjustmentEdit(kind, year, month, field, entry["value"], version))
    return edits


def parse_amount(raw) -> float | None:
    """A dollar amount from what a person typed ('-$1,250.50', '300'); None if not a number.
    Empty counts as 0 (DOMAIN.md §10)."""
    if isinstance(raw, str):
        raw = raw.replace("$", "")
    return parse_number(raw)


def validation_message(kind: str, field: str, value: float | None) -> str | None:
    """The domain's reason ``value`` cannot be stored in ``field`` of ``kind``, or None."""
    if kind == OTHER_REVENUE:
        return adj.validate_other_revenue(field, value)
    if kind == OTHER_EXPENSE:
        return adj.validate_other_expense(field, value)
    return f"{kind} is not an adjustments tab."


def lock_reason(kind: str, year: int, month: int, today: dt.date, actualised: bool) -> str | None:
    """Why a month of a tab is read-only (domain rules), or None."""
    if kind == OTHER_REVENUE:
        return adj.other_revenue_lock_reason(year, month, today)
    return adj.other_expense_lock_reason(year, month, today, actualised=actualised)


# --- Queries -----------------------------------------------------------------------------------


def _month_index(model):
    return model.year * 12 + model.month


def _rows(session: Session, kind: str, site_id: int, months: Iterable[tuple[int, int]], kinds):
    """Rows of ``kind``'s table for the site, the given months and value kinds."""
    wanted = set(months)
    if not wanted:
        return []
    model = MODELS[kind]
    indexes = [y * 12 + m for y, m in wanted]
    query = select(model).where(
        model.site_id == site_id,
        model.kind.in_(kinds),
        _month_index(model).between(min(indexes), max(indexes)),
    )
    return [r for r in session.scalars(query) if (r.year, r.month) in wanted]


def actualised_months(
    session: Session, site_id: int, months: Iterable[tuple[int, int]]
) -> dict[str, set[tuple[int, int]]]:
    """Per tab kind, the (year, month) pairs among ``months`` whose actual row is loaded."""
    months = list(months)
    if not months:
        return {kind: set() for kind in KINDS}
    return {
        kind: {(r.year, r.month) for r in _rows(session, kind, site_id, months, ("actual",))}
        for kind in KINDS
    }


def edit_months(edits: Iterable[AdjustmentEdit]) -> set[tuple[int, int]]:
    return {(e.year, e.month) for e in edits}


def _values(row, kind: str) -> dict[str, float]:
    return {f: float(getattr(row, f) or 0.0) for f in FIELDS[kind]}


def load_adjustments(
    session: Session,
    principal: Principal,
    site_id: int,
    start: tuple[int, int],
    today: dt.date,
) -> dict:
    """Both tabs of a site for the 12 months from ``start``, JSON-ready::

    {"site_id", "start": "YYYY-MM", "months": ["YYYY-MM" x 12], "may_edit": bool,
     "other_revenue" | "other_expense": {"YYYY-MM": {
         "budget": {field: $} (0 without a budget row), "forecast": {field: $} | None,
         "actual": {field: $} | None, "values": {field: $} (forecast, else budget),
         "version": int (0 = no forecast saved), "updated_by": str | None,
         "editable": bool, "lock_reason": str | None}}}
    """
    require_view(session, principal, site_id, today)
    months = adj.tab_months(*start)
    may_edit = can_edit_site(session, principal, site_id, today)
    # The save's own rules per month (role, scope, the month's submission state).
    blocks = month_locks.month_edit_blocks(session, principal, site_id, months, today)
    payload: dict = {
        "site_id": site_id,
        "start": month_key(*start),
        "months": [month_key(*m) for m in months],
        "may_edit": may_edit,
    }
    for kind in KINDS:
        by_month: dict[tuple[int, int], dict[str, object]] = {}
        for row in _rows(session, kind, site_id, months, ("budget", "forecast", "actual")):
            by_month.setdefault((row.year, row.month), {})[row.kind] = row
        names = accounts.display_names(
            session,
            {
                r["forecast"].updated_by_id
                for r in by_month.values()
                if "forecast" in r and r["forecast"].updated_by_id
            },
        )
        cells = {}
        for year, month in months:
            found = by_month.get((year, month), {})
            budget = _values(found["budget"], kind) if "budget" in found else None
            forecast = _values(found["forecast"], kind) if "forecast" in found else None
            actual = _values(found["actual"], kind) if "actual" in found else None
            reason = lock_reason(kind, year, month, today, actualised=actual is not None)
            if reason is None and not may_edit:
                reason = VIEW_ONLY_REASON
            if reason is None:
                reason = blocks[(year, month)]
            saved = found.get("forecast")
            cells[month_key(year, month)] = {
                "budget": adj.month_values(None, budget, FIELDS[kind]),
                "forecast": forecast,
                "actual": actual,
                "values": adj.month_values(forecast, budget, FIELDS[kind]),
                "version": int(saved.version) if saved is not None else 0,
                "updated_by": names.get(saved.updated_by_id) if saved is not None else None,
                "editable": reason is None,
                "lock_reason": reason,
            }
        payload[kind] = cells
    return payload


# --- Save steps (inside the caller's transaction) ----------------------------------------------


Clean = dict[tuple[str, int, int], dict[str, tuple[float, int]]]


def validate_adjustments(
    edits: Iterable[AdjustmentEdit],
    today: dt.date,
    actualised_months_by_kind: dict[str, set[tuple[int, int]]],
) -> tuple[list[Problem], Clean]:
    """Every problem of the edits at once, and the clean edits grouped per month row:
    ``{(kind, year, month): {field: (value rounded to cents, version)}}``.

    A problem's key is "YYYY-MM" and its message names the column (domain wording)."""
    problems: list[Problem] = []
    clean: Clean = {}
    for edit in edits:
        key = month_key(edit.year, edit.month)
        if edit.kind not in KINDS:
            problems.append(Problem(key, edit.field, f"{edit.kind} is not an adjustments tab."))
            continue
        value = parse_amount(edit.value)
        message = validation_message(edit.kind, edit.field, value)
        if message is None:
            actualised = (edit.year, edit.month) in actualised_months_by_kind.get(edit.kind, ())
            message = lock_reason(edit.kind, edit.year, edit.month, today, actualised)
            if message:
                message = f"{FIELD_LABELS[edit.field]}: {message}"
        if message:
            problems.append(Problem(key, edit.field, message))
            continue
        cells = clean.setdefault((edit.kind, edit.year, edit.month), {})
        cells[edit.field] = (round(value, 2) + 0.0, int(edit.version))  # + 0.0: no -0.0
    return problems, clean


def save_adjustments(
    session: Session,
    principal: Principal,
    site_id: int,
    clean: Clean,
    now: dt.datetime,
    conflicts: list[Conflict],
) -> int:
    """Write the clean edits of ``validate_adjustments``; return the number of saved cells.

    Per month row: every edit must carry the version of the saved forecast row (0 = none);
    otherwise a ``Conflict`` per field is appended (with the other person's value and name)
    and the month is skipped; the caller then rolls the whole transaction back. A new
    forecast row starts from the month's budget (then the edits) at version 1; an update
    bumps the version. Each edited field gets an audit row (old = what the month showed)."""
    count = 0
    for kind in KINDS:
        months = sorted((y, m) for k, y, m in clean if k == kind)
        if not months:
            continue
        model = MODELS[kind]
        existing: dict[tuple[int, int], dict[str, object]] = {}
        for row in _rows(session, kind, site_id, months, ("budget", "forecast")):
            existing.setdefault((row.year, row.month), {})[row.kind] = row
        for year, month in months:
            edits = clean[(kind, year, month)]
            key = month_key(year, month)
            row = existing.get((year, month), {}).get("forecast")
            budget_row = existing.get((year, month), {}).get("budget")
            current_version = int(row.version) if row is not None else 0
            if {version for _, version in edits.values()} != {current_version}:
                by = _display_name(session, row.updated_by_id) if row is not None else None
                for name, (value, _) in edits.items():
                    theirs = float(getattr(row, name)) if row is not None else None
                    conflicts.append(Conflict(key, name, value, theirs, by))
                continue
            base = adj.month_values(
                _values(row, kind) if row is not None else None,
                _values(budget_row, kind) if budget_row is not None else None,
                FIELDS[kind],
            )
            new_values = {**base, **{name: value for name, (value, _) in edits.items()}}
            changed = {name: value for name, (value, _) in edits.items()}
            written = versioned.write(
                session,
                model,
                None if row is None else row.id,
                current_version,
                new_values if row is None else changed,
                user_id=principal.user_id,
                now=now,
                keys={"site_id": site_id, "year": year, "month": month},
            )
            if not written:
                for name, value in changed.items():
                    conflicts.append(Conflict(key, name, value, None, None))
                continue
            for name, (value, _) in edits.items():
                audit.record(
                    session,
                    user_id=principal.user_id,
                    site_id=site_id,
                    action="insert" if row is None else "update",
                    entity=kind,
                    record_key=key,
                    field=name,
                    old_value=base[name],
                    new_value=value,
                )
            count += len(edits)
    session.flush()
    return count


def _display_name(session: Session, user_id: int | None) -> str | None:
    return session.get(User, user_id).display_name if user_id else None
