"""A fresh gunicorn worker serves its first requests whole: Dash's first-request setup runs
in ``create_app``, before the worker accepts a request (it used to run in a before-request
hook that marked itself done before it was, so a burst of parallel first requests could get
a 500 — "dash is not a registered library" — or an empty stylesheet)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from tests.conftest import TEST_TODAY

ROOT = Path(__file__).resolve().parents[2]
STARTS = 4
BURST = 12


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _index_scripts(app) -> list[str]:
    """The script and stylesheet paths a page of this app loads (the same files, so the same
    fingerprinted paths, as in any other process of this code)."""
    with app.server.test_request_context("/"):
        html = app._generate_scripts_html() + app._generate_css_dist_html()  # noqa: SLF001
    return sorted(set(re.findall(r'(?:src|href)="(/_dash-component-suites/[^"]+)"', html)))


def _listening(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"gunicorn exited: {log.read_text()[-2000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError(f"gunicorn did not listen: {log.read_text()[-2000:]}")


def test_parallel_first_requests_to_a_fresh_worker_all_succeed(app, database_url, tmp_path):
    paths = _index_scripts(app)
    assert any("dash_renderer" in p for p in paths), paths
    burst = [paths[i % len(paths)] for i in range(BURST)]
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "fresh-worker-test-secret",
        "DASHBOARD_TODAY": TEST_TODAY.isoformat(),
    }
    env.pop("REDIS_URL", None)  # the embedded layout: nothing but the web process
    failures = []
    for start in range(STARTS):
        port = _free_port()
        log = tmp_path / f"gunicorn-{start}.log"
        with log.open("w") as handle:
            process = subprocess.Popen(
                [
                    sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                    "--workers", "1", "--threads", "4", "dashboard.wsgi:server",
                ],
                cwd=ROOT, env=env, stdout=handle, stderr=handle,
            )  # fmt: skip
        try:
            _listening(port, process, log)
            base = f"http://127.0.0.1:{port}"

            def get(path, base=base):
                answer = requests.get(base + path, timeout=60)
                return path, answer.status_code, len(answer.content)

            with ThreadPoolExecutor(BURST) as pool:
                answers = list(pool.map(get, burst))
            failures += [
                (start, path, status, size)
                for path, status, size in answers
                if status != 200 or size == 0
            ]
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    assert failures == [], failures
