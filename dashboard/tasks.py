"""Background work: a Celery app with Redis as broker and result store when ``REDIS_URL`` is
set (``celery -A dashboard.worker:celery worker``: the Procfile's ``worker:`` line), else the same task
functions run in-process, so ``make run`` needs nothing else.

Tasks are thin: they call services. ``recompute_figures`` rebuilds stored figures in batches,
each batch one transaction; it is acknowledged only once done (``acks_late``) and requeued when
the process running it dies (``reject_on_worker_lost``), so a killed worker's task runs again
and, as every site's figures are replaced in one transaction, no site is half-written.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Sequence

from celery import Celery

from dashboard.config import Settings
from dashboard.data.db import Database

log = logging.getLogger(__name__)

RECOMPUTE_TASK = "dashboard.recompute_figures"
# A queued refresh of the same day is not queued again while this long (the task clears it).
REFRESH_GUARD_S = 15 * 60
REFRESH_GUARD_KEY = "dashboard:figures-refresh:"
# Redis redelivers a message whose worker vanished after this long (a killed pool process is
# requeued at once by reject_on_worker_lost; a vanished whole worker waits for this).
VISIBILITY_TIMEOUT_S = 10 * 60


def make_celery(settings: Settings) -> Celery:
    """The Celery app of these settings, with the tasks registered."""
    celery = Celery("dashboard", set_as_current=False)
    if settings.redis_url:
        celery.conf.update(
            broker_url=settings.redis_url,
            result_backend=settings.redis_url,
            broker_connection_retry_on_startup=True,
            broker_transport_options={"visibility_timeout": VISIBILITY_TIMEOUT_S},
            task_acks_late=True,
            task_reject_on_worker_lost=True,
            worker_prefetch_multiplier=1,
            task_track_started=True,
            result_expires=24 * 3600,
            worker_hijack_root_logger=False,
        )
    else:
        celery.conf.update(
            broker_url="memory://",
            result_backend="cache+memory://",
            task_always_eager=True,
            task_eager_propagates=True,
        )
    celery.conf.dashboard_settings = settings
    _register(celery)
    return celery


def _database(celery: Celery) -> Database:
    db = getattr(celery, "dashboard_db", None)
    if db is None:  # one engine (connection pool) per worker process
        db = Database(celery.conf.dashboard_settings.database_url)
        celery.dashboard_db = db
    return db


def _register(celery: Celery) -> None:
    @celery.task(
        bind=True,
        name=RECOMPUTE_TASK,
        acks_late=True,
        reject_on_worker_lost=True,
        autoretry_for=(ConnectionError, TimeoutError),
        retry_backoff=True,
        max_retries=5,
    )
    def recompute_figures(
        self,
        today: str,
        site_ids: Sequence[int] | None = None,
        only_stale: bool = True,
        batch: int | None = None,
    ) -> dict:
        from dashboard.services import figures

        day = dt.date.fromisoformat(today)

        def progress(done: int, total: int) -> None:
            if not self.request.called_directly and not celery.conf.task_always_eager:
                self.update_state(state="PROGRESS", meta={"done": done, "total": total})

        try:
            result = figures.recompute(
                _database(celery),
                day,
                site_ids,
                only_stale=only_stale,
                batch=batch or figures.BATCH_SITES,
                progress=progress,
            )
        finally:
            _clear_guard(celery, today)
        return {"sites": result.sites, "rows": result.rows, "seconds": round(result.seconds, 2)}


def _redis(celery: Celery):
    import redis

    client = getattr(celery, "dashboard_redis", None)
    if client is None:
        client = redis.Redis.from_url(celery.conf.dashboard_settings.redis_url)
        celery.dashboard_redis = client
    return client


def _clear_guard(celery: Celery, today: str) -> None:
    if celery.conf.dashboard_settings.redis_url:
        _redis(celery).delete(REFRESH_GUARD_KEY + today)


class Jobs:
    """Queues background work for one app instance: to the Celery worker with Redis, or to a
    thread of this process without it (one refresh at a time per process)."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.celery = make_celery(settings)
        self.db = db
        self._lock = threading.Lock()
        self._running: set[str] = set()

    @property
    def queued(self) -> bool:
        """True when work goes to a Celery worker (REDIS_URL set)."""
        return bool(self.settings.redis_url)

    def request_refresh(self, today: dt.date) -> bool:
        """Recompute the figures of every site not current for ``today`` (after a bulk change
        or when the day moved on). Returns True when a refresh was queued now, False when one
        is already queued or running."""
        key = today.isoformat()
        if self.queued:
            if not _redis(self.celery).set(REFRESH_GUARD_KEY + key, 1, nx=True, ex=REFRESH_GUARD_S):
                return False
            self.celery.send_task(RECOMPUTE_TASK, kwargs={"today": key, "only_stale": True})
            return True
        with self._lock:
            if key in self._running:
                return False
            self._running.add(key)
        thread = threading.Thread(
            target=self._refresh_here, args=(today,), name=f"figures-{key}", daemon=True
        )
        thread.start()
        return True

    def _refresh_here(self, today: dt.date) -> None:
        from dashboard.services import figures

        try:
            figures.recompute(self.db, today, only_stale=True)
        except Exception:  # pragma: no cover - logged; the next request queues it again
            log.exception("refreshing the stored figures for %s failed", today)
        finally:
            with self._lock:
                self._running.discard(today.isoformat())
