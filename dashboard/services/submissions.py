"""Forecast submissions: submit, review (approve / return / reopen), month-end lock, the
checklist that gates submission, explanations, comment threads, the district roll-up, the
inbox (DOMAIN.md §7.5, §8, §9; decision D5).

Every action checks scope and role on the server, runs in one transaction, changes the
submission row with ``UPDATE … WHERE id AND version`` (a reviewer who loaded an older version
is refused with a reload prompt; two reviewers acting at once produce one outcome), and
appends an audit row with the comment. The rules live in ``domain/submission.py``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import and_, insert, or_, select, update
from sqlalchemy.orm import Session

from dashboard.data import pnl_inputs
from dashboard.data.db import Database
from dashboard.data.models import (
    AppSetting,
    ForecastSnapshotLine,
    ForecastSubmission,
    PayrollDay,
    Site,
    SiteStatisticDay,
    SubmissionComment,
    User,
    VarianceExplanation,
)
from dashboard.domain import pnl as pnl_domain
from dashboard.domain import submission as sm
from dashboard.domain.periods import days_in_month
from dashboard.services import accounts, audit, figures, payroll
from dashboard.services import pnl as pnl_service
from dashboard.services.scope import (
    Principal,
    ScopeError,
    can_edit_site,
    require_view,
)

ENTITY = "forecast_submission"
FORWARD_LIMIT_DAYS = 366  # statistics and payroll are entered up to a year ahead (§3.6)
PCT_KEY, AMOUNT_KEY = "variance_pct_threshold", "variance_amount_threshold"
SNAPSHOT_LINES = (*pnl_domain.PNL_LINES, "flc")
SUMMARY_LINES = ("external_revenue", "internal_revenue", "payroll", "flc")
LINE_LABELS = {
    "external_revenue": "External revenue",
    "internal_revenue": "Internal revenue",
    "payroll": "Payroll",
    "flc": "FLC",
}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclass
class Outcome:
    """What an action did: ``ok``, a message for people, the problems that blocked it, and
    ``stale`` when the submission changed since it was loaded (reload and look again)."""

    ok: bool
    message: str
    problems: list[str] = field(default_factory=list)
    stale: bool = False


# --- Settings ---------------------------------------------------------------------------------


def thresholds(session: Session) -> sm.Thresholds:
    stored = dict(
        session.execute(
            select(AppSetting.key, AppSetting.value).where(
                AppSetting.key.in_((PCT_KEY, AMOUNT_KEY))
            )
        ).all()
    )
    return thresholds_of(stored.get(PCT_KEY), stored.get(AMOUNT_KEY))


def threshold_values():
    """The stored thresholds (pct, amount) as scalar subqueries, for a statement that reads
    them with other things; ``thresholds_of`` makes them ``Thresholds``."""
    return tuple(
        select(AppSetting.value).where(AppSetting.key == key).scalar_subquery()
        for key in (PCT_KEY, AMOUNT_KEY)
    )


def thresholds_of(pct, amount) -> sm.Thresholds:
    """The thresholds from their stored values (None: the default)."""
    return sm.Thresholds(
        pct=float(sm.DEFAULT_PCT_THRESHOLD if pct is None else pct),
        amount=float(sm.DEFAULT_AMOUNT_THRESHOLD if amount is None else amount),
    )


def set_thresholds(db: Database, principal: Principal, pct: object, amount: object) -> Outcome:
    """Administrators set the variance thresholds that need an explanation (audited)."""
    if principal.role != "admin":
        return Outcome(False, "Only an administrator can change the thresholds.")
    try:
        pct_value, amount_value = float(pct), float(amount)
    except (TypeError, ValueError):
        return Outcome(False, "Enter numbers for both thresholds.")
    if not (0 < pct_value <= 10) or not (0 <= amount_value <= 10_000_000):
        return Outcome(
            False,
            "The % threshold must be above 0% and at most 1,000%; the $ one from $0 to $10,000,000.",
        )
    with db.write() as session:
        before = thresholds(session)
        for key, value, old in (
            (PCT_KEY, pct_value, before.pct),
            (AMOUNT_KEY, amount_value, before.amount),
        ):
            row = session.get(AppSetting, key)
            if row is None:
                session.add(AppSetting(key=key, value=str(value)))
            else:
                row.value = str(value)
            if value != old:
                audit.record(
                    session,
                    user_id=principal.user_id,
                    action="update",
                    entity="app_setting",
                    record_key=key,
                    field=key,
                    old_value=old,
                    new_value=value,
                )
    return Outcome(True, "Thresholds saved.")


# --- Rows --------------------------------------------------------------------------------------


def _row(session: Session, site_id: int, year: int, month: int) -> ForecastSubmission | None:
    return session.scalar(
        select(ForecastSubmission).where(
            ForecastSubmission.site_id == site_id,
            ForecastSubmission.year == year,
            ForecastSubmission.month == month,
        )
    )


def _state(row: ForecastSubmission | None) -> str:
    return row.status if row is not None else sm.DRAFT


def _new_row(session: Session, site_id: int, year: int, month: int) -> ForecastSubmission:
    row = ForecastSubmission(site_id=site_id, year=year, month=month, status=sm.DRAFT, version=1)
    session.add(row)
    session.flush()
    return row


def _locked_row(session: Session, site_id: int, year: int, month: int) -> ForecastSubmission:
    """The month's submission row — created when missing (a row another transaction creates
    at the same moment is taken, not refused) — locked until the transaction ends: saves of
    one site-month wait for each other here instead of refusing each other (PostgreSQL;
    SQLite runs one writer at a time anyway)."""
    f = ForecastSubmission
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    session.execute(
        upsert(f)
        .values(site_id=site_id, year=year, month=month, status=sm.DRAFT, version=1)
        .on_conflict_do_nothing(index_elements=["site_id", "year", "month"])
    )
    return session.scalars(
        select(f)
        .where(f.site_id == site_id, f.year == year, f.month == month)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def _move(
    session: Session,
    row: ForecastSubmission,
    seen_version: int,
    values: dict,
) -> bool:
    """``UPDATE … WHERE id AND version = seen`` bumping the version; False when stale."""
    done = session.execute(
        update(ForecastSubmission)
        .where(ForecastSubmission.id == row.id, ForecastSubmission.version == seen_version)
        .values(version=seen_version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    return done.rowcount == 1


def _comment(session, submission_id: int, user_id: int | None, kind: str, body: str) -> None:
    session.execute(
        insert(SubmissionComment).values(
            submission_id=submission_id, user_id=user_id, kind=kind, body=body, at=_now()
        )
    )


def _audit_transition(session, principal_id, row, step: sm.Transition, comment: str | None):
    audit.record(
        session,
        user_id=principal_id,
        site_id=row.site_id,
        action=step.action,
        entity=ENTITY,
        record_key=f"{row.year}-{row.month:02d}",
        field="status",
        old_value=step.before,
        new_value=step.after,
        reason=comment or None,
    )


def before_month(year: int, month: int):
    """SQL condition: the submission's month is before (year, month). Compared column by
    column: year × 100 would overflow PostgreSQL's smallint."""
    return or_(
        ForecastSubmission.year < year,
        and_(ForecastSubmission.year == year, ForecastSubmission.month < month),
    )


