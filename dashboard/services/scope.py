"""Which sites a person may see and edit (DOMAIN.md §9, decision D8).

Every query and every callback goes through this module:
* account manager: the sites assigned to them;
* district manager: the sites of their districts (plus any sites assigned for coverage);
* regional vice president: the sites of their regions; may edit;
* executive: every site, read-only;
* admin: every site, read-only (configuration only).
Assignments may be dated (coverage for a colleague on leave); only those valid today count.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Select, and_, bindparam, or_, select
from sqlalchemy.orm import Session

from dashboard.data.models import District, ScopeAssignment, Site

EDITING_ROLES = frozenset({"account_manager", "district_manager", "regional_vp"})
ALL_SITES_ROLES = frozenset({"executive", "admin"})
ROLE_LABELS = {
    "account_manager": "Account manager",
    "district_manager": "District manager",
    "regional_vp": "Regional vice president",
    "executive": "Executive",
    "admin": "Administrator",
}


@dataclass(frozen=True)
class Principal:
    """The signed-in person as the services see them."""

    user_id: int
    role: str
    display_name: str
    email: str

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    @property
    def may_edit(self) -> bool:
        return self.role in EDITING_ROLES


class ScopeError(PermissionError):
    """The request touches a site outside the person's scope."""


def _active_assignments(user_id, today):
    return and_(
        ScopeAssignment.user_id == user_id,
        or_(ScopeAssignment.valid_from.is_(None), ScopeAssignment.valid_from <= today),
        or_(ScopeAssignment.valid_to.is_(None), ScopeAssignment.valid_to >= today),
    )


def _visible_sites_of(role: str, user_id, today) -> Select:
    """``visible_sites`` of a role, for a person and day given as values or as bound
    parameters (``scope_statement``)."""
    if role in ALL_SITES_ROLES:
        return select(Site.id)
    active = _active_assignments(user_id, today)
    assigned_sites = select(ScopeAssignment.site_id).where(
        active, ScopeAssignment.site_id.is_not(None)
    )
    conditions = [Site.id.in_(assigned_sites)]
    if role in ("district_manager", "regional_vp"):
        districts = select(ScopeAssignment.district_id).where(
            active, ScopeAssignment.district_id.is_not(None)
        )
        conditions.append(Site.district_id.in_(districts))
    if role == "regional_vp":
        regions = select(ScopeAssignment.region_id).where(
            active, ScopeAssignment.region_id.is_not(None)
        )
        conditions.append(
            Site.district_id.in_(select(District.id).where(District.region_id.in_(regions)))
        )
    return select(Site.id).where(or_(*conditions))


def visible_sites(principal: Principal, today: dt.date) -> Select:
    """``SELECT site.id`` of every site the person may see, for use as a subquery."""
    return _visible_sites_of(principal.role, principal.user_id, today)


# The bound parameters of ``bound_visible_sites``: pass ``scope_params(principal, today)``.
SCOPE_USER, SCOPE_DAY = "scope_user_id", "scope_today"


def bound_visible_sites(role: str) -> Select:
    """``visible_sites`` of a role with the person and the day as bound parameters, for
    statements built once and run many times (their parameters: ``scope_params``)."""
    return _visible_sites_of(role, bindparam(SCOPE_USER), bindparam(SCOPE_DAY))


def scope_params(principal: Principal, today: dt.date) -> dict:
    if principal.role in ALL_SITES_ROLES:
        return {}
    return {SCOPE_USER: principal.user_id, SCOPE_DAY: today}


def visible_site_ids(session: Session, principal: Principal, today: dt.date) -> set[int]:
    return set(session.scalars(visible_sites(principal, today)))


def can_view_site(session: Session, principal: Principal, site_id: int, today: dt.date) -> bool:
    query = visible_sites(principal, today).where(Site.id == site_id)
    return session.scalar(query) is not None


def can_edit_site(session: Session, principal: Principal, site_id: int, today: dt.date) -> bool:
    return principal.may_edit and can_view_site(session, principal, site_id, today)


def require_view(session: Session, principal: Principal, site_id: int, today: dt.date) -> None:
    if not can_view_site(session, principal, site_id, today):
        raise ScopeError("This site is not in your scope.")


def require_edit(session: Session, principal: Principal, site_id: int, today: dt.date) -> None:
    if not can_edit_site(session, principal, site_id, today):
        raise ScopeError("You may not change this site's forecast.")
