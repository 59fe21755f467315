"""PostgreSQL roles: an owner that runs the migrations and an app role that cannot change
the audit log.

The owner of a table can disable its triggers, drop them and delete rows, so the app must
not connect as the owner of ``audit_log``. :func:`set_up_roles` (``python -m dashboard
db-roles``, run with a superuser's URL) creates, or brings up to date:

* the **owner** role: owns every table, sequence and function of the schema (migrations run
  with its URL, ``DATABASE_OWNER_URL``), and the tables later migrations create;
* the **app** role (``DATABASE_URL``): SELECT, INSERT, UPDATE, DELETE on the app's tables
  and USAGE on their sequences; on ``audit_log`` only SELECT and INSERT, on
  ``audit_chain_head`` only SELECT and UPDATE, on ``alembic_version`` only SELECT; no
  TRUNCATE, REFERENCES or TRIGGER, no ownership, no membership of the owner, no CREATE in
  the schema. Tables created later by the owner get the app's usual four privileges
  (default privileges): run the command again after a migration to restore the exact set.

Running it again changes nothing that is already right. SQLite has no roles: the database
file's permissions are the only boundary there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import Connection, text
from sqlalchemy.engine import make_url

from dashboard.data.db import make_engine

DEFAULT_OWNER = "dashboard_owner"
DEFAULT_APP = "dashboard_app"
APP_PRIVILEGES = "SELECT, INSERT, UPDATE, DELETE"
# Tables where the app gets less than APP_PRIVILEGES: what it keeps.
RESTRICTED = {
    "audit_log": "SELECT, INSERT",
    "audit_chain_head": "SELECT, UPDATE",
    "alembic_version": "SELECT",
}
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_RELATION_KINDS = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW"}


class RoleSetupError(Exception):
    """The roles cannot be set up as asked (names, database, privileges of the caller)."""


@dataclass(frozen=True)
class RoleSetup:
    owner_url: str  # passwords shown as ***
    app_url: str
    created: tuple[str, ...]  # roles created by this run
    owned: int  # tables, sequences, views and functions now owned by the owner
    changed_owner: int  # of which this run moved


def _literal(value: str) -> str:
    if "\x00" in value:
        raise RoleSetupError("a password cannot hold a NUL character")
    return "'" + value.replace("'", "''") + "'"  # standard_conforming_strings (the default)


def set_up_roles(
    admin_url: str,
    owner: str = DEFAULT_OWNER,
    app: str = DEFAULT_APP,
    owner_password: str | None = None,
    app_password: str | None = None,
) -> RoleSetup:
    """Create or update the owner and app roles of the database at ``admin_url`` (connected
    as a superuser) and move ownership and privileges as the module says, in one
    transaction. Passwords: set when given, left as they are when not (none: trust or peer
    authentication)."""
    url = make_url(admin_url)
    if url.get_backend_name() != "postgresql":
        raise RoleSetupError("roles exist only on PostgreSQL")
    for name in (owner, app):
        if not _ROLE_NAME.match(name):
            raise RoleSetupError(
                f"role name {name!r}: use lower-case letters, digits and _ (at most 63)"
            )
    if owner == app:
        raise RoleSetupError("the owner and the app need two different roles")
    engine = make_engine(admin_url)
    try:
        with engine.begin() as conn:
            created, owned, moved = _apply(conn, owner, app, owner_password, app_password)
    finally:
        engine.dispose()
    return RoleSetup(
        owner_url=url.set(username=owner, password=owner_password).render_as_string(),
        app_url=url.set(username=app, password=app_password).render_as_string(),
        created=created,
        owned=owned,
        changed_owner=moved,
    )


def _apply(
    conn: Connection,
    owner: str,
    app: str,
    owner_password: str | None,
    app_password: str | None,
) -> tuple[tuple[str, ...], int, int]:
    q = conn.dialect.identifier_preparer.quote
    me, superuser, database, schema = conn.execute(
        text(
            "SELECT current_user, (SELECT rolsuper FROM pg_roles WHERE rolname = current_user), "
            "current_database(), current_schema()"
        )
    ).one()
    if not superuser:
        raise RoleSetupError(f"connect as a superuser to set up roles (not {me})")
    if schema is None or not _exists(conn, f"{q(schema)}.audit_log"):
        raise RoleSetupError("no audit_log table: run `python -m dashboard init-db` first")
    existing = dict(
        conn.execute(
            text("SELECT rolname, rolsuper FROM pg_roles WHERE rolname IN (:owner, :app)"),
            {"owner": owner, "app": app},
        ).all()
    )
    for name in (owner, app):
        if name == me or existing.get(name):
            raise RoleSetupError(f"{name} is a superuser (or you): choose another role name")

    created = []
    for name, password in ((owner, owner_password), (app, app_password)):
        if name not in existing:
            conn.exec_driver_sql(f"CREATE ROLE {q(name)}")
            created.append(name)
        options = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
        if password is not None:
            options += f" PASSWORD {_literal(password)}"
        conn.exec_driver_sql(f"ALTER ROLE {q(name)} WITH {options}")
    # The app must not act as the owner through membership.
    if conn.execute(
        text(
            "SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
            "JOIN pg_roles a ON a.oid = m.member WHERE r.rolname = :owner AND a.rolname = :app"
        ),
        {"owner": owner, "app": app},
    ).first():
        conn.exec_driver_sql(f"REVOKE {q(owner)} FROM {q(app)}")

    conn.exec_driver_sql(f"GRANT CONNECT ON DATABASE {q(database)} TO {q(owner)}, {q(app)}")
    conn.exec_driver_sql(f"GRANT USAGE, CREATE ON SCHEMA {q(schema)} TO {q(owner)}")
    conn.exec_driver_sql(f"REVOKE CREATE ON SCHEMA {q(schema)} FROM PUBLIC, {q(app)}")
    conn.exec_driver_sql(f"GRANT USAGE ON SCHEMA {q(schema)} TO {q(app)}")

    owned, moved = _give_ownership(conn, schema, owner)

    s = q(schema)
    conn.exec_driver_sql(f"REVOKE ALL ON ALL TABLES IN SCHEMA {s} FROM {q(app)}")
    conn.exec_driver_sql(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {s} FROM {q(app)}")
    conn.exec_driver_sql(f"GRANT {APP_PRIVILEGES} ON ALL TABLES IN SCHEMA {s} TO {q(app)}")
    for table, keep in RESTRICTED.items():
        if _exists(conn, f"{s}.{q(table)}"):
            conn.exec_driver_sql(f"REVOKE ALL ON {s}.{q(table)} FROM {q(app)}")
            conn.exec_driver_sql(f"GRANT {keep} ON {s}.{q(table)} TO {q(app)}")
    conn.exec_driver_sql(f"GRANT USAGE ON ALL SEQUENCES IN SCHEMA {s} TO {q(app)}")
    defaults = f"ALTER DEFAULT PRIVILEGES FOR ROLE {q(owner)} IN SCHEMA {s}"
    conn.exec_driver_sql(f"{defaults} GRANT {APP_PRIVILEGES} ON TABLES TO {q(app)}")
    conn.exec_driver_sql(f"{defaults} GRANT USAGE ON SEQUENCES TO {q(app)}")
    return tuple(created), owned, moved


def _exists(conn: Connection, qualified_name: str) -> bool:
    return bool(
        conn.execute(
            text("SELECT to_regclass(:name) IS NOT NULL"), {"name": qualified_name}
        ).scalar()
    )


def _give_ownership(conn: Connection, schema: str, owner: str) -> tuple[int, int]:
    """Make ``owner`` own every relation and function of ``schema``; (owned, moved)."""
    q = conn.dialect.identifier_preparer.quote
    s = q(schema)
    relations = conn.execute(
        text(
            "SELECT c.relname, c.relkind, pg_get_userbyid(c.relowner) AS current_owner, "
            "  EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass "
            "    AND d.objid = c.oid AND d.deptype IN ('a', 'i')) AS owned_by_column "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = :schema AND c.relkind IN ('r', 'p', 'v', 'm', 'S') "
            "ORDER BY c.relkind <> 'S' DESC, c.relname"
        ),
        {"schema": schema},
    ).all()
    moved = 0
    for name, kind, current, owned_by_column in relations:
        # A serial column's sequence follows its table (and cannot be moved on its own).
        if current == owner or (kind == "S" and owned_by_column):
            continue
        what = "SEQUENCE" if kind == "S" else _RELATION_KINDS[kind]
        conn.exec_driver_sql(f"ALTER {what} {s}.{q(name)} OWNER TO {q(owner)}")
        moved += 1
    functions = conn.execute(
        text(
            "SELECT p.oid::regprocedure::text, pg_get_userbyid(p.proowner) "
            "FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname = :schema"
        ),
        {"schema": schema},
    ).all()
    for signature, current in functions:
        if current != owner:
            conn.exec_driver_sql(f"ALTER FUNCTION {signature} OWNER TO {q(owner)}")
            moved += 1
    return len(relations) + len(functions), moved