def month_closed(year: int, month: int, today: dt.date) -> bool:
    return dt.date(year, month, days_in_month(year, month)) < today


# --- Edits: the workflow's gate in the one save path -------------------------------------------


def edit_problems(
    session: Session, principal: Principal, site_id: int, months: Iterable[tuple[int, int]]
) -> list[tuple[tuple[int, int], str]]:
    """Months the person may not edit now because of their submission state."""
    problems = []
    for year, month in sorted(set(months)):
        reason = sm.edit_block_reason(_state(_row(session, site_id, year, month)), principal.role)
        if reason:
            problems.append(((year, month), reason))
    return problems


def record_edits(
    session: Session,
    principal: Principal,
    site_id: int,
    months: Iterable[tuple[int, int]],
    now: dt.datetime,
    changes: int,
) -> None:
    """Inside the save's transaction: stamp the months' last edit; a RETURNED month goes back
    to DRAFT; a reviewer's edit of a SUBMITTED or APPROVED month bumps its version (an
    approval of what was loaded before is then refused) and tells the account manager."""
    for year, month in sorted(set(months)):
        # Locked: the version and state read here are the ones the update below moves.
        row = _locked_row(session, site_id, year, month)
        step = sm.transition(row.status, sm.EDIT, principal.role)
        values = {"last_edit_at": now, "last_edit_by_id": principal.user_id}
        if step.after != step.before:
            values.update(status=step.after, updated_at=now, updated_by_id=principal.user_id)
        if not _move(session, row, row.version, values):
            raise ScopeError("The submission changed while saving; save again.")
        if step.after != step.before:
            _audit_transition(session, principal.user_id, row, step, "edited after return")
        if row.status in (sm.SUBMITTED, sm.APPROVED):
            _comment(
                session,
                row.id,
                principal.user_id,
                sm.EDIT,
                f"{principal.display_name} ({principal.role_label.lower()}) changed "
                f"{changes} value{'s' if changes != 1 else ''} of this "
                f"{sm.STATE_LABELS[row.status].lower()} month.",
            )


