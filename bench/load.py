"""Load test runner, the production layout on one machine: the demo portfolio in PostgreSQL,
Redis, a Celery worker and gunicorn with the Procfile's 2 workers × 4 threads. Headless
Chromium walks the journeys once (``bench/record.py``: browser timings and the callback
requests), then locust replays them with 20 and then 50 people for 60 s each
(``bench/locustfile.py``, in a virtual environment of its own under ``bench/out/``).

Prints, per run, p50/p95/max and failures of every callback and of every whole page open, the
RSS of each gunicorn worker after the run and the load average; ``--json`` keeps it all::

    .venv/bin/python -m bench.load                       # PostgreSQL database "bench", 650 sites
    .venv/bin/python -m bench.load --users 20 --seconds 30 --keep
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import redis
import requests

from bench.run import BENCH_SECRET_KEY, OUT_DIR, TODAY, display_url, prepare_data

ROOT = Path(__file__).resolve().parents[1]
LOAD_VENV = OUT_DIR / "venv-load"
LOCUST_SPEC = "locust>=2.40,<3"
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench"
DEFAULT_REDIS = "redis://127.0.0.1:6379/11"  # a database of its own


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _locust() -> Path:
    binary = LOAD_VENV / "bin" / "locust"
    if not binary.exists():
        print(f"Installing {LOCUST_SPEC} into {LOAD_VENV} ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(LOAD_VENV)], check=True)
        subprocess.run(
            [str(LOAD_VENV / "bin" / "pip"), "install", "--quiet", LOCUST_SPEC], check=True
        )
    return binary


def _wait(base: str, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/healthz", timeout=10).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{base} did not answer")


def _stats(prefix: Path) -> list[dict]:
    with open(f"{prefix}_stats.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out = []
    for row in rows:
        out.append(
            {
                "type": row["Type"],
                "name": row["Name"],
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "p50_ms": float(row["50%"] or 0),
                "p95_ms": float(row["95%"] or 0),
                "max_ms": float(row["Max Response Time"] or 0),
                "avg_bytes": float(row["Average Content Size"] or 0),
            }
        )
    return out


def _table(rows: list[dict]) -> str:
    lines = [f"{'type':<6} {'name':<70} {'n':>6} {'fail':>5} {'p50':>7} {'p95':>7} {'max':>7}"]
    for r in rows:
        lines.append(
            f"{r['type']:<6} {r['name'][:70]:<70} {r['requests']:>6} {r['failures']:>5} "
            f"{r['p50_ms']:>7.0f} {r['p95_ms']:>7.0f} {r['max_ms']:>7.0f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--sites", type=int, default=650)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--users", type=int, nargs="+", default=[20, 50])
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (Procfile: 2)")
    parser.add_argument("--keep", action="store_true", help="reuse the seeded database")
    parser.add_argument("--json", type=Path, default=OUT_DIR / "load.json")
    parser.add_argument(
        "--app-dir",
        type=Path,
        default=ROOT,
        help="serve the app of another checkout (e.g. an earlier commit, to compare side by "
        "side); it gets no worker when it has no dashboard.worker",
    )
    args = parser.parse_args(argv)

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    print(f"Preparing {display_url(args.database_url)} ({args.sites} sites)...", flush=True)
    data = prepare_data(args.database_url, args.sites, args.seed, args.keep)
    accounts = OUT_DIR / "load-accounts.json"
    accounts.write_text(json.dumps(data.demo_accounts))
    redis.Redis.from_url(args.redis_url).flushdb()
    locust = _locust()

    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "SECRET_KEY": BENCH_SECRET_KEY,
        "DASHBOARD_TODAY": TODAY.isoformat(),
    }
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    logs = {name: (OUT_DIR / f"load-{name}.log").open("w") for name in ("web", "worker")}
    web = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
            "--workers", str(args.workers), "--threads", "4", "--keep-alive", "10",
            "dashboard.wsgi:server",
        ],
        cwd=args.app_dir, env=env, stdout=logs["web"], stderr=logs["web"],
    )  # fmt: skip
    has_worker = (args.app_dir / "dashboard" / "worker.py").exists()
    worker = subprocess.Popen(
        [
            sys.executable, "-m", "celery", "-A", "dashboard.worker:celery", "worker",
            "--concurrency", "2", "--loglevel", "warning", "-n", f"load-{os.getpid()}@%h",
        ]
        if has_worker
        else [sys.executable, "-c", "import time; time.sleep(10**6)"],
        cwd=args.app_dir, env=env, stdout=logs["worker"], stderr=logs["worker"],
    )  # fmt: skip
    report: dict = {
        "data": {"sites": data.sites, "backend": data.backend},
        "app_dir": str(args.app_dir),
        "runs": [],
    }
    try:
        _wait(base)
        recorded = OUT_DIR / "recorded.json"
        subprocess.run(
            [sys.executable, "-m", "bench.record", "--base", base, "--accounts", str(accounts),
             "--out", str(recorded)],
            cwd=ROOT, check=True,
        )  # fmt: skip
        steps = json.loads(recorded.read_text())
        report["browser"] = {name: step["browser_ms"] for name, step in steps.items()}
        report["browser"]["statistics_page_in_page"] = steps["statistics_page"]["in_page_ms"]
        report["payload_bytes"] = _largest_payloads(steps)
        print("Largest callback bodies (posted / returned bytes):", flush=True)
        for output, (posted, returned) in report["payload_bytes"].items():
            print(f"  {posted:>8,} / {returned or 0:>8,}  {output[:90]}", flush=True)
        for users in args.users:
            prefix = OUT_DIR / f"load-{users}"
            load_before = os.getloadavg()
            print(f"\nlocust: {users} people for {args.seconds} s ...", flush=True)
            subprocess.run(
                [
                    str(locust), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
                    "-u", str(users), "-r", str(max(1, users // 5)), "-t", f"{args.seconds}s",
                    "--host", base, "--csv", str(prefix), "--only-summary",
                    # at the end each person finishes the page open under way (a cut-off
                    # request would count as a failure that no user saw)
                    "--stop-timeout", "60",
                ],
                cwd=ROOT,
                env={**env, "LOAD_RECORDED": str(recorded), "LOAD_ACCOUNTS": str(accounts)},
                check=False,
            )  # fmt: skip
            stats = _stats(prefix)
            rss = [
                round(p.memory_info().rss / 2**20, 1) for p in psutil.Process(web.pid).children()
            ]
            run = {
                "users": users,
                "seconds": args.seconds,
                "load_average_before": load_before,
                "load_average_after": os.getloadavg(),
                "gunicorn_worker_rss_mb": rss,
                "stats": stats,
            }
            report["runs"].append(run)
            print(_table([s for s in stats if s["name"] != "Aggregated"]))
            total = next((s for s in stats if s["name"] == "Aggregated"), None)
            if total:
                print(f"all requests: {total['requests']}, failures {total['failures']}")
            print(f"gunicorn worker RSS after the run: {rss} MB; load average {os.getloadavg()}")
    finally:
        for process in (web, worker):
            process.terminate()
        for process in (web, worker):
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
    args.json.write_text(json.dumps(report, indent=1))
    print(f"\nBrowser (one person, quiet): {report.get('browser')}")
    print(f"Wrote {args.json}")
    return 0


def _largest_payloads(steps: dict, top: int = 6) -> dict[str, tuple[int, int | None]]:
    """The callbacks that posted or returned the most, per output: (posted, returned)."""
    sizes: dict[str, tuple[int, int | None]] = {}
    for step in steps.values():
        for request in step["requests"]:
            output = str(request["body"].get("output", "?"))
            posted, returned = request.get("posted_bytes", 0), request.get("returned_bytes")
            old = sizes.get(output, (0, 0))
            sizes[output] = (max(old[0], posted), max(old[1] or 0, returned or 0))
    ranked = sorted(sizes.items(), key=lambda item: -max(item[1][0], item[1][1] or 0))
    return dict(ranked[:top])


if __name__ == "__main__":
    raise SystemExit(main())
