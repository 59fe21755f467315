"""The one optimistic-locking write of every forecast record (statistics days, rates,
payroll days, other revenue/expense months)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlalchemy.orm import Session


def write(
    session: Session,
    model,
    row_id: int | None,
    seen_version: int,
    values: dict,
    *,
    user_id: int | None,
    now: dt.datetime,
    keys: dict,
) -> bool:
    """Insert a new forecast row (version 1, ``keys`` + ``values``) when ``row_id`` is None,
    else ``UPDATE … WHERE id AND version = seen_version`` bumping the version. False when the
    row changed since it was read (the caller reports a conflict)."""
    stamp = {"updated_at": now, "updated_by_id": user_id}
    if row_id is None:
        session.add(model(**keys, kind="forecast", version=1, **stamp, **values))
        return True
    done = session.execute(
        update(model)
        .where(model.id == row_id, model.version == seen_version)
        .values(version=seen_version + 1, **stamp, **values)
        .execution_options(synchronize_session=False)
    )
    return done.rowcount == 1