# --- The month of one site: figures, checklist, thread -----------------------------------------


def _budget_month(session: Session, site_ids: Sequence[int], year: int, month: int) -> pd.DataFrame:
    return pnl_service.basis_lines(session, site_ids, year, pnl_service.BUDGET_BASIS, month)


def missing_inputs(
    session: Session, site_id: int, year: int, month: int, today: dt.date
) -> list[str]:
    """What must be entered before submitting (§8.3 completeness): at hotel sites a saved
    statistics forecast for every day still ahead in the month; at per-labor-hour sites
    saved hours for every hourly job code on those days."""
    site = session.get(Site, site_id)
    first = max(dt.date(year, month, 1), today)
    # Only days that can be entered: today up to the forward limit (a year ahead).
    last = min(
        dt.date(year, month, days_in_month(year, month)),
        today + dt.timedelta(days=FORWARD_LIMIT_DAYS),
    )
    if first > last:
        return []
    days = [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]
    problems = []
    if site.total_rooms > 0:
        saved = set(
            session.scalars(
                select(SiteStatisticDay.day).where(
                    SiteStatisticDay.site_id == site_id,
                    SiteStatisticDay.kind == "forecast",
                    SiteStatisticDay.day.between(first, last),
                )
            )
        )
        gaps = [d for d in days if d not in saved]
        if gaps:
            problems.append(
                f"Statistics: {len(gaps)} day{'s' if len(gaps) != 1 else ''} without a saved "
                f"forecast ({_day_list(gaps)}). Hotel sites forecast every day: type them, or "
                "use Fill down / Fill from history, and save."
            )
    if "PerLaborHour" in site.contract_flags:
        pay_days = [d for d in days if d > today]
        if pay_days:
            saved_hours = defaultdict(set)
            for code_id, day in session.execute(
                select(PayrollDay.job_code_id, PayrollDay.day).where(
                    PayrollDay.site_id == site_id,
                    PayrollDay.kind == "forecast",
                    PayrollDay.day.between(pay_days[0], pay_days[-1]),
                )
            ):
                saved_hours[code_id].add(day)
            for code in payroll.site_codes(session, site_id, pay_days[0]):
                if code.salaried:
                    continue
                gaps = [d for d in pay_days if d not in saved_hours[code.id]]
                if gaps:
                    problems.append(
                        f"Payroll: job code {code.code} ({code.title}) has no saved hours on "
                        f"{len(gaps)} day{'s' if len(gaps) != 1 else ''} ({_day_list(gaps)}). "
                        "Per labor hour sites forecast every code: use Copy schedule or type "
                        "the hours, and save."
                    )
    return problems


def _day_list(days: list[dt.date], shown: int = 4) -> str:
    text = ", ".join(d.strftime("%b %-d") for d in days[:shown])
    return text + (f" and {len(days) - shown} more" if len(days) > shown else "")


def _explanations(session: Session, site_id: int, year: int, month: int) -> dict[str, dict]:
    rows = session.scalars(
        select(VarianceExplanation).where(
            VarianceExplanation.site_id == site_id,
            VarianceExplanation.year == year,
            VarianceExplanation.month == month,
        )
    )
    return {r.line: {"text": r.text, "version": r.version} for r in rows}


