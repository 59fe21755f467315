"""Background work: a refresh request recomputes stale figures (in-process without Redis, by
the Celery worker with it), and a worker killed in the middle of a recompute runs the task
again without leaving any site half-written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import redis
from celery.result import AsyncResult
from sqlalchemy import select

from dashboard.config import Settings
from dashboard.data.models import Site
from dashboard.services import figures
from dashboard.tasks import RECOMPUTE_TASK, Jobs, make_celery
from tests.conftest import TEST_TODAY

ROOT = Path(__file__).resolve().parents[2]
# The worker-kill test runs a worker of its own on its own Redis database, so it never takes
# the suite worker's tasks (CI's third pass) nor gives it its own.
KILL_TEST_REDIS = "redis://127.0.0.1:6379/12"


def _until(predicate, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_refresh_request_recomputes_the_stale_sites(app, db):
    jobs: Jobs = app.server.extensions["dashboard.jobs"]
    with db.read() as session:
        site_id = session.scalars(select(Site.id).order_by(Site.id.desc())).first()
    with db.write() as session:
        figures.mark_stale(session, [site_id])
    with db.read() as session:
        assert figures.pending(session, [site_id], TEST_TODAY).count == 1
    assert jobs.request_refresh(TEST_TODAY)

    def done():
        with db.read() as session:
            return figures.pending(session, [site_id], TEST_TODAY).count == 0

    _until(done, 120, "the refresh job")
    with db.read() as session:
        assert figures.check(session, [site_id], TEST_TODAY) == []


@pytest.mark.parametrize("private_portfolio", [24], indirect=True)
def test_a_worker_killed_mid_recompute_runs_the_task_again(private_portfolio, tmp_path):
    db, _ = private_portfolio
    client = redis.Redis.from_url(KILL_TEST_REDIS)
    client.flushdb()
    env = {
        **os.environ,
        "DATABASE_URL": db.url,
        "REDIS_URL": KILL_TEST_REDIS,
        "DASHBOARD_TODAY": TEST_TODAY.isoformat(),
        "SECRET_KEY": "kill-test-secret",
    }
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "dashboard.worker:celery",
            "worker",
            "--concurrency",
            "1",
            "--loglevel",
            "info",
            "-n",
            f"kill-{os.getpid()}@%h",
            "--logfile",
            str(log),
        ],
        cwd=ROOT,
        env=env,
    )
    try:
        celery = make_celery(Settings(database_url=db.url, redis_url=KILL_TEST_REDIS))
        with db.read() as session:
            ids = list(session.scalars(select(Site.id).order_by(Site.id)))
        with db.write() as session:
            figures.mark_stale(session, ids)
        sent = celery.send_task(
            RECOMPUTE_TASK, kwargs={"today": TEST_TODAY.isoformat(), "batch": 2}
        )
        result = AsyncResult(sent.id, app=celery)

        def running_child():
            if worker.poll() is not None:
                raise AssertionError(f"the worker exited: {log.read_text()[-2000:]}")
            if result.state != "PROGRESS":
                return None
            children = psutil.Process(worker.pid).children()
            return children[0] if children else None

        child = _until(running_child, 120, "the task to report progress")
        first_pid = child.pid
        os.kill(first_pid, signal.SIGKILL)

        # Killed mid-batch: that batch's transaction rolled back; every site marked current
        # holds figures equal to a fresh computation, the rest are still pending.
        with db.read() as session:
            waiting = set(figures.pending(session, ids, TEST_TODAY).site_ids)
            done = [s for s in ids if s not in waiting]
            assert waiting, "the task was killed before it finished"
            assert figures.check(session, done, TEST_TODAY) == []

        def finished():
            with db.read() as session:
                return figures.pending(session, ids, TEST_TODAY).count == 0

        _until(finished, 180, "the requeued task to finish")
        with db.read() as session:
            assert figures.check(session, None, TEST_TODAY) == []
            assert figures.check_district_sums(session) == []
        _until(lambda: result.state == "SUCCESS", 30, "the task's result")
        text = log.read_text()
        assert "SIGKILL" in text or "WorkerLostError" in text, text[-2000:]
        assert all(p.pid != first_pid for p in psutil.Process(worker.pid).children())
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        client.flushdb()
        client.close()
