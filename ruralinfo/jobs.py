"""Background jobs: RQ on Redis when ``REDIS_URL`` is set, inline otherwise.

Jobs take ids, re-load their rows and are safe to run twice (RQ delivers at
least once). Enqueue them after the transaction that made the rows commits.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

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


def redis_connection():
    """The app's Redis connection, shared by the jobs and what else needs Redis (REDIS_URL set)."""
    return _redis()


def queue():
    from rq import Queue

    return Queue(QUEUE, connection=_redis())


def enqueue(func: Callable, *args, retry_after: Sequence[int] = (), **kwargs):
    """Run ``func(*args)`` in a worker, or right now when there is no Redis.

    ``retry_after``: on a worker, a job that fails (or is stopped at its time-out) runs
    again after each of these many seconds in turn; only for jobs safe to run twice.
    Raises ``JobQueueUnavailable`` when Redis is configured but down, so the
    caller can tell the user instead of silently losing the work.
    """
    if not current_app.config.get("REDIS_URL"):
        return func(*args, **kwargs)
    from redis.exceptions import RedisError
    from rq import Retry

    if retry_after:
        kwargs["retry"] = Retry(max=len(retry_after), interval=list(retry_after))
    try:
        return queue().enqueue(func, *args, **kwargs)
    except RedisError as err:
        log.error("job queue unavailable: %s", type(err).__name__)
        raise JobQueueUnavailable(str(err)) from err


def later(func: Callable, *args, retry_after: Sequence[int] = ()) -> None:
    """Run ``func(*args)`` as a job once the current transaction has committed (what
    ``run_later`` hands over; ``sms.services.dispatch_pending`` calls it after every commit).
    ``retry_after`` as for ``enqueue``."""
    from ruralinfo.extensions import db

    db.session.info.setdefault("jobs_pending", []).append((func, args, tuple(retry_after)))


def run_later() -> None:
    """Hand over the jobs ``later`` kept: on RQ, or inline without Redis. A stopped
    Redis runs them inline rather than lose them."""
    from ruralinfo.extensions import db

    pending = db.session.info.pop("jobs_pending", [])
    for func, args, retry_after in pending:
        try:
            try:
                enqueue(func, *args, retry_after=retry_after)
            except JobQueueUnavailable:
                func(*args)
        except Exception as err:  # noqa: BLE001 - what committed before stays; the job is safe to run again
            log.error("job %s failed after the commit: %s", getattr(func, "__name__", func), type(err).__name__)
            db.session.rollback()


def available() -> bool:
    """Whether jobs can be handed over now (always, without Redis: they run inline)."""
    if not current_app.config.get("REDIS_URL"):
        return True
    from redis.exceptions import RedisError

    try:
        return bool(_redis().ping())
    except RedisError:
        return False


def make_worker(worker_class=None):
    """An RQ worker whose jobs run inside this app's context, in the worker's own
    process (``rq.SimpleWorker`` by default): no process forked and no database
    connection opened for each job, so that a job costs its own work and no more.

    RQ stops a job at its time-out (180 s) by raising an exception in it. A job that
    does not stop even so (stuck in C code, or the exception caught) is what a forking
    worker would kill; here it ends the worker ``OVERRUN`` seconds later, and the
    supervisor starts it again (``docs/operations.md``): nothing behind it waits for ever."""
    from rq import SimpleWorker

    base = worker_class or SimpleWorker
    app = current_app._get_current_object()

    class AppWorker(base):
        def perform_job(self, job, *args, **kwargs):
            watchdog = None
            if job.timeout and job.timeout > 0:  # -1 is RQ's "never time out": nothing to watch
                watchdog = threading.Timer(job.timeout + OVERRUN, overran, (self, job.id, job.timeout))
                watchdog.daemon = True
                watchdog.start()
            try:
                with app.app_context():
                    return super().perform_job(job, *args, **kwargs)
            finally:
                if watchdog is not None:
                    watchdog.cancel()

    return AppWorker([queue()], connection=_redis())


OVERRUN = 60  # seconds a job may run past its time-out before it ends the worker


def overran(worker, job_id: str, limit: float) -> None:
    """A job ran ``OVERRUN`` seconds past its time-out: end this worker at once (as a kill
    would), so that the jobs behind it go on once it is started again. What the job did
    not finish is done again or swept, as after any worker's death. The worker's scheduler
    process is told to stop too (it releases its lock, so the worker started again gets the
    scheduler), and the line is written straight to stderr: the stuck job may hold a
    logging lock."""
    import os
    import signal

    os.write(2, (f"ERROR job {job_id} still runs {OVERRUN} s after its time-out of {limit} s: this worker "
                 "stops; its supervisor starts it again\n").encode())
    process = getattr(getattr(worker, "scheduler", None), "_process", None)
    if process is not None and process.pid:
        try:
            os.kill(process.pid, signal.SIGTERM)
        except OSError:
            pass  # it has ended already
    os._exit(3)