def _thread(session: Session, submission_id: int | None) -> list[dict]:
    if submission_id is None:
        return []
    rows = session.execute(
        select(
            SubmissionComment.at, SubmissionComment.kind, SubmissionComment.body, User.display_name
        )
        .outerjoin(User, User.id == SubmissionComment.user_id)
        .where(SubmissionComment.submission_id == submission_id)
        .order_by(SubmissionComment.at, SubmissionComment.id)
    ).all()
    return [
        {"at": at.isoformat(timespec="minutes"), "kind": kind, "body": body, "by": name or "System"}
        for at, kind, body, name in rows
    ]


def _figures(session, site_id, year, month, today) -> tuple[dict, dict]:
    forecast = pnl_service.month_lines(session, [site_id], year, month, today)
    budget = _budget_month(session, [site_id], year, month)
    f = forecast.iloc[0].to_dict() if not forecast.empty else {}
    b = budget.iloc[0].to_dict() if not budget.empty else {}
    return (
        {line: round(float(f.get(line, 0.0)), 2) for line in SNAPSHOT_LINES},
        {line: round(float(b.get(line, 0.0)), 2) for line in SNAPSHOT_LINES},
    )


def month_review(
    session: Session, principal: Principal, site_id: int, year: int, month: int, today: dt.date
) -> dict:
    """Everything the workspace's submission panel shows for a site-month, JSON-ready."""
    require_view(session, principal, site_id, today)
    row = _row(session, site_id, year, month)
    state = _state(row)
    forecast, budget = _figures(session, site_id, year, month, today)
    limits = thresholds(session)
    flags = sm.variance_flags(forecast, budget, limits)
    texts = _explanations(session, site_id, year, month)
    unexplained = {f.line for f in sm.unexplained(flags, {k: v["text"] for k, v in texts.items()})}
    may_edit = can_edit_site(session, principal, site_id, today)
    closed = month_closed(year, month, today)
    missing = [] if closed else missing_inputs(session, site_id, year, month, today)
    names = accounts.display_names(
        session, [row.submitted_by_id, row.reviewed_by_id] if row else []
    )
    submit_ok = may_edit and not closed and _allowed(state, sm.SUBMIT, principal.role)
    return {
        "site_id": site_id,
        "year": year,
        "month": month,
        "status": state,
        "status_label": sm.STATE_LABELS[state],
        "version": row.version if row else 0,
        "submitted_by": names.get(row.submitted_by_id) if row else None,
        "submitted_at": row.submitted_at.isoformat(timespec="minutes")
        if row and row.submitted_at
        else None,
        "reviewed_by": names.get(row.reviewed_by_id) if row else None,
        "review_comment": row.review_comment if row else None,
        "deadline": sm.submission_deadline(year, month).isoformat(),
        "closed": closed,
        "thresholds": {"pct": limits.pct, "amount": limits.amount},
        "figures": {line: _figure(forecast[line], budget[line]) for line in SUMMARY_LINES},
        "flags": [
            {
                "line": f.line,
                "label": LINE_LABELS[f.line],
                "forecast": f.forecast,
                "budget": f.budget,
                "amount": f.amount,
                "fraction": f.fraction,
                "explained": f.line not in unexplained,
            }
            for f in flags
        ],
        "explanations": texts,
        "missing": missing,
        "may_edit": may_edit,
        "edit_block": sm.edit_block_reason(state, principal.role) if may_edit else None,
        "may_submit": submit_ok,
        "may_decide": may_edit and principal.role in sm.REVIEWER_ROLES,
        "thread": _thread(session, row.id if row else None),
    }


def _figure(forecast: float, budget: float) -> dict:
    amount, fraction = pnl_domain.variance(forecast, budget)
    return {"forecast": forecast, "budget": budget, "variance": amount, "fraction": fraction}


def _allowed(state: str, action: str, role: str) -> bool:
    try:
        sm.transition(state, action, role, comment="-")
    except sm.TransitionError:
        return False
    return True


# --- Actions -----------------------------------------------------------------------------------


