"""Engine and session factory.

SQLite runs in WAL mode with a busy timeout and foreign keys on; write transactions start with
``BEGIN IMMEDIATE`` so a read-then-write never fails half-way on a lock upgrade.
"""

from __future__ import annotations

import contextlib
import os
import weakref
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

SQLITE_BUSY_TIMEOUT_MS = 10_000


SQLITE_CACHE_KIB = 32 * 1024
SQLITE_MMAP_BYTES = 256 * 1024 * 1024


def make_engine(url: str, **kwargs: object) -> Engine:
    """Create an engine with this project's connection settings."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}, **kwargs
        )
        _configure_sqlite(engine)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if parsed.get_backend_name() == "postgresql":
        # No JIT: the app's statements are short, and when the planner overestimates a join
        # (a cost above jit_above_cost) compiling it took 250 ms of a 3 ms query (the
        # district roll-up, measured by bench/run.py on the 650-site demo).
        connect_args = dict(kwargs.pop("connect_args", None) or {})
        connect_args.setdefault("options", "-c jit=off")
        kwargs["connect_args"] = connect_args
    return create_engine(url, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - exercised by every test
        # Let SQLAlchemy emit BEGIN itself (pysqlite's own transaction handling defers it).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        # Reads of a portfolio-sized file: a larger page cache and memory-mapped I/O (the
        # OS shares mapped pages between connections) cut the P&L's reads by about a quarter.
        cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        if conn.get_execution_options().get("sqlite_immediate"):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def _forget_connections(engine_ref) -> None:
    engine = engine_ref()
    if engine is not None:
        engine.dispose(close=False)


class Database:
    """The engine plus read and write session factories of one app instance."""

    def __init__(self, url: str, **engine_kwargs: object) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        writer_engine = self.engine.execution_options(sqlite_immediate=True)
        self._writer = sessionmaker(writer_engine, expire_on_commit=False)
        # A forked process (a background job) must not reuse the parent's connections.
        engine = weakref.ref(self.engine)
        os.register_at_fork(after_in_child=lambda: _forget_connections(engine))

    @contextlib.contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries; closed (its transaction rolled back) at the end. Loaded
        objects stay readable after the block."""
        with self._reader() as session:
            yield session

    @contextlib.contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on any error."""
        with self._writer() as session, session.begin():
            yield session

    def analyze(self) -> None:
        """Refresh the query planner's statistics (after a bulk load or a full recompute:
        without them PostgreSQL plans the portfolio joins blind)."""
        with self.engine.connect() as conn:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()

    def dispose(self) -> None:
        self.engine.dispose()
