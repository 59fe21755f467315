"""The workspace save: one command that stores every edited tab of a site at once.

``save_forecast_inputs`` first validates every tab (statistics, rates, payroll, other revenue
and other expenses, and the months' submission locks) and reports all problems together; only
a clean save runs. It then writes, in one transaction, each tab as a step — rates (and the
repricing of saved days), statistics days, payroll, adjustments — and refreshes the site's
stored figures. A version conflict in any step refuses the whole save; the refused attempt is
audited in a transaction of its own so both attempts are accounted for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from dashboard.data import statistics_repo as repo
from dashboard.data.db import Database
from dashboard.data.models import Site
from dashboard.services import adjustments, audit, figures, payroll, rates, statistics, submissions
from dashboard.services.save_results import Conflict, ConflictDetected, Problem, SaveResult
from dashboard.services.scope import Principal, require_edit


@dataclass
class _CheckedInputs:
    """The edits of every tab that passed validation, ready for the write steps."""

    statistic_cells: statistics.CleanStatistics
    rate_cells: rates.CleanRates
    payroll_hours: list[tuple[payroll.PayrollEdit, float]]
    payroll_mode: str | None
    adjustment_cells: adjustments.Clean
    months: set[tuple[int, int]]

    @property
    def changes(self) -> int:
        return (
            sum(len(fields) for fields in self.statistic_cells.values())
            + len(self.rate_cells)
            + len(self.payroll_hours)
            + len(self.adjustment_cells)
        )


def save_forecast_inputs(
    db: Database,
    principal: Principal,
    site_id: int,
    stat_edits: list[statistics.StatisticEdit],
    rate_edits: list[rates.RateEdit],
    today: dt.date,
    room_input: str = "occupancy",
    payroll_edits: Sequence[payroll.PayrollEdit] = (),
    payroll_mode: str | None = None,
    payroll_mode_version: int = 0,
    adjustment_edits: Sequence[adjustments.AdjustmentEdit] = (),
) -> SaveResult:
    """Save the edited inputs of a site's workspace in one transaction (see module doc):
    statistics, rates, payroll, other revenue and other expenses (``payroll_mode`` is the
    Group/Code choice of the month of the payroll edits; None keeps the stored one)."""
    result = SaveResult()
    attempted: list[Conflict] = []
    try:
        with db.write() as session:
            require_edit(session, principal, site_id, today)
            site = repo.site(session, site_id)
            problems, checked = _validate(
                session,
                principal,
                site,
                stat_edits,
                rate_edits,
                payroll_edits,
                payroll_mode,
                adjustment_edits,
                today,
            )
            if problems:
                result.problems = problems
                return result
            now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
            submissions.record_edits(
                session, principal, site_id, checked.months, now, checked.changes
            )
            result.saved_cells = _run_steps(
                session,
                principal,
                site,
                checked,
                room_input,
                payroll_mode_version,
                now,
                today,
                attempted,
            )
            if attempted:
                raise ConflictDetected
            if result.saved_cells:
                session.flush()
                # The site's P&L, KPIs, review row and reports read the stored figures.
                figures.refresh(session, [site_id], today, (figures.FORECAST,), checked.months)
    except ConflictDetected:
        result.conflicts = attempted
        result.saved_cells = 0
    except IntegrityError:
        # Another person saved the same new row between our read and our insert.
        result.conflicts = attempted or [
            Conflict("", "", None, None, "another person (saved at the same moment)")
        ]
        result.saved_cells = 0
    if result.conflicts:
        _audit_refused(db, principal, site_id, result.conflicts)
    return result


def _validate(
    session: Session,
    principal: Principal,
    site: Site,
    stat_edits: list[statistics.StatisticEdit],
    rate_edits: list[rates.RateEdit],
    payroll_edits: Sequence[payroll.PayrollEdit],
    payroll_mode: str | None,
    adjustment_edits: Sequence[adjustments.AdjustmentEdit],
    today: dt.date,
) -> tuple[list[Problem], _CheckedInputs]:
    """Every tab's problems at once (and the month locks), with the accepted edits."""
    problems, stats = statistics.validate_statistic_edits(stat_edits, site.total_rooms, today)
    rate_problems, clean_rates = rates.validate_rate_edits(rate_edits, today)
    problems += rate_problems
    if payroll_mode is not None and payroll_mode not in payroll.MODES:
        problems.append(Problem("", "forecast mode", "Unknown payroll forecast mode."))
        payroll_mode = None
    payroll_problems, payroll_clean = payroll.validate_edits(
        session,
        site.id,
        list(payroll_edits),
        payroll_mode or payroll.stored_mode(session, site, payroll_edits),
        today,
    )
    problems += payroll_problems
    actualised = adjustments.actualised_months(
        session, site.id, adjustments.edit_months(adjustment_edits)
    )
    adjustment_problems, adjustment_clean = adjustments.validate_adjustments(
        list(adjustment_edits), today, actualised
    )
    problems += adjustment_problems
    months = _edited_months(stats, clean_rates, payroll_clean, adjustment_edits)
    for (year, month), reason in submissions.edit_problems(session, principal, site.id, months):
        problems.append(Problem(f"{year}-{month:02d}", "month", reason))
    checked = _CheckedInputs(
        stats, clean_rates, payroll_clean, payroll_mode, adjustment_clean, months
    )
    return problems, checked


def _run_steps(
    session: Session,
    principal: Principal,
    site: Site,
    checked: _CheckedInputs,
    room_input: str,
    payroll_mode_version: int,
    now: dt.datetime,
    today: dt.date,
    conflicts: list[Conflict],
) -> int:
    """Each tab's save step inside the open transaction; returns the cells saved. Rates go
    first so the statistics days derive their revenue from the new rates."""
    saved = rates.save_rates(session, principal, site.id, checked.rate_cells, now, conflicts)
    rates.reprice_saved_days(session, site, {(y, m) for y, m, _ in checked.rate_cells})
    saved += statistics.save_days(
        session, principal, site, checked.statistic_cells, room_input, now, conflicts
    )
    saved += payroll.save_edits(
        session,
        principal,
        site.id,
        checked.payroll_hours,
        checked.payroll_mode,
        payroll_mode_version,
        now,
        today,
        conflicts,
    )
    saved += adjustments.save_adjustments(
        session, principal, site.id, checked.adjustment_cells, now, conflicts
    )
    return saved


def _edited_months(
    stats: statistics.CleanStatistics,
    clean_rates: rates.CleanRates,
    payroll_clean: list[tuple[payroll.PayrollEdit, float]],
    adjustment_edits: Iterable[adjustments.AdjustmentEdit],
) -> set[tuple[int, int]]:
    """The forecast months a save touches (each has its own submission state)."""
    months = {(day.year, day.month) for day in stats}
    months |= {(y, m) for y, m, _ in clean_rates}
    months |= {(e.day.year, e.day.month) for e, _ in payroll_clean}
    months |= adjustments.edit_months(adjustment_edits)
    return months


def _audit_refused(
    db: Database, principal: Principal, site_id: int, conflicts: list[Conflict]
) -> None:
    """Record the refused attempt in a transaction of its own (the save's was rolled back)."""
    with db.write() as session:
        for conflict in conflicts:
            audit.record(
                session,
                user_id=principal.user_id,
                site_id=site_id,
                action="save_refused",
                entity="forecast_input",
                record_key=conflict.key,
                field=conflict.field,
                old_value=conflict.theirs,
                new_value=conflict.yours,
                reason=f"conflict: saved meanwhile by {conflict.by or 'another person'}",
            )