SWEEPS: list[Callable[[], object]] = []  # the features' own sweeps (``register_sweep``)


def register_sweep(func: Callable[[], object]) -> None:
    """A feature's sweep, run with the core's every minute by a worker and by ``flask sweep``."""
    if func not in SWEEPS:
        SWEEPS.append(func)


SWEEP_EVERY = 60  # seconds between two sweeps of the outbox and inbox by a running worker
MAX_PAUSE = 60  # longest wait between two tries to reach a stopped Redis


def redis_address() -> str:
    """``host:port/db`` of REDIS_URL, without any password, for messages."""
    from urllib.parse import urlsplit

    parts = urlsplit(current_app.config["REDIS_URL"])
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}{parts.path or ''}"


def run_worker(*, burst: bool = False, echo: Callable[[str], None] = print,
               sleep: Callable[[float], None] = time.sleep, sweep_every: float = SWEEP_EVERY) -> None:
    """Work until stopped. A Redis that cannot be reached is said in one plain line
    and tried again after a pause that doubles up to a minute — never a traceback;
    meanwhile nothing is lost: texts and imports wait in the database. Unless
    ``burst``, a thread sweeps every ``sweep_every`` seconds (texts left queued or
    unhandled, sends with an unknown outcome), as ``flask sms sweep`` does."""
    if not current_app.config.get("REDIS_URL"):
        raise SystemExit("REDIS_URL is not set: jobs run inline, no worker is needed.")
    lower_priority()
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    pause, said = 1.0, False
    if not burst:  # sweeps work without Redis too (texts go out inline): start them at once
        from sqlalchemy.orm import configure_mappers

        configure_mappers()  # once, before the sweeper's thread: nobody configures them under a lock later
        start_sweeper(sweep_every)
    while True:
        try:
            worker = make_worker()
            worker.connection.ping()
            if said:
                echo(f"worker: Redis at {redis_address()} is reachable again; working.")
            worker.work(burst=burst, with_scheduler=True)  # runs retries scheduled with enqueue_in
            return
        except (RedisConnectionError, RedisTimeoutError) as err:
            if not said:
                echo(f"worker: cannot reach Redis at {redis_address()} ({_reason(err)}); trying again, "
                     f"every {MAX_PAUSE} s at most. Texts and imports wait in the database meanwhile.")
                said = True
            if burst:
                raise SystemExit(1) from None
            sleep(pause)
            pause = min(pause * 2, MAX_PAUSE)


def lower_priority() -> str:
    """Lower this process's CPU priority as ``WORKER_NICE`` says: jobs can wait a
    moment, a farmer's text or call cannot — on a small machine that holds everything,
    the web workers answer first. ``idle`` (Linux's SCHED_IDLE; the lowest niceness
    elsewhere): the worker runs on the CPU time nothing else wants; a number: that many
    ``nice`` steps. Threads started later (the sweeper) inherit it. Returns what it is now:
    ``idle`` or ``nice N``."""
    import os

    setting = current_app.config.get("WORKER_NICE") or 0
    if setting == "idle":
        if hasattr(os, "SCHED_IDLE"):
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            return "idle"
        setting = 19
    return f"nice {os.nice(int(setting))}"


def _reason(err: Exception) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return text[:120]


def start_sweeper(every: float):
    """A daemon thread that sweeps every ``every`` seconds — texts
    (``ruralinfo.sms.tasks.sweep``) and imports (``ruralinfo.accounts.tasks.sweep``);
    returns the event that stops it."""
    app = current_app._get_current_object()
    stop = threading.Event()

    def loop() -> None:
        from ruralinfo.accounts import tasks as imports
        from ruralinfo.extensions import db
        from ruralinfo.sms import inbound, tasks

        while not stop.is_set():
            with app.app_context():
                try:
                    tasks.sweep()
                    imports.sweep()
                    for feature_sweep in SWEEPS:
                        feature_sweep()
                except Exception as err:  # noqa: BLE001 - a failed sweep is retried at the next tick
                    # never log.exception: a database error would carry its parameters (names, numbers)
                    log.error("sweep failed: %s", inbound.describe(err, ""))
                    db.session.rollback()
                finally:
                    db.session.remove()
            stop.wait(every)

    threading.Thread(target=loop, name="ruralinfo-sweeper", daemon=True).start()
    return stop