def save_explanations(
    db: Database,
    principal: Principal,
    site_id: int,
    year: int,
    month: int,
    texts: dict[str, str],
    today: dt.date,
) -> Outcome:
    """Write the explanations of flagged lines (FLC, internal revenue); audited."""
    texts = {k: (v or "").strip() for k, v in (texts or {}).items()}
    unknown = [k for k in texts if k not in sm.FLAGGED_LINES]
    if unknown:
        return Outcome(False, f"Unknown line(s): {', '.join(unknown)}.")
    if any(len(v) > sm.MAX_COMMENT for v in texts.values()):
        return Outcome(False, f"Keep each explanation under {sm.MAX_COMMENT:,} characters.")
    with db.write() as session:
        if not can_edit_site(session, principal, site_id, today):
            return Outcome(False, "You may not change this site's forecast.")
        reason = sm.edit_block_reason(_state(_row(session, site_id, year, month)), principal.role)
        if reason:
            return Outcome(False, reason)
        _write_explanations(session, principal, site_id, year, month, texts)
    return Outcome(True, "Explanations saved.")


def _write_explanations(session, principal, site_id, year, month, texts) -> None:
    now = _now()
    stored = {
        r.line: r
        for r in session.scalars(
            select(VarianceExplanation).where(
                VarianceExplanation.site_id == site_id,
                VarianceExplanation.year == year,
                VarianceExplanation.month == month,
            )
        )
    }
    for line, text in texts.items():
        row = stored.get(line)
        old = row.text if row else None
        if (old or "") == text:
            continue
        if row is None:
            session.add(
                VarianceExplanation(
                    site_id=site_id,
                    year=year,
                    month=month,
                    line=line,
                    text=text,
                    version=1,
                    updated_at=now,
                    updated_by_id=principal.user_id,
                )
            )
        else:
            row.text, row.version = text, row.version + 1
            row.updated_at, row.updated_by_id = now, principal.user_id
        audit.record(
            session,
            user_id=principal.user_id,
            site_id=site_id,
            action="update" if row else "insert",
            entity="variance_explanation",
            record_key=f"{year}-{month:02d}|{line}",
            field="explanation",
            old_value=old,
            new_value=text,
        )


def submit(
    db: Database,
    principal: Principal,
    site_id: int,
    year: int,
    month: int,
    today: dt.date,
    seen_version: int,
    explanations: dict[str, str] | None = None,
) -> Outcome:
    """Submit the site-month: explanations saved first (kept even when the submission is
    blocked: nothing typed is lost), then the checklist (missing inputs, unexplained flags)
    re-checked on the server; a snapshot of the month's P&L lines and key statistics is frozen
    with the submission, all in one transaction."""
    if explanations:
        written = save_explanations(db, principal, site_id, year, month, explanations, today)
        if not written.ok:
            return written
    try:
        with db.write() as session:
            if not can_edit_site(session, principal, site_id, today):
                return Outcome(False, "You may not change this site's forecast.")
            if month_closed(year, month, today):
                return Outcome(False, "This month has closed: it can no longer be submitted.")
            row = _row(session, site_id, year, month)
            try:
                step = sm.transition(_state(row), sm.SUBMIT, principal.role)
            except sm.TransitionError as refused:
                return Outcome(False, str(refused))
            if (row.version if row else 0) != seen_version:
                raise _Abort(None, row.id if row else None)
            forecast, budget = _figures(session, site_id, year, month, today)
            flags = sm.variance_flags(forecast, budget, thresholds(session))
            texts = {k: v["text"] for k, v in _explanations(session, site_id, year, month).items()}
            problems = missing_inputs(session, site_id, year, month, today)
            for flag in sm.unexplained(flags, texts):
                share = "n/a" if flag.fraction is None else f"{flag.fraction * 100:+.1f}%"
                problems.append(
                    f"{LINE_LABELS[flag.line]} is {_money(flag.amount)} ({share}) against budget: "
                    "write an explanation."
                )
            if problems:
                raise _Abort(Outcome(False, "Not submitted: fix the items below first.", problems))
            now = _now()
            if row is None:
                row = _new_row(session, site_id, year, month)
            values = {
                "status": step.after,
                "submitted_by_id": principal.user_id,
                "submitted_at": now,
                "reviewed_by_id": None,
                "reviewed_at": None,
                "updated_at": now,
                "updated_by_id": principal.user_id,
            }
            if not _move(session, row, row.version, values):
                raise _Abort(None, row.id)
            for line in SNAPSHOT_LINES:
                session.add(
                    ForecastSnapshotLine(
                        submission_id=row.id, taken_at=now, line=line, value=forecast[line]
                    )
                )
            for line, value in _key_statistics(session, site_id, year, month, today).items():
                session.add(
                    ForecastSnapshotLine(submission_id=row.id, taken_at=now, line=line, value=value)
                )
            session.flush()
            figures.refresh(session, [site_id], today, (figures.SUBMITTED,))
            note = "; ".join(f"{LINE_LABELS[f.line]}: {texts[f.line]}" for f in flags)
            _comment(session, row.id, principal.user_id, sm.SUBMIT, note or "Submitted.")
            _audit_transition(session, principal.user_id, row, step, note or None)
    except _Abort as stop:
        return _aborted(db, stop)
    return Outcome(True, f"Submitted {dt.date(year, month, 1):%B %Y} for review.")


