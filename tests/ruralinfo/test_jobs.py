"""Background jobs: inline without Redis, on RQ with Redis, a clear error when Redis is down."""
import json
import os

import pytest
from sqlalchemy import func, select, text

from ruralinfo import create_app, jobs
from ruralinfo.audit import services as audit
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db

REDIS = os.environ.get("TEST_REDIS_URL")


def note(text: str) -> None:
    """A job that leaves a trace in the audit log, once per call."""
    audit.record("job.note", ("jobs", None), channel=audit.SYSTEM, details={"text": text})
    db.session.commit()


def where() -> None:
    """A job that notes the process it runs in and, on PostgreSQL, its database connection."""
    backend = db.session.scalar(text("SELECT pg_backend_pid()")) if db.engine.dialect.name == "postgresql" else 0
    note(json.dumps([os.getpid(), backend]))


def stubborn(seconds: float) -> None:
    """A job that will not stop at its time-out: it catches what RQ raises, as a careless
    ``except Exception`` would."""
    import time

    ends = time.monotonic() + seconds
    while time.monotonic() < ends:
        try:
            time.sleep(0.05)
        except Exception:  # noqa: BLE001, S112 - the point of this job
            continue


def flaky(text: str) -> None:
    """A job that fails the first time it runs (after noting the try) and works the second."""
    tried = text + " tried" in notes()
    note(text if tried else text + " tried")
    if not tried:
        raise RuntimeError("the first try fails")


def notes() -> list[str]:
    return [e.details["text"] for e in db.session.scalars(select(AuditEntry).where(AuditEntry.action == "job.note"))]


def test_without_redis_jobs_run_inline(app):
    jobs.enqueue(note, "now")
    assert notes() == ["now"]


@pytest.mark.skipif(not REDIS, reason="TEST_REDIS_URL is not set (.ci/run sets it)")
def test_with_redis_jobs_wait_for_a_worker(app_config):
    app = create_app({**app_config, "REDIS_URL": REDIS})
    with app.app_context():
        jobs.queue().empty()
        jobs.enqueue(note, "later")
        assert notes() == []
        jobs.make_worker().work(burst=True)  # the worker `flask worker` runs
        db.session.expire_all()
        assert notes() == ["later"]


def test_a_stopped_redis_is_reported_and_log_in_still_works(app_config, make_staff):
    app = create_app({**app_config, "REDIS_URL": "redis://127.0.0.1:1/0", "RATELIMIT_ENABLED": True})
    with app.app_context():
        with pytest.raises(jobs.JobQueueUnavailable):
            jobs.enqueue(note, "lost?")
        client = app.test_client()
        response = client.post("/login", data={"phone": "13912345678", "password": "x"})
        assert response.status_code == 200  # the rate limiter falls back to memory
        assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "job.note")) == 0


def _run(database_url: str, *command: str):
    """``python *command`` from the repository root, as an operator starts a worker: the
    environment names the database and Redis (at normal priority, however busy the machine)."""
    import pathlib
    import subprocess
    import sys

    root = pathlib.Path(__file__).resolve().parents[2]
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": REDIS, "FLASK_DEBUG": "1", "WORKER_NICE": "0"}
    return subprocess.run([sys.executable, *command], cwd=root, env=env, capture_output=True, text=True, timeout=60)


WORKER_BURST = ("-m", "flask", "--app", "wsgi", "worker", "--burst")


@pytest.mark.skipif(not REDIS, reason="TEST_REDIS_URL is not set (.ci/run sets it)")
def test_the_worker_command_runs_queued_jobs_in_the_app(app_config, database_url):
    """`flask --app wsgi worker --burst` in its own process, as operators run it."""
    app = create_app({**app_config, "REDIS_URL": REDIS})
    with app.app_context():
        jobs.queue().empty()
        jobs.enqueue(note, "from the worker")
        result = _run(database_url, *WORKER_BURST)
        assert result.returncode == 0, result.stderr[-2000:]
        db.session.expire_all()
        assert notes() == ["from the worker"]


@pytest.mark.skipif(not REDIS, reason="TEST_REDIS_URL is not set (.ci/run sets it)")
def test_the_worker_runs_its_jobs_in_its_own_process_on_one_database_connection(app_config, database_url):
    """No process forked and no connection opened for each job: a job costs only its own work."""
    app = create_app({**app_config, "REDIS_URL": REDIS})
    with app.app_context():
        jobs.queue().empty()
        for _ in range(5):
            jobs.enqueue(where)
        result = _run(database_url, *WORKER_BURST)
        assert result.returncode == 0, result.stderr[-2000:]
        db.session.expire_all()
        seen = {tuple(json.loads(line)) for line in notes()}
        assert len(notes()) == 5 and len(seen) == 1  # one process, one connection (PostgreSQL's backend)


