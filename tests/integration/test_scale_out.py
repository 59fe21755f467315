"""Scale-out: two gunicorn instances share nothing but the database and Redis. A save on one is
visible on the other at once; a sign-out on one is refused on the other; a refresh queued by
one is run by the Celery worker and seen by both."""

from __future__ import annotations

import datetime as dt
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
import requests
from sqlalchemy import select

from dashboard.callbacks.pnl import FILTER_KEYS
from dashboard.data.models import Site
from dashboard.data.seed import DEMO_PASSWORD
from dashboard.services import figures
from tests.conftest import TEST_TODAY, sites_of

ROOT = Path(__file__).resolve().parents[2]
CLUSTER_REDIS = "redis://127.0.0.1:6379/13"  # its own database: no other worker sees it
SAVE_DAY = dt.date(2027, 2, 17)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(base: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{base} exited: {log.read_text()[-2000:]}")
        try:
            if requests.get(f"{base}/healthz", timeout=10).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or busy starting
            pass
        time.sleep(0.3)
    raise AssertionError(f"{base} did not start: {log.read_text()[-2000:]}")


@pytest.fixture
def cluster(private_portfolio, tmp_path):
    db, built = private_portfolio
    client = redis.Redis.from_url(CLUSTER_REDIS)
    client.flushdb()
    env = {
        **os.environ,
        "DATABASE_URL": db.url,
        "REDIS_URL": CLUSTER_REDIS,
        "SECRET_KEY": "scale-out-test-secret",
        "DASHBOARD_TODAY": TEST_TODAY.isoformat(),
    }
    processes = []

    def start(args, name):
        log = tmp_path / f"{name}.log"
        handle = log.open("w")
        process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=handle, stderr=handle)
        processes.append(process)
        return process, log

    bases = []
    try:
        start(
            [
                sys.executable, "-m", "celery", "-A", "dashboard.worker:celery", "worker",
                "--concurrency", "1", "--loglevel", "info", "-n", f"scale-{os.getpid()}@%h",
            ],
            "worker",
        )  # fmt: skip
        for name in ("a", "b"):
            port = _free_port()
            process, log = start(
                [
                    sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                    "--workers", "1", "--threads", "2", "dashboard.wsgi:server",
                ],
                name,
            )  # fmt: skip
            base = f"http://127.0.0.1:{port}"
            _wait_healthy(base, process, log)
            bases.append(base)
        yield db, built, bases
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        client.flushdb()
        client.close()


def _form_token(layout) -> str | None:
    """The sign-out form's token in a layout (the hidden input ``shell-csrf``)."""
    if isinstance(layout, dict):
        if layout.get("props", {}).get("id") == "shell-csrf":
            return layout["props"].get("value")
        children = layout.values()
    elif isinstance(layout, list):
        children = layout
    else:
        return None
    for child in children:
        found = _form_token(child)
        if found:
            return found
    return None


def _sign_in(base: str, email: str) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{base}/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    answer = browser.post(
        f"{base}/login",
        data={"csrf": token, "email": email, "password": DEMO_PASSWORD, "next": "/"},
        allow_redirects=False,
    )
    assert answer.status_code == 302, answer.text[:300]
    return browser


def _callback(browser, base, output_contains, inputs, state=(), changed=None):
    deps = browser.get(f"{base}/_dash-dependencies").json()
    wanted = [f"{i}.{p}" for i, p, _ in inputs]
    dep = next(
        d
        for d in deps
        if output_contains in d["output"]
        and [f"{i['id']}.{i['property']}" for i in d["inputs"]] == wanted
    )
    outputs = [
        {"id": part.split(".")[0], "property": part.split(".")[1]}
        for part in dep["output"].strip(".").split("...")
    ]
    body = {
        "output": dep["output"],
        "outputs": outputs if dep["output"].startswith("..") else outputs[0],
        "inputs": [{"id": i, "property": p, "value": v} for i, p, v in inputs],
        "state": [{"id": i, "property": p, "value": v} for i, p, v in state],
        "changedPropIds": [changed or f"{inputs[0][0]}.{inputs[0][1]}"],
    }
    answer = browser.post(f"{base}/_dash-update-component", json=body)
    assert answer.status_code == 200, answer.text[:500]
    return answer.json()["response"]