def _key_statistics(session, site_id, year, month, today) -> dict[str, float]:
    if (year, month) == (today.year, today.month):
        drivers = pnl_inputs.trending_drivers(session, [site_id], today).months
    else:
        drivers = pnl_inputs.forecast_drivers(session, [site_id], year, [month]).months
    if drivers.empty:
        return {}
    first = drivers.iloc[0]
    return {
        "occupied_rooms": round(float(first["occupied_rooms"]), 2),
        "labor_hours": round(float(first["labor_hours"]), 2),
    }


def _money(amount: float) -> str:
    sign = "-" if amount < 0 else "+"
    return f"{sign}${abs(amount):,.0f}"


def _stale_message(session, row_id: int | None) -> str:
    fresh = session.get(ForecastSubmission, row_id) if row_id else None
    if fresh is None:
        return "This month changed since you loaded it. Reload to see the latest."
    by = accounts.display_names(session, [fresh.updated_by_id]).get(fresh.updated_by_id, "someone")
    return (
        f"This submission changed since you loaded it (now {sm.STATE_LABELS[fresh.status].lower()}, "
        f"last changed by {by}). Reload to see the latest before deciding."
    )


class _Abort(Exception):
    """Leave the transaction (rolled back) with an outcome, or as stale (``row_id``)."""

    def __init__(self, outcome: Outcome | None, row_id: int | None = None) -> None:
        super().__init__()
        self.outcome, self.row_id = outcome, row_id


def _aborted(db: Database, stop: _Abort) -> Outcome:
    if stop.outcome is not None:
        return stop.outcome
    with db.read() as session:
        return Outcome(False, _stale_message(session, stop.row_id), stale=True)


def decide(
    db: Database,
    principal: Principal,
    site_id: int,
    year: int,
    month: int,
    action: str,
    comment: str | None,
    seen_version: int,
    today: dt.date,
) -> Outcome:
    """Approve, return (comment required) or reopen (reason required) one site-month."""
    if action not in (sm.APPROVE, sm.RETURN, sm.REOPEN):
        return Outcome(False, f"Unknown action {action!r}.")
    try:
        with db.write() as session:
            if not can_edit_site(session, principal, site_id, today):
                return Outcome(False, "This site is not in your scope.")
            row = _row(session, site_id, year, month)
            try:
                step = sm.transition(
                    _state(row),
                    action,
                    principal.role,
                    comment=comment,
                    is_submitter=bool(row and row.submitted_by_id == principal.user_id),
                )
            except sm.TransitionError as refused:
                if row is not None and row.version != seen_version:
                    raise _Abort(None, row.id) from refused
                return Outcome(False, str(refused))
            now = _now()
            values = {"status": step.after, "updated_at": now, "updated_by_id": principal.user_id}
            if action in (sm.APPROVE, sm.RETURN):
                values.update(
                    reviewed_by_id=principal.user_id,
                    reviewed_at=now,
                    review_comment=(comment or "").strip() or None,
                )
            if not _move(session, row, seen_version, values):
                raise _Abort(None, row.id)
            text = (comment or "").strip()
            _comment(
                session,
                row.id,
                principal.user_id,
                action,
                text or sm.STATE_LABELS[step.after] + ".",
            )
            _audit_transition(session, principal.user_id, row, step, text or None)
    except _Abort as stop:
        return _aborted(db, stop)
    verb = {sm.APPROVE: "Approved", sm.RETURN: "Returned", sm.REOPEN: "Reopened"}[action]
    return Outcome(True, f"{verb} {dt.date(year, month, 1):%B %Y}.")


