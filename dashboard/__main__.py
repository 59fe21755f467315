"""Command line: ``python -m dashboard run | init-db | seed | recompute | proposals |
create-user | demo-accounts | audit-verify | db-roles | backtest``."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import os
import sys

from dashboard.config import Settings, development_warnings
from dashboard.data import migrate, roles
from dashboard.data.db import Database
from dashboard.data.seed import DEMO_PASSWORD
from dashboard.services import accounts, portfolio
from dashboard.services.scope import ROLE_LABELS


def _print_sign_ins(db: Database, url: str) -> None:
    found = portfolio.demo_accounts(db)
    if not found:
        return
    print(f"\nSign in at {url} with any of these demo accounts (password: {DEMO_PASSWORD}):")
    for role, email in found.items():
        print(f"  {ROLE_LABELS.get(role, role):<25} {email}")
    print()


def _seed(db: Database, settings: Settings, sites: int, seed: int) -> None:
    print(f"Building a demo portfolio of {sites} sites (seed {seed})...", flush=True)

    def progress(done: int, total: int) -> None:
        print(f"\r  computing the figures of every site: {done}/{total}", end="", flush=True)

    report = portfolio.seed_demo(db, sites, seed, settings.today(), progress=progress)
    print()
    print(
        f"Loaded {report.rows:,} rows in {report.total_seconds:.1f} s "
        f"(generate {report.build_seconds:.1f} s, write {report.write_seconds:.1f} s, "
        f"figures {report.figures_seconds:.1f} s)."
    )


def cmd_init_db(args, settings: Settings) -> int:
    url = migrate.schema_url(settings.database_url)  # the owner's, when DATABASE_OWNER_URL
    portfolio.prepare_database(url, reset=args.reset)
    print(f"Database ready: {settings.database_url}")
    return 0


def cmd_seed(args, settings: Settings) -> int:
    # A bulk load moves the id sequences and analyzes the tables: the owner's work.
    url = migrate.schema_url(settings.database_url)
    portfolio.prepare_database(url, reset=args.reset)
    db = Database(url)
    try:
        with db.read() as session:
            if portfolio.site_count(session) and not args.if_empty:
                print(
                    "The database already holds sites; use --reset to start over.", file=sys.stderr
                )
                return 1
            if portfolio.site_count(session):
                print("The database already holds a portfolio; nothing to do.")
                return 0
        _seed(db, settings, args.sites, args.seed)
        _print_sign_ins(db, "http://127.0.0.1:8050")
    finally:
        db.dispose()
    return 0


def cmd_run(args, settings: Settings) -> int:
    for note in development_warnings(settings):
        print(f"note: {note}")
    owner_url = migrate.schema_url(settings.database_url)  # serving uses DATABASE_URL
    portfolio.prepare_database(owner_url)
    db = Database(owner_url)
    try:
        with db.read() as session:
            empty = portfolio.site_count(session) == 0
        if empty and not args.no_seed:
            _seed(db, settings, args.sites, args.seed)
        url = f"http://{args.host}:{args.port}"
        _print_sign_ins(db, url)
    finally:
        db.dispose()
    if args.dev:
        from dashboard.app import create_app

        create_app(settings).run(host=args.host, port=args.port, debug=False)
        return 0
    bind = f"{args.host}:{args.port}"
    os.execvp(
        sys.executable,
        [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            bind,
            "--workers",
            str(args.workers),
            "--threads",
            "4",
            # idle connections stay open longer than a person's pause between clicks, so a
            # reused connection is not closed under a request (the Procfile's setting too)
            "--keep-alive",
            "10",
            "--access-logfile",
            "-",
            "dashboard.wsgi:server",
        ],
    )
    return 0  # pragma: no cover


def _read_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat the password: "):
        raise SystemExit("The two passwords differ; nothing was created.")
    return first


def cmd_create_user(args, settings: Settings) -> int:
    db = Database(settings.database_url)
    request = accounts.NewUser(
        email=args.email,
        display_name=args.name or args.email,
        role=args.role,
        password=_read_password(),
        site_numbers=tuple(args.site or ()),
        district=args.district,
        region=args.region,
        valid_from=args.valid_from,
        valid_to=args.valid_to,
    )
    try:
        with db.write() as session:
            user_id = accounts.create_user(session, request)
    except accounts.UserInputError as problem:
        for line in problem.problems:
            print(f"error: {line}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    print(f"Created {request.email} ({ROLE_LABELS[request.role]}), id {user_id}.")
    return 0


def cmd_demo_accounts(_args, settings: Settings) -> int:
    db = Database(settings.database_url)
    try:
        _print_sign_ins(db, "http://127.0.0.1:8050")
    finally:
        db.dispose()
    return 0


def _site_ids(db: Database, numbers: list[str] | None) -> list[int] | None:
    """Site ids of the given site numbers (None: every site); unknown numbers are an error."""
    if not numbers:
        return None
    from sqlalchemy import select

    from dashboard.data.models import Site

    wanted = {n.strip().zfill(4) for n in numbers}
    with db.read() as session:
        found = dict(
            session.execute(
                select(Site.site_number, Site.id).where(Site.site_number.in_(wanted))
            ).all()
        )
    unknown = sorted(wanted - set(found))
    if unknown:
        raise ValueError(f"unknown site number(s): {', '.join(unknown)}")
    return sorted(found.values())


def cmd_proposals(args, settings: Settings) -> int:
    """Recompute the stored proposals (all sites, or --site) for today, then the figures that
    read them."""
    import time

    from dashboard.services import figures, proposals

    db = Database(settings.database_url)
    today = settings.today()
    try:
        try:
            ids = _site_ids(db, args.site)
        except ValueError as problem:
            print(f"error: {problem}", file=sys.stderr)
            return 2
        with db.read() as session:
            ids = (
                ids if ids is not None else proposals.site_frame(session, None)["site_id"].tolist()
            )
        started, days = time.perf_counter(), 0
        for begin in range(0, len(ids), proposals.BATCH_SITES):
            chunk = ids[begin : begin + proposals.BATCH_SITES]
            with db.write() as session:  # a batch's proposals and its stale mark together
                days += proposals.refresh(session, chunk, today)
                figures.mark_stale(session, chunk)
            print(f"\r  proposals: {begin + len(chunk)}/{len(ids)} sites", end="", flush=True)
        proposed = time.perf_counter() - started
        result = figures.recompute(db, today, ids, only_stale=True)
        print()
        print(
            f"Proposed {days:,} site-days of {len(ids)} site(s) for {today} .. "
            f"{proposals.last_day(today)} in {proposed:.1f} s; figures of {result.sites} "
            f"site(s) recomputed in {result.seconds:.1f} s."
        )
        return 0
    finally:
        db.dispose()


def cmd_recompute(args, settings: Settings) -> int:
    """Rebuild the stored figures, or with --check compare them with a fresh computation."""
    from dashboard.services import figures

    db = Database(settings.database_url)
    today = settings.today()
    try:
        try:
            ids = _site_ids(db, args.site)
        except ValueError as problem:
            print(f"error: {problem}", file=sys.stderr)
            return 2
        if args.check:
            with db.read() as session:
                differences = figures.check(session, ids, today, limit=args.limit)
                stale = figures.pending(session, ids, today)
                district_differences = figures.check_district_sums(session)
            for d in differences:
                print(
                    f"site {d.site_id} {d.series} {d.year}-{d.month:02d} {d.column}: "
                    f"stored {d.stored!r}, computed {d.computed!r}"
                )
            for d in district_differences[: args.limit]:
                print(
                    f"district {d['district_id']} {d['series']} {d['year']}-{d['month']:02d} "
                    f"{d['column']}: summed {d['stored']!r}, sites add up to {d['computed']!r}"
                )
            scope = "every site" if ids is None else f"{len(ids)} site(s)"
            if stale.count:
                print(f"{stale.count} site(s) not marked current for {today} (a refresh is due).")
            if differences or district_differences:
                if differences:
                    print(f"{len(differences)} difference(s) in the stored figures of {scope}.")
                if district_differences:
                    print(
                        f"{len(district_differences)} difference(s) between the district sums "
                        "and their sites' figures (a full recompute rebuilds them)."
                    )
                return 1
            print(f"The stored figures of {scope} equal a fresh computation (as of {today}).")
            return 0

        def progress(done: int, total: int) -> None:
            print(f"\r  {done}/{total} sites", end="", flush=True)

        result = figures.recompute(db, today, ids, only_stale=args.stale, progress=progress)
        with db.write() as session:
            figures.rebuild_district_sums(session, ids)
        if ids is None and not args.stale:
            db.analyze()  # a whole rebuild: the planner's statistics of the figures
        print()
        print(
            f"Recomputed {result.sites} site(s), {result.rows:,} figure rows in "
            f"{result.seconds:.1f} s (as of {today})"
            + (
                f"; {result.skipped} changed meanwhile and kept their save's figures."
                if result.skipped
                else "."
            )
        )
        return 0
    finally:
        db.dispose()


def cmd_audit_verify(args, settings: Settings) -> int:
    """Walk the audit log's hash chain: exit 0 and the count when intact, 1 and the first
    breaks (row ids) when a row was deleted or altered."""
    from dashboard.services import audit

    expect = None
    if args.expect:
        seq, _, digest = args.expect.partition(":")
        if not seq.isdigit() or len(digest) != 64:
            print("error: --expect takes SEQ:HASH (as audit-verify printed them)", file=sys.stderr)
            return 2
        expect = (int(seq), digest.lower())
    db = Database(settings.database_url)
    try:
        report = audit.verify_chain(db, limit=args.limit, expect=expect)
    finally:
        db.dispose()
    if report.intact:
        print(
            f"The audit chain is intact: {report.rows:,} row(s); "
            f"head {report.head_seq}:{report.head_hash}"
        )
        return 0
    for found in report.breaks:
        print(found)
    more = report.break_count - len(report.breaks)
    print(
        f"{report.break_count} break(s) in the audit chain"
        + (f" ({more} more not listed; --limit)" if more else "")
        + f"; {report.rows:,} chained row(s) read."
    )
    return 1


SQLITE_HAS_NO_ROLES = """\
SQLite has no roles: whoever can write the database file can change the audit log (drop its
triggers, delete rows). There the boundary is the file's permissions: keep the database and
its -wal/-shm files owned by the account that runs the app and readable by no one else
(chmod 600; the instance/ folder 700). audit-verify still reports a deleted or altered row.
For an app that cannot touch its audit log, use PostgreSQL and run this command there."""


def cmd_db_roles(args, settings: Settings) -> int:
    """PostgreSQL: create the owner and app roles (``dashboard.data.roles``) and print the
    two URLs. SQLite: explain why there is nothing to do (exit 0)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError

    admin_url = args.admin_url or os.environ.get("DATABASE_ADMIN_URL") or settings.database_url
    if make_url(admin_url).get_backend_name() != "postgresql":
        print(SQLITE_HAS_NO_ROLES)
        return 0
    try:
        done = roles.set_up_roles(
            admin_url,
            owner=args.owner,
            app=args.app,
            owner_password=args.owner_password or os.environ.get("DASHBOARD_OWNER_PASSWORD"),
            app_password=args.app_password or os.environ.get("DASHBOARD_APP_PASSWORD"),
        )
    except (roles.RoleSetupError, DBAPIError) as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    created = f" (created {', '.join(done.created)})" if done.created else ""
    print(
        f"Roles ready{created}: {args.owner} owns the {done.owned} tables, sequences and "
        f"functions ({done.changed_owner} moved to it); {args.app} may read and write the "
        "app's tables, and only read and append to audit_log."
    )
    print("Migrations (init-db, seed) — the owner:")
    print(f"  DATABASE_OWNER_URL={done.owner_url}")
    print("The app (run, gunicorn, celery) — the app role:")
    print(f"  DATABASE_URL={done.app_url}")
    if "***" in done.owner_url + done.app_url:
        print("(*** = the password given)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="migrate, seed the demo portfolio if empty, serve")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8050)
    run.add_argument("--workers", type=int, default=2)
    run.add_argument("--sites", type=int, default=650)
    run.add_argument("--seed", type=int, default=7)
    run.add_argument("--no-seed", action="store_true", help="do not load the demo portfolio")
    run.add_argument("--dev", action="store_true", help="Flask's development server")
    run.set_defaults(func=cmd_run)

    init = sub.add_parser("init-db", help="create or migrate the database schema")
    init.add_argument("--reset", action="store_true", help="drop everything first")
    init.set_defaults(func=cmd_init_db)

    seed = sub.add_parser("seed", help="load a deterministic demo portfolio")
    seed.add_argument("--sites", type=int, default=650)
    seed.add_argument("--seed", type=int, default=7)
    seed.add_argument("--reset", action="store_true", help="drop all data first")
    seed.add_argument("--if-empty", action="store_true", help="skip when data exists")
    seed.set_defaults(func=cmd_seed)

    user = sub.add_parser("create-user", help="add a person (password from stdin or prompt)")
    user.add_argument("email", help="sign-in e-mail")
    user.add_argument("--name", help="display name")
    user.add_argument("--role", required=True, choices=sorted(ROLE_LABELS))
    user.add_argument("--site", action="append", help="site number (repeatable)")
    user.add_argument("--district", help="district name, e.g. 'D - Boston'")
    user.add_argument("--region", help="region name, e.g. East")
    user.add_argument("--valid-from", type=dt.date.fromisoformat)
    user.add_argument("--valid-to", type=dt.date.fromisoformat)
    user.set_defaults(func=cmd_create_user)

    recompute = sub.add_parser(
        "recompute", help="rebuild the stored figures, or --check them against the engine"
    )
    recompute.add_argument("--site", action="append", help="site number (repeatable)")
    recompute.add_argument(
        "--check", action="store_true", help="compare only; exit 1 when a figure differs"
    )
    recompute.add_argument("--stale", action="store_true", help="only sites not current")
    recompute.add_argument("--limit", type=int, default=100, help="differences listed at most")
    recompute.set_defaults(func=cmd_recompute)

    proposal = sub.add_parser(
        "proposals",
        help="recompute the stored forecast proposals for today, then the figures reading them",
    )
    proposal.add_argument("--site", action="append", help="site number (repeatable)")
    proposal.set_defaults(func=cmd_proposals)

    demo = sub.add_parser("demo-accounts", help="print the demo sign-ins")
    demo.set_defaults(func=cmd_demo_accounts)

    verify = sub.add_parser(
        "audit-verify", help="check the audit log's hash chain; exit 1 on a deleted/altered row"
    )
    verify.add_argument("--limit", type=int, default=20, help="breaks listed at most")
    verify.add_argument(
        "--expect", metavar="SEQ:HASH", help="a head printed earlier: the chain must still hold it"
    )
    verify.set_defaults(func=cmd_audit_verify)

    db_roles = sub.add_parser(
        "db-roles", help="PostgreSQL: an owner role for migrations, an app role for the app"
    )
    db_roles.add_argument(
        "--admin-url", help="a superuser's URL (default: DATABASE_ADMIN_URL, else DATABASE_URL)"
    )
    db_roles.add_argument("--owner", default=roles.DEFAULT_OWNER, help="owner role name")
    db_roles.add_argument("--app", default=roles.DEFAULT_APP, help="app role name")
    db_roles.add_argument(
        "--owner-password", help="default: DASHBOARD_OWNER_PASSWORD; none: left as it is"
    )
    db_roles.add_argument(
        "--app-password", help="default: DASHBOARD_APP_PASSWORD; none: left as it is"
    )
    db_roles.set_defaults(func=cmd_db_roles)

    from dashboard.services import backtest  # its arguments and command live there

    backtest.add_command(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args, Settings.from_env())


if __name__ == "__main__":
    sys.exit(main())
