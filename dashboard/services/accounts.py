"""People: password hashing (argon2id), sign-in checks, creating users."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.data.models import ROLES, District, Region, ScopeAssignment, Site, User
from dashboard.services import audit
from dashboard.services.scope import Principal

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# Verified against when the e-mail is unknown, so a miss costs as much time as a hit.
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_PASSWORD_LENGTH = 10


def hash_password(password: str) -> str:
    return _hasher.hash(password)


# Demo accounts are seeded by the hundred with the printed demo password: each gets a hash
# with its own salt, made with lighter argon2id parameters (~2 ms instead of ~120 ms), and
# rehashed with the standard ones at its first sign-in (``upgrade_password_hash``).
_SEED_HASHER = PasswordHasher(time_cost=1, memory_cost=4096, parallelism=1)


def seed_password_hashes(password: str, count: int) -> list[str]:
    """``count`` hashes of one password, each with its own random salt."""
    return [_SEED_HASHER.hash(password) for _ in range(count)]


def upgrade_password_hash(session: Session, user_id: int, password: str) -> bool:
    """After a successful sign-in: rehash the password with the standard parameters when the
    stored hash was made with others (seeded accounts, older parameters); audited. Returns
    whether it was rehashed."""
    user = session.get(User, user_id)
    if user is None or not _hasher.check_needs_rehash(user.password_hash):
        return False
    user.password_hash = _hasher.hash(password)
    audit.record(
        session,
        user_id=user_id,
        action="password_rehashed",
        entity="app_user",
        record_key=user.email[:80],
        field="password_hash",
    )
    return True


def principal_of(user: User) -> Principal:
    return Principal(user.id, user.role, user.display_name, user.email)


def authenticate(session: Session, email: str, password: str) -> Principal | None:
    """The person if the e-mail and password match an active account, else None.

    The caller shows one generic message for every failure.
    """
    user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    stored = user.password_hash if user is not None else _DUMMY_HASH
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if user is None or not user.is_active:
        return None
    return principal_of(user)


class UserInputError(ValueError):
    """Every problem found with a create-user request, reported at once."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class NewUser:
    email: str
    display_name: str
    role: str
    password: str
    site_numbers: tuple[str, ...] = ()
    district: str | None = None
    region: str | None = None
    valid_from: dt.date | None = None
    valid_to: dt.date | None = None


def create_user(session: Session, request: NewUser, created_by: int | None = None) -> int:
    """Validate (collecting every problem), create the person and their scope, audit it."""
    problems = []
    email = request.email.strip().lower()
    if "@" not in email or len(email) > 255:
        problems.append(f"'{request.email}' is not an e-mail address.")
    elif session.scalar(select(User.id).where(func.lower(User.email) == email)):
        problems.append(f"A person with e-mail {email} already exists.")
    if request.role not in ROLES:
        problems.append(f"Role must be one of: {', '.join(ROLES)}.")
    if len(request.password) < MIN_PASSWORD_LENGTH:
        problems.append(f"The password needs at least {MIN_PASSWORD_LENGTH} characters.")
    site_ids: list[int] = []
    for number in request.site_numbers:
        site_id = session.scalar(select(Site.id).where(Site.site_number == number.zfill(4)))
        if site_id is None:
            problems.append(f"No site numbered {number}.")
        else:
            site_ids.append(site_id)
    district_id = region_id = None
    if request.district:
        district_id = session.scalar(select(District.id).where(District.name == request.district))
        if district_id is None:
            problems.append(f"No district named '{request.district}'.")
    if request.region:
        region_id = session.scalar(select(Region.id).where(Region.name == request.region))
        if region_id is None:
            problems.append(f"No region named '{request.region}'.")
    needs = {
        "account_manager": ("site", bool(site_ids) or bool(request.site_numbers)),
        "district_manager": ("district", bool(request.district)),
        "regional_vp": ("region", bool(request.region)),
    }
    if request.role in needs and not needs[request.role][1]:
        problems.append(f"A {request.role.replace('_', ' ')} needs a {needs[request.role][0]}.")
    if problems:
        raise UserInputError(problems)

    user = User(
        email=email,
        display_name=request.display_name.strip() or email,
        password_hash=hash_password(request.password),
        role=request.role,
    )
    session.add(user)
    session.flush()
    grants = [ScopeAssignment(site_id=s) for s in site_ids]
    if district_id:
        grants.append(ScopeAssignment(district_id=district_id))
    if region_id:
        grants.append(ScopeAssignment(region_id=region_id))
    for grant in grants:
        grant.user_id = user.id
        grant.valid_from = request.valid_from
        grant.valid_to = request.valid_to
        session.add(grant)
    audit.record(
        session,
        user_id=created_by,
        action="create",
        entity="user",
        record_key=email,
        field="role",
        new_value=request.role,
    )
    return user.id


def display_names(session: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    """Display name per user id (missing ids left out); for "saved by" and "last edit by"."""
    wanted = {int(i) for i in user_ids if i}
    if not wanted:
        return {}
    query = select(User.id, User.display_name).where(User.id.in_(wanted))
    return dict(session.execute(query).all())