def add_comment(
    db: Database,
    principal: Principal,
    site_id: int,
    year: int,
    month: int,
    body: str,
    today: dt.date,
) -> Outcome:
    """A free comment in the month's thread (anyone who may edit the site)."""
    text = (body or "").strip()
    if not text:
        return Outcome(False, "Write a comment first.")
    if len(text) > sm.MAX_COMMENT:
        return Outcome(False, f"Keep the comment under {sm.MAX_COMMENT:,} characters.")
    with db.write() as session:
        if not can_edit_site(session, principal, site_id, today):
            return Outcome(False, "This site is not in your scope.")
        row = _locked_row(session, site_id, year, month)
        _comment(session, row.id, principal.user_id, "comment", text)
        audit.record(
            session,
            user_id=principal.user_id,
            site_id=site_id,
            action="comment",
            entity=ENTITY,
            record_key=f"{year}-{month:02d}",
            new_value=text,
        )
    return Outcome(True, "Comment added.")


def bulk_approve(
    db: Database,
    principal: Principal,
    items: Sequence[tuple[int, int]],
    year: int,
    month: int,
    today: dt.date,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[int], list[tuple[int, str]]]:
    """Approve each (site id, seen version) that is submitted and has no unexplained flag;
    every other one is skipped with the reason. Each approval is its own transaction, so one
    refusal leaves the others done. ``progress(done, total)`` is told how many are done before each next site."""
    approved, skipped = [], []
    for done, (site_id, seen_version) in enumerate(items):
        if progress is not None and done:
            progress(done, len(items))
        with db.read() as session:
            if not can_edit_site(session, principal, site_id, today):
                skipped.append((site_id, "not in your scope"))
                continue
            forecast, budget = _figures(session, site_id, year, month, today)
            flags = sm.variance_flags(forecast, budget, thresholds(session))
            texts = {k: v["text"] for k, v in _explanations(session, site_id, year, month).items()}
        open_flags = sm.unexplained(flags, texts)
        if open_flags:
            names = ", ".join(LINE_LABELS[f.line] for f in open_flags)
            skipped.append((site_id, f"unexplained variance: {names}"))
            continue
        outcome = decide(db, principal, site_id, year, month, sm.APPROVE, None, seen_version, today)
        if outcome.ok:
            approved.append(site_id)
        else:
            skipped.append((site_id, outcome.message))
    return approved, skipped


def bulk_return(
    db: Database,
    principal: Principal,
    items: Sequence[tuple[int, int]],
    year: int,
    month: int,
    comment: str | None,
    today: dt.date,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[int], list[tuple[int, str]]]:
    """Return each (site id, seen version) with the comment; each its own transaction, a
    refusal (not submitted, no comment, out of scope, changed meanwhile) skipped with the
    reason. ``progress(done, total)`` is told how many are done before each next site."""
    returned, skipped = [], []
    for done, (site_id, seen_version) in enumerate(items):
        if progress is not None and done:
            progress(done, len(items))
        outcome = decide(
            db, principal, site_id, year, month, sm.RETURN, comment, seen_version, today
        )
        if outcome.ok:
            returned.append(site_id)
        else:
            skipped.append((site_id, outcome.message))
    return returned, skipped


def close_months(db: Database, today: dt.date) -> int:
    """The month-end close: approved months that have ended become LOCKED (audited, by the
    system). Idempotent; run when the roll-up or the inbox is read."""
    first_open = dt.date(today.year, today.month, 1)
    with db.read() as session:
        due = session.execute(
            select(ForecastSubmission.id, ForecastSubmission.version).where(
                ForecastSubmission.status == sm.APPROVED,
                before_month(first_open.year, first_open.month),
            )
        ).all()
    locked = 0
    for submission_id, version in due:
        with db.write() as session:
            row = session.get(ForecastSubmission, submission_id)
            step = sm.transition(row.status, sm.CLOSE, sm.SYSTEM)
            if _move(session, row, version, {"status": step.after, "updated_at": _now()}):
                _comment(session, row.id, None, sm.CLOSE, "Locked at month-end close.")
                _audit_transition(session, None, row, step, "month-end close")
                locked += 1
    return locked
