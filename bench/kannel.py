"""Benchmark: the Kannel backend against a real Kannel (bearerbox, smsbox, the fake SMSC).

    .venv/bin/python bench/kannel.py                       # 1,000 texts out with 1 and 4 workers; 30 s in at 100/s
    .venv/bin/python bench/kannel.py --texts 2000 --workers 1 4 8 --rate 100 --seconds 60
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1/bench_kannel BENCH_REDIS_URL=redis://127.0.0.1:6379/14

Needs Debian's kannel and kannel-extras (``apt-get install kannel kannel-extras``),
PostgreSQL and Redis. It (re)creates the database named in BENCH_DATABASE_URL, registers
200 farmers, starts a Kannel from tests/kannel/kannel.conf.template and the app under
gunicorn (4 workers) with ``SMS_BACKEND=kannel``, so that Kannel's delivery reports and
inbound texts reach it.

Out: ``--texts`` one-segment Chinese notices are put in the outbox and handed to the job
queue; then N job workers (``flask --app wsgi worker``, as in production) send them
through sendsms. The figure is texts a second from the first worker's start until the
fake SMSC has received the last one. Texts made together go in batches of ten, one job
a batch (``sms.tasks.send_batch``). Each phase then waits for all their
delivery reports, so that the next one does not measure their backlog.

In: Kannel's sms-service calls to ``POST /kannel/sms`` at a steady ``--rate`` a second
(open loop: a call goes on time even when earlier ones are slow), the mix of
bench/webhook_latency.py, 10% of them repeats of an earlier Kannel id as Kannel's retries
would be. Each reply is queued for the job worker (one runs), which sends it through
Kannel. The figure is the latency of the app's answer to Kannel, p50/p90/p99.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # our `mailbox`, not the standard library's

from bench.common import open_loop, recreate_database, start_gunicorn  # noqa: E402
from bench.webhook_latency import (IDENTITY, SECRET, cpu_seconds, free_port, percentile, prepare,  # noqa: E402
                                   requests_plan)
from tests.kannel.harness import INSTALL_HINT, KannelHarness, missing_binaries  # noqa: E402

KANNEL_SECRET = "bench-kannel-secret-0123456789"
LONG_NUMBER = "1069012316"
NOTICE = "明晨有霜冻，请各茶园做好防冻准备。"  # one segment with the signature


def app_env(url: str, redis: str, port: int, kannel: KannelHarness) -> dict:
    return {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET, "IDENTITY_KEY": IDENTITY,
            "REDIS_URL": redis, "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "SMS_BACKEND": "kannel",
            "KANNEL_SEND_URL": kannel.send_url, "KANNEL_USERNAME": kannel.username,
            "KANNEL_PASSWORD": kannel.password, "KANNEL_SECRET": KANNEL_SECRET, "KANNEL_FROM": LONG_NUMBER,
            "QUIET_HOURS": "", "SMS_OPTOUT_HINT": ""}


def start_workers(env: dict, count: int) -> list[subprocess.Popen]:
    return [subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(count)]


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def queue_notices(env: dict, phones: list[str], count: int, tag: str) -> None:
    """``count`` notices in the outbox, handed to the job queue (the workers are not running yet)."""
    from ruralinfo import create_app
    from ruralinfo.extensions import db
    from ruralinfo.sms import services

    app = create_app({key: env[key] for key in ("DATABASE_URL", "SECRET_KEY", "IDENTITY_KEY", "REDIS_URL",
                                                "PUBLIC_BASE_URL", "SMS_BACKEND", "KANNEL_SEND_URL",
                                                "KANNEL_USERNAME", "KANNEL_PASSWORD", "KANNEL_SECRET",
                                                "KANNEL_FROM", "QUIET_HOURS")})
    with app.app_context():
        messages = [services.queue_sms(phones[n % len(phones)], f"{NOTICE}[{tag}{n}]", kind="notice")
                    for n in range(count)]
        db.session.commit()
        services.dispatch(messages)
        db.session.info.pop("sms_pending", None)
        db.engine.dispose()


def outbound(env: dict, kannel: KannelHarness, phones: list[str], texts: int, workers: int) -> float:
    """Texts a second through N workers into Kannel and the fake SMSC."""
    kannel.clear()
    tag = f"w{workers}-"
    queue_notices(env, phones, texts, tag)
    started = time.perf_counter()
    processes = start_workers(env, workers)
    try:
        deadline = time.monotonic() + max(120, texts / 5)
        while True:
            got = sum(1 for m in kannel.received() if f"[{tag}" in m.text)
            if got >= texts:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"only {got} of {texts} texts reached the fake SMSC")
            time.sleep(0.05)
        return texts / (time.perf_counter() - started)
    finally:
        stop(processes)
        settle(env["DATABASE_URL"])


def settle(url: str, timeout: float = 180) -> None:
    """Wait until Kannel's delivery reports for the texts sent have all come back, so that
    the next phase does not measure their backlog."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    deadline = time.monotonic() + timeout
    try:
        with engine.connect() as conn:
            while time.monotonic() < deadline:
                left = conn.execute(text("SELECT count(*) FROM sms_outbox WHERE kind = 'notice' "
                                         "AND status NOT IN ('delivered', 'queued')")).scalar()
                conn.commit()
                if not left:
                    return
                time.sleep(0.5)
        print(f"  ({left} reports still awaited after {timeout:.0f} s)")
    finally:
        engine.dispose()


