"""Appending to the audit log; the only code that writes ``audit_log`` (never updates it).

Tamper evidence. Every row carries ``chain_seq`` (1, 2, 3, ... with no gaps) and
``chain_hash`` = SHA-256 of the previous row's hash followed by this row's fields
(:func:`canonical_text`); the one row of ``audit_chain_head`` names the last sequence number
and hash. :func:`verify_chain` (``python -m dashboard audit-verify``) walks the chain and
reports a missing sequence number (a deleted row), a hash that does not follow from the
row's fields and its predecessor (an altered row), rows past the head or a head past the
last row (deleted tail), and rows without a place in the chain (written around this module).

Writing. :func:`record` / :func:`record_all` only *buffer* the rows on the caller's
``Session`` (``session.info``); a ``before_commit`` session event appends them at the very
end of the transaction:

1. flush the transaction's own pending changes (so nothing of the caller's runs after 3.),
2. PostgreSQL: take the key-share locks that the rows' foreign-key checks (``site``,
   ``app_user``) would take, in id order,
3. lock the chain head (``SELECT ... FOR UPDATE``; SQLite runs one write transaction at a
   time anyway — the write sessions begin ``IMMEDIATE``), number and hash the rows from it,
   insert them in one statement and move the head,
4. commit, which releases the head.

Why it cannot deadlock: the head lock is the last lock a transaction takes. While holding
it, the transaction only inserts new audit rows (whose foreign-key locks it already holds
from step 2, and which no one else can see yet) and updates the head it holds; it waits
for no lock another transaction holds. So a transaction waiting for the head waits for one
that will finish, and a cycle of waits through the head cannot form. The head is held
from the end of the work to the commit (a few statements), not for the whole save: the
cost is that commits with audit rows are serialized, not the saves themselves.

Rows buffered in a transaction that rolls back (or in a savepoint that rolls back) are
dropped with it. A caller that reads audit rows back sees them only after its commit (no
caller does so inside the transaction).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import event, insert, select, tuple_, update
from sqlalchemy.orm import Session, SessionTransaction

from dashboard.data.db import Database
from dashboard.data.models import AuditChainHead, AuditLog, Site, User

GENESIS_HASH = "0" * 64  # the "previous hash" of the first row
HEAD_ID = 1
_PENDING = "dashboard.audit.pending"  # session.info key: [(transaction, rows), ...]

# The fields a row's hash covers, in the order of the canonical text.
CHAINED_FIELDS = (
    "chain_seq",
    "at",
    "user_id",
    "site_id",
    "action",
    "entity",
    "record_key",
    "field",
    "old_value",
    "new_value",
    "reason",
)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def record(
    session: Session,
    *,
    user_id: int | None,
    action: str,
    entity: str,
    site_id: int | None = None,
    record_key: str = "",
    field: str = "",
    old_value: object = None,
    new_value: object = None,
    reason: str | None = None,
) -> None:
    """Append one audit row inside the caller's transaction (written at its commit)."""
    record_all(
        session,
        [
            {
                "user_id": user_id,
                "site_id": site_id,
                "action": action,
                "entity": entity,
                "record_key": record_key,
                "field": field,
                "old_value": old_value,
                "new_value": new_value,
                "reason": reason,
            }
        ],
    )


def record_all(session: Session, entries: Iterable[dict]) -> None:
    """Append many audit rows (each with ``record``'s keywords) inside the caller's
    transaction: they are chained and inserted in one statement when it commits, and
    dropped if it rolls back."""
    at = _now()
    rows = [
        {
            "at": at,
            "user_id": None if e["user_id"] is None else int(e["user_id"]),
            "site_id": None if e.get("site_id") is None else int(e["site_id"]),
            "action": e["action"],
            "entity": e["entity"],
            "record_key": e.get("record_key", ""),
            "field": e.get("field", ""),
            "old_value": None if e.get("old_value") is None else str(e["old_value"]),
            "new_value": None if e.get("new_value") is None else str(e["new_value"]),
            "reason": e.get("reason"),
        }
        for e in entries
    ]
    if not rows:
        return
    if session.get_transaction() is None:
        session.connection()  # begin now, as writing the rows at once did
    where = session.get_nested_transaction() or session.get_transaction()
    session.info.setdefault(_PENDING, []).append((where, rows))


