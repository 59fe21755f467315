"""Time the forecast proposal (``dashboard.domain.forecast``) on a seeded database: every site
× 13 months (the current month and 12 more) in batches on one process, and one site at a
time (reads included).

    DATABASE_URL=sqlite:////tmp/demo.db DASHBOARD_TODAY=2026-11-23 \
        .venv/bin/python -m bench.proposals [--batch 100] [--single 30]

It only reads. It refuses instance/dashboard.db and a PostgreSQL database named ``test``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time

from sqlalchemy.engine import make_url

from dashboard.config import Settings
from dashboard.data.db import Database
from dashboard.domain.periods import add_months, days_in_month
from dashboard.services import backtest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=backtest.BATCH_SITES)
    parser.add_argument("--single", type=int, default=30, help="sites timed one at a time")
    args = parser.parse_args(argv)
    settings = Settings.from_env()
    url = make_url(settings.database_url)
    if url.get_backend_name() == "postgresql" and url.database == "test":
        sys.exit("refusing the test suite's PostgreSQL database 'test'")
    if (url.database or "").endswith("instance/dashboard.db"):
        sys.exit("refusing instance/dashboard.db")
    today = settings.today()
    y, m = add_months(today.year, today.month, 12)
    last = dt.date(y, m, days_in_month(y, m))
    db = Database(settings.database_url)
    with db.read() as session:
        sites = backtest.site_frame(session, None)
        started = time.perf_counter()
        rows = 0
        for begin in range(0, len(sites), args.batch):
            chosen = sites.iloc[begin : begin + args.batch]
            rows += len(backtest.proposal_for_sites(session, chosen, today, last).values)
        whole = time.perf_counter() - started
        single = []
        for i in range(min(args.single, len(sites))):
            started = time.perf_counter()
            backtest.proposal_for_sites(session, sites.iloc[[i]], today, last)
            single.append(time.perf_counter() - started)
    db.dispose()
    days = (last - today).days + 1
    print(
        f"{len(sites)} sites × {days} days ({today} .. {last}), "
        f"{len(backtest.FORECAST_MEASURES)} measures: {rows:,} proposed site-days in "
        f"{whole:.1f} s (batches of {args.batch})"
    )
    single.sort()
    p95 = single[min(len(single) - 1, int(round(0.95 * (len(single) - 1))))]
    print(
        f"one site, reads included ({len(single)} sites): p50 "
        f"{statistics.median(single) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