@pytest.mark.skipif(not REDIS, reason="TEST_REDIS_URL is not set (.ci/run sets it)")
def test_a_job_that_will_not_stop_ends_the_worker_and_holds_up_nothing_for_ever(app_config, database_url):
    """A job past its time-out that goes on anyway ends its worker OVERRUN seconds later
    (here 1), as a forking worker would kill it, and its scheduler process with it; the
    worker started again runs the next job."""
    import subprocess
    import time

    from rq.scheduler import RQScheduler

    app = create_app({**app_config, "REDIS_URL": REDIS})
    with app.app_context():
        jobs.queue().empty()
        jobs.enqueue(stubborn, 120, job_timeout=1)
        jobs.enqueue(note, "behind it")
        marker = "stuck-worker-test"
        script = ("from ruralinfo import jobs; jobs.OVERRUN = 1; from wsgi import app; ctx = app.app_context(); "
                  "ctx.push(); jobs.make_worker().work(burst={burst}, with_scheduler=True)  # " + marker)
        scheduler_lock = RQScheduler.get_locking_key(jobs.QUEUE)
        try:
            first = _run(database_url, "-c", script.format(burst=False))  # as it runs for good: a scheduler process
            assert first.returncode == 3 and "still runs" in first.stderr, first.stderr[-2000:]
            ends = time.monotonic() + 10
            while jobs._redis().exists(scheduler_lock) and time.monotonic() < ends:
                time.sleep(0.1)
            assert not jobs._redis().exists(scheduler_lock)  # its scheduler stopped and let go
        finally:
            subprocess.run(["pkill", "-f", marker], check=False)  # a scheduler left behind, if any
        assert notes() == []  # it held the queue until it stopped
        again = _run(database_url, "-c", script.format(burst=True))
        assert again.returncode == 0, again.stderr[-2000:]
        db.session.expire_all()
        assert notes() == ["behind it"]


@pytest.mark.skipif(not REDIS, reason="TEST_REDIS_URL is not set (.ci/run sets it)")
def test_a_job_handed_over_after_the_commit_with_retries_runs_again_when_it_fails(app_config, database_url):
    """``later(…, retry_after=…)``: the job is queued with its retries, and a worker runs it
    again after it failed (here at once: 0 s)."""
    app = create_app({**app_config, "REDIS_URL": REDIS})
    with app.app_context():
        jobs.queue().empty()
        jobs.later(flaky, "second try", retry_after=(0,))
        jobs.run_later()
        [job] = jobs.queue().get_jobs()
        assert (job.retries_left, job.retry_intervals) == (1, [0])
        result = _run(database_url, *WORKER_BURST)
        assert result.returncode == 0, result.stderr[-2000:]
        db.session.expire_all()
        assert notes() == ["second try tried", "second try"]


def test_without_redis_a_job_with_retries_runs_once_inline(app):
    jobs.later(note, "inline", retry_after=(60,))
    jobs.run_later()
    assert notes() == ["inline"]


class _Stop(Exception):
    pass


def test_a_stopped_redis_gets_one_plain_line_and_growing_pauses(app_config):
    app = create_app({**app_config, "REDIS_URL": "redis://:secret@127.0.0.1:1/0"})
    said, pauses = [], []

    def sleep(seconds):
        pauses.append(seconds)
        if len(pauses) == 9:
            raise _Stop

    with app.app_context():
        with pytest.raises(_Stop):
            jobs.run_worker(echo=said.append, sleep=sleep, sweep_every=3600)
    assert pauses == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    assert len(said) == 1 and "cannot reach Redis at 127.0.0.1:1/0" in said[0] and "secret" not in said[0]


def test_the_worker_command_with_redis_down_says_so_without_a_traceback(app_config, database_url):
    import pathlib
    import signal
    import subprocess
    import sys
    import time

    root = pathlib.Path(__file__).resolve().parents[2]
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": "redis://127.0.0.1:1/0", "FLASK_DEBUG": "1",
           "WORKER_NICE": "0"}
    burst = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst"], cwd=root,
                           env=env, capture_output=True, text=True, timeout=60)
    assert burst.returncode == 1 and "Traceback" not in burst.stderr + burst.stdout
    assert burst.stdout.count("cannot reach Redis") == 1
    running = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=root, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4)
    assert running.poll() is None  # still trying, not crashed
    running.send_signal(signal.SIGTERM)
    out, err = running.communicate(timeout=30)
    assert out.count("cannot reach Redis") == 1 and "Traceback" not in err


def test_a_running_worker_sweeps_texts_left_queued(app):
    import time

    from ruralinfo.sms import services as sms
    from ruralinfo.sms.models import OutboundMessage

    message = sms.queue_sms("+8613800138000", "测试", kind="notice")
    db.session.commit()  # queued, never dispatched: as when Redis was down
    stop = jobs.start_sweeper(0.05)
    try:
        for _ in range(100):
            db.session.expire_all()
            if db.session.get(OutboundMessage, message.id).status not in ("queued", "sending"):
                break
            time.sleep(0.05)
    finally:
        stop.set()
    assert db.session.get(OutboundMessage, message.id).status == "sent"


def _priority_after_lowering(tmp_path, nice) -> list:
    """In a fresh process: niceness before, what ``lower_priority`` says, and whether it runs idle after."""
    import subprocess
    import sys
    from pathlib import Path

    script = ("import os, json; from ruralinfo import create_app, jobs; "
              "from tests.conftest import BASE_CONFIG; "
              f"app = create_app({{**BASE_CONFIG, 'DATABASE_URL': 'sqlite:///{tmp_path}/x.sqlite3', "
              f"'WORKER_NICE': {nice!r}}}); "
              "before = os.nice(0); ctx = app.app_context(); ctx.push(); said = jobs.lower_priority(); "
              "print(json.dumps([before, said, os.sched_getscheduler(0) == os.SCHED_IDLE]))")
    result = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parents[2],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_the_worker_takes_only_the_cpu_the_web_workers_leave(tmp_path):
    """By default (WORKER_NICE=idle) the worker runs under SCHED_IDLE: on one small machine
    a farmer's text is answered first, and jobs use the time left over."""
    _before, said, idle = _priority_after_lowering(tmp_path, "idle")
    assert said == "idle" and idle


def test_a_worker_niceness_can_be_chosen_instead(tmp_path):
    before, said, idle = _priority_after_lowering(tmp_path, 7)
    assert said == f"nice {min(before + 7, 19)}" and not idle