def _external_revenue(browser, base, site_id, year, month) -> float:
    inputs = [(f"pnl-filter-{k}", "value", None) for k in FILTER_KEYS]
    inputs[FILTER_KEYS.index("site")] = ("pnl-filter-site", "value", str(site_id))
    inputs += [
        ("pnl-year", "value", str(year)),
        ("pnl-basis", "value", "budget"),
        ("shell-figures-refreshed", "data", 0),
    ]
    result = _callback(browser, base, "pnl-result.data", inputs)["pnl-result"]["data"]
    line = next(x for x in result["lines"] if x["line"] == "external_revenue")
    return line["values"][month - 1]


def _save_valet_daily(browser, base, site_id, value):
    save = {
        "ws-edits.data": {f"{SAVE_DAY.isoformat()}|valet_daily": value},
        "ws-window.data": {
            "site_id": site_id,
            "days": [{"day": SAVE_DAY.isoformat(), "version": 0}],
        },
        "ws-room-input.value": "occupancy",
        "ws-start.value": "2027-01",
        "ws-rate-edits.data": {},
        "ws-rates.data": None,
        "ws-payroll-edits.data": {},
        "ws-payroll.data": None,
        "ws-adjustment-edits.data": {},
        "ws-adjustments.data": None,
    }
    response = _callback(
        browser,
        base,
        "ws-window.data",
        [
            ("ws-save", "n_clicks", 1),
            ("rates-save", "n_clicks", None),
            ("payroll-save", "n_clicks", None),
            ("other-revenue-save", "n_clicks", None),
            ("other-expense-save", "n_clicks", None),
        ],
        [tuple(k.rsplit(".", 1)) + (v,) for k, v in save.items()],
        "ws-save.n_clicks",
    )
    return str(response.get("ws-message", {}))


def _pending(browser, base) -> int:
    response = _callback(
        browser,
        base,
        "shell-figures-pending.data",
        [("shell-figures-poll", "n_intervals", 1)],
        [("shell-figures-pending", "data", 0), ("shell-figures-refreshed", "data", 0)],
    )
    return response["shell-figures-pending"]["data"]


def test_two_instances_share_saves_sign_outs_and_jobs(cluster):
    db, built, (a, b) = cluster
    email = built.demo_accounts["account_manager"]
    site_id = min(sites_of(built, email))
    on_a = _sign_in(a, email)
    on_b = _sign_in(b, email)

    # A save on A: B shows the new figures at once (no cache of its own to expire).
    before = _external_revenue(on_b, b, site_id, 2027, 2)
    message = _save_valet_daily(on_a, a, site_id, 350)
    assert "Saved" in message, message
    after = _external_revenue(on_b, b, site_id, 2027, 2)
    assert after != pytest.approx(before)
    assert after == pytest.approx(_external_revenue(on_a, a, site_id, 2027, 2))

    # A job queued by A (a bulk change left the sites stale) is run by the worker; both see
    # the sites updating, then current.
    with db.read() as session:
        ids = list(session.scalars(select(Site.id)))
    with db.write() as session:
        figures.mark_stale(session, ids)
    assert _pending(on_a, a) > 0  # this poll queues the refresh
    deadline = time.monotonic() + 120
    while _pending(on_b, b) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _pending(on_b, b) == 0
    assert _pending(on_a, a) == 0
    with db.read() as session:
        assert figures.check(session, None, TEST_TODAY) == []
        assert figures.check_district_sums(session) == []

    # Sign-out on A: the same session cookie is refused by B.
    cookies = on_a.cookies.copy()
    token = _form_token(on_a.get(f"{a}/_dash-layout").json())
    assert token, "the sign-out form carries the session's token"
    answer = on_a.post(f"{a}/logout", data={"csrf": token}, allow_redirects=False)
    assert answer.status_code == 302
    replay = requests.Session()
    replay.cookies.update(cookies)
    assert replay.get(f"{b}/_dash-layout").status_code == 401
    assert on_b.get(f"{b}/_dash-layout").status_code == 200  # the other session holds