# --- the chain -----------------------------------------------------------------------------


def canonical_text(row: Mapping[str, object]) -> str:
    """The fields of ``CHAINED_FIELDS`` as one JSON object (sorted keys, no spaces, UTF-8
    text kept as is; ``at`` as ``YYYY-MM-DD HH:MM:SS.ffffff``, UTC without zone)."""
    at = row["at"]
    if not isinstance(at, dt.datetime):
        raise TypeError(f"audit row 'at' must be a datetime, not {type(at).__name__}")
    values = {name: row.get(name) for name in CHAINED_FIELDS}
    values["at"] = at.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    for name in ("chain_seq", "user_id", "site_id"):
        values[name] = None if values[name] is None else int(values[name])
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def chain_hash(previous_hash: str, row: Mapping[str, object]) -> str:
    """SHA-256 (hex) of the previous row's hash (64 hex characters) followed by the row's
    canonical text, as UTF-8."""
    return hashlib.sha256((previous_hash + canonical_text(row)).encode("utf-8")).hexdigest()


def _hold_referenced_keys(session: Session, rows: list[dict]) -> None:
    """PostgreSQL: take now, in id order, the key-share locks the rows' foreign-key checks
    will take, so that nothing is waited for once the head is held."""
    for model, column in ((Site, "site_id"), (User, "user_id")):
        ids = sorted({r[column] for r in rows if r[column] is not None})
        if ids:
            session.execute(
                select(model.id)
                .where(model.id.in_(ids))
                .order_by(model.id)
                .with_for_update(read=True, key_share=True)
            ).all()


def _append_chained(session: Session, rows: list[dict]) -> None:
    if session.get_bind().dialect.name == "postgresql":
        _hold_referenced_keys(session, rows)
    head = session.execute(
        select(AuditChainHead.seq, AuditChainHead.hash)
        .where(AuditChainHead.id == HEAD_ID)
        .with_for_update()
    ).one_or_none()
    if head is None:
        raise RuntimeError("audit_chain_head has no row: migrate the database (init-db)")
    seq, previous = int(head.seq), head.hash
    for row in rows:
        seq += 1
        row["chain_seq"] = seq
        row["chain_hash"] = previous = chain_hash(previous, row)
    session.execute(insert(AuditLog), rows)
    session.execute(
        update(AuditChainHead.__table__)
        .where(AuditChainHead.__table__.c.id == HEAD_ID)
        .values(seq=seq, hash=previous)
    )


