"""Background jobs: RQ on Redis when ``REDIS_URL`` is set, inline otherwise.

Jobs take ids, re-load their rows and are safe to run twice (RQ delivers at
least once). Enqueue them after the transaction that made the rows commits.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from flask import current_app

log = logging.getLogger(__name__)
QUEUE = "default"


class JobQueueUnavailable(RuntimeError):
    """Redis is configured but cannot be reached."""


def _redis():
    from redis import Redis

    ext = current_app.extensions
    if "redis" not in ext:
        ext["redis"] = Redis.from_url(current_app.config["REDIS_URL"], socket_connect_timeout=2,
                                      socket_timeout=5)
    return ext["redis"]


def queue():
    from rq import Queue

    return Queue(QUEUE, connection=_redis())


def enqueue(func: Callable, *args, **kwargs):
    """Run ``func(*args)`` in a worker, or right now when there is no Redis.

    Raises ``JobQueueUnavailable`` when Redis is configured but down, so the
    caller can tell the user instead of silently losing the work.
    """
    if not current_app.config.get("REDIS_URL"):
        return func(*args, **kwargs)
    from redis.exceptions import RedisError

    try:
        return queue().enqueue(func, *args, **kwargs)
    except RedisError as err:
        log.error("job queue unavailable: %s", type(err).__name__)
        raise JobQueueUnavailable(str(err)) from err


def make_worker(worker_class=None):
    """An RQ worker (``rq.Worker`` by default) whose jobs run inside this app's context."""
    from rq import Worker

    base = worker_class or Worker
    app = current_app._get_current_object()

    class AppWorker(base):
        def perform_job(self, *args, **kwargs):  # runs in the work horse, once per job
            with app.app_context():
                return super().perform_job(*args, **kwargs)

    return AppWorker([queue()], connection=_redis())


def run_worker(*, burst: bool = False) -> None:
    if not current_app.config.get("REDIS_URL"):
        raise SystemExit("REDIS_URL is not set: jobs run inline, no worker is needed.")
    make_worker().work(burst=burst, with_scheduler=True)  # runs retries scheduled with enqueue_in