def inbound_plan(phones: list[str], total: int) -> list[dict]:
    """bench/webhook_latency.py's mix (10% repeats), as Kannel's sms-service calls."""
    return [{"secret": KANNEL_SECRET, "from": p["From"].lstrip("+"), "to": LONG_NUMBER, "text": p["Body"],
             "id": p["MessageSid"], "time": "2026-12-07 09:00:00", "smsc": "bench"}
            for p in requests_plan(phones, total)]


def inbound(port: int, plan: list[dict], rate: float) -> tuple[list[float], int]:
    return open_loop(port, [(f"/kannel/sms?{urllib.parse.urlencode(p)}", b"", {"Content-Type": "text/plain"})
                            for p in plan], rate)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=1000, help="texts out per worker count")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--rate", type=float, default=100.0, help="inbound texts a second")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the inbound run lasts")
    args = parser.parse_args()
    missing = missing_binaries()
    if missing:
        raise SystemExit(f"{INSTALL_HINT} (missing: {', '.join(missing)})")
    url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1/bench_kannel")
    redis = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    import redis as redis_lib

    redis_lib.Redis.from_url(redis).flushdb()
    recreate_database(url)
    phones = prepare(url)
    port = free_port()
    kannel = KannelHarness(app_url=f"http://127.0.0.1:{port}", secret=KANNEL_SECRET)
    env = app_env(url, redis, port, kannel)
    kannel.start()
    web = start_gunicorn(env, port)
    try:
        print(f"out: {args.texts} one-segment notices from the outbox through Kannel to the fake SMSC")
        for workers in args.workers:
            rate = outbound(env, kannel, phones, args.texts, workers)
            print(f"  {workers} worker{'s' if workers > 1 else ''}: {rate:6.1f} texts a second")
        plan = inbound_plan(phones, int(args.rate * args.seconds))
        repliers = start_workers(env, 1)
        try:
            inbound(port, [dict(p, id=p["id"] + "-warm") for p in plan[: int(args.rate * 2)]], args.rate)
            before = cpu_seconds()
            latencies, errors = inbound(port, plan, args.rate)
            after = cpu_seconds()
        finally:
            stop(repliers)
    finally:
        stop([web])
        kannel.stop()
    good = [v for v in latencies if v != float("inf")]
    print(f"in: {len(latencies)} calls to /kannel/sms at {args.rate:.0f}/s for {args.seconds:.0f} s, errors: {errors}")
    print(f"  latency ms  p50 {percentile(good, 0.50):.1f}  p90 {percentile(good, 0.90):.1f}  "
          f"p99 {percentile(good, 0.99):.1f}  max {max(good):.1f}")
    if after["web"]:
        print(f"  CPU a call: web {(after['web'] - before['web']) / len(latencies) * 1000:.1f} ms, "
              f"database {(after['database'] - before['database']) / len(latencies) * 1000:.1f} ms "
              f"(this machine: {os.cpu_count()} CPUs for Kannel, the app, the database and this client)")


if __name__ == "__main__":
    main()