def _within(where: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while where is not None:
        if where is ended:
            return True
        where = where.parent
    return False


@event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint is released: its rows wait for the outer commit
    batches = session.info.pop(_PENDING, None)
    if not batches:
        return
    session.flush()  # the caller's own writes first: after the head's lock, nothing else
    _append_chained(session, [row for _, rows in batches for row in rows])


@event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    batches = session.info.get(_PENDING)
    if batches:
        session.info[_PENDING] = [
            (where, rows) for where, rows in batches if not _within(where, previous_transaction)
        ]


@event.listens_for(Session, "after_transaction_end")
def _forget(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


# --- verification --------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainBreak:
    """One place where the chain does not hold: the row (``None``: the head) and why."""

    row_id: int | None
    chain_seq: int | None
    problem: str

    def __str__(self) -> str:
        where = "chain head" if self.row_id is None else f"audit row id {self.row_id}"
        if self.chain_seq is not None:
            where += f" (chain_seq {self.chain_seq})"
        return f"{where}: {self.problem}"


@dataclass
class ChainReport:
    """What :func:`verify_chain` found: rows checked, the head, the first breaks."""

    rows: int = 0
    head_seq: int | None = None
    head_hash: str | None = None
    breaks: list[ChainBreak] = field(default_factory=list)
    break_count: int = 0

    @property
    def intact(self) -> bool:
        return self.break_count == 0


def _span(first: int, last: int) -> str:
    return f"{first}" if first == last else f"{first}..{last}"


_ROW_COLUMNS = (
    AuditLog.id,
    AuditLog.chain_hash,
    *(getattr(AuditLog, name) for name in CHAINED_FIELDS),
)


def verify_chain(
    db: Database, limit: int = 20, expect: tuple[int, str] | None = None, batch: int = 5000
) -> ChainReport:
    """Walk the audit chain in one consistent snapshot and report every break (the first
    ``limit`` in detail). ``expect`` = (seq, hash) recorded earlier elsewhere: the chain must
    still hold that row (a rewritten chain would not)."""
    report = ChainReport()

    def broken(row_id: int | None, seq: int | None, problem: str) -> None:
        report.break_count += 1
        if len(report.breaks) < limit:
            report.breaks.append(ChainBreak(row_id, seq, problem))

    options = {"isolation_level": "REPEATABLE READ"} if db.engine.dialect.name != "sqlite" else {}
    with db.engine.connect().execution_options(**options) as conn, conn.begin():
        head = conn.execute(
            select(AuditChainHead.seq, AuditChainHead.hash).where(AuditChainHead.id == HEAD_ID)
        ).one_or_none()
        if head is None:
            broken(None, None, "missing (audit_chain_head has no row)")
        else:
            report.head_seq, report.head_hash = int(head.seq), head.hash
        expected, previous, previous_id, found_expected = 1, GENESIS_HASH, None, False
        after = (0, 0)
        while True:  # in pages of ``batch`` rows, by sequence number (then id)
            page = conn.execute(
                select(*_ROW_COLUMNS)
                .where(
                    AuditLog.chain_seq.is_not(None),
                    tuple_(AuditLog.chain_seq, AuditLog.id) > tuple_(*after),
                )
                .order_by(AuditLog.chain_seq, AuditLog.id)
                .limit(batch)
            ).all()
            for row in page:
                seq = int(row.chain_seq)
                report.rows += 1
                if seq > expected:
                    missing = _span(expected, seq - 1)
                    before = "the start" if previous_id is None else f"row id {previous_id}"
                    broken(
                        row.id,
                        seq,
                        f"chain_seq {missing} missing before it (after {before}): row(s) deleted",
                    )
                elif seq < expected:
                    broken(row.id, seq, "a second row with this chain_seq (inserted or altered)")
                elif chain_hash(previous, row._mapping) != row.chain_hash:
                    broken(
                        row.id,
                        seq,
                        "altered: its hash does not follow from its fields and the previous "
                        "row's hash",
                    )
                if expect is not None and seq == expect[0]:
                    found_expected = True
                    if row.chain_hash != expect[1]:
                        broken(row.id, seq, "its hash is not the one recorded (--expect)")
                expected, previous, previous_id = max(expected, seq + 1), row.chain_hash, row.id
            if len(page) < batch:
                break
            after = (int(page[-1].chain_seq), int(page[-1].id))
        last = expected - 1
        if report.head_seq is not None:
            if report.head_seq > last:
                broken(
                    None,
                    report.head_seq,
                    f"the last row has chain_seq {last}: "
                    f"chain_seq {_span(last + 1, report.head_seq)} deleted",
                )
            elif report.head_seq < last:
                broken(None, report.head_seq, f"behind the last row (chain_seq {last}): altered")
            elif report.head_hash != previous:
                broken(None, report.head_seq, "its hash is not the last row's: one was altered")
        if expect is not None and not found_expected:
            broken(None, expect[0], "the recorded row (--expect) is not in the chain")
        unchained = conn.execute(
            select(AuditLog.id).where(AuditLog.chain_seq.is_(None)).order_by(AuditLog.id)
        ).scalars()
        for row_id in unchained:
            broken(row_id, None, "not chained (written around dashboard.services.audit)")
    return report
