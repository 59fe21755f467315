"""Which months of a site a person may change, and why not: the save's own rules (the role and
scope, then the month's submission state, DOMAIN §8.3) asked before anything is typed, so every
grid shows the months it would refuse as read-only and says why."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from dashboard.data.models import ForecastSubmission
from dashboard.domain import submission as sm
from dashboard.services.scope import Principal, can_edit_site


def month_edit_blocks(
    session: Session,
    principal: Principal,
    site_id: int,
    months: Iterable[tuple[int, int]],
    today: dt.date,
) -> dict[tuple[int, int], str | None]:
    """Per month why the person may not change the site's inputs of it (None: they may) —
    the same rules the save applies: the role and scope, then the month's submission
    state. What the grids show as read-only and say why."""
    chosen = sorted(set(months))
    if not chosen:
        return {}
    if not can_edit_site(session, principal, site_id, today):
        reason = (
            sm.edit_block_reason(sm.DRAFT, principal.role)
            if not principal.may_edit
            else "This site is not in the sites you may change."
        )
        return dict.fromkeys(chosen, reason)
    f = ForecastSubmission
    states = dict(
        (((int(y), int(m)), status))
        for y, m, status in session.execute(
            select(f.year, f.month, f.status).where(
                f.site_id == site_id,
                or_(*[and_(f.year == y, f.month == m) for y, m in chosen]),
            )
        ).all()
    )
    return {ym: sm.edit_block_reason(states.get(ym, sm.DRAFT), principal.role) for ym in chosen}
