"""Benchmark: inbound SMS webhook latency under gunicorn (4 workers) at a steady
100 requests a second on PostgreSQL. Goal: p99 ≤ 50 ms.

    .venv/bin/python bench/webhook_latency.py                       # 30 s at 100 req/s
    .venv/bin/python bench/webhook_latency.py --rate 100 --seconds 60
    .venv/bin/python bench/webhook_latency.py --posts 1000000 --redis redis://127.0.0.1:6379/14
    .venv/bin/python bench/webhook_latency.py --reuse --redis …     # again, on what the last run left
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1/bench_webhook … # default shown

It (re)creates the database named in BENCH_DATABASE_URL, migrates it, registers
200 farmers at one liaison point, starts gunicorn on a free port of 127.0.0.1,
and sends signed Twilio-style requests on an open-loop schedule (a request is
sent on time even when earlier ones are slow, so queueing shows in the figures).
The mix: 40% 卖/买 posts, 30% free text (a letter to the liaison point), 20% 我的,
10% 帮助; 10% of the requests repeat an earlier MessageSid, as Twilio's retries do.
The 卖 asks 5元/斤 (10 元/公斤), the median of the preloaded posts' prices, so that
it is published and matched — a price far from the county's median would be held
for review, which costs less and would flatter the figures.

With --redis, one job worker runs beside gunicorn as `flask --app wsgi worker` runs it
(WORKER_NICE from the environment, by default `idle`): it tells the owners of the
matches of every 卖/买 (ten letters each). The last lines say how many jobs still
waited when the requests stopped, so that a worker starved into falling behind does
not pass for a fast web.
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import os
import random
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # our `mailbox`, not the standard library's

from bench import common  # noqa: E402
from bench.common import recreate_database  # noqa: E402
from sqlalchemy import select  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

SECRET = "bench-secret-key-0123456789abcdef"
IDENTITY = "bench-identity-key-0123456789abcdef0123"
FARMERS = 200
FARMER_PHONE = "+86137{:08d}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(url: str) -> list[str]:
    """Migrate and register the farmers; return their phone numbers."""
    from flask_migrate import upgrade

    from ruralinfo import create_app
    from ruralinfo.accounts import identity
    from ruralinfo.accounts import services as accounts
    from ruralinfo.extensions import db
    from ruralinfo.liaison.models import LiaisonPoint
    from ruralinfo.regions.models import Region

    app = create_app({"SECRET_KEY": SECRET, "IDENTITY_KEY": IDENTITY, "DATABASE_URL": url,
                      "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
    phones = []
    with app.app_context():
        upgrade()
        point = LiaisonPoint(name="长溪村联络点", address="", phone="", opening_hours="")
        point.regions = [db.session.get(Region, "330282104201")]
        db.session.add(point)
        db.session.commit()
        for n in range(FARMERS):
            phone = FARMER_PHONE.format(n)
            accounts.register_farmer(accounts.FarmerData(
                name="测试农户", id_number=identity.compose("330282", date(1970, 1, 1 + n % 28), n),
                phone=phone, region_code="330282104201", groups=["葡萄"]),
                actor=None, channel="cli", scope=None, consent=True)
            phones.append(phone)
        db.engine.dispose()
    return phones


def preload_posts(url: str, count: int) -> None:
    """``count`` open posts (bench/matching.py's loader) over 300 products that include the
    mix's 土豆 and 葡萄苗, in 5,000 villages — so that every 卖/买 here has real matches."""
    import random as _random

    from bench import matching as loader
    from mailbox.models import Product
    from ruralinfo.extensions import db

    app = loader.make_app(url)
    rng = _random.Random(7)
    with app.app_context():
        villages, users, products = loader.seed_places_and_people(rng)
        wanted = db.session.scalars(select(Product.id).where(Product.name_zh.in_(("土豆", "葡萄苗")))).all()
        products = list(dict.fromkeys(wanted + products))[:loader.PRODUCTS]
        loader.load_posts(count, rng, villages, users, products)
        db.engine.dispose()


def start_gunicorn(url: str, port: int, redis: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET, "IDENTITY_KEY": IDENTITY,
           "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}", "SMS_BACKEND": "outbox"}
    env.pop("REDIS_URL", None)
    if redis:
        env["REDIS_URL"] = redis
    return common.start_gunicorn(env, port)


def requests_plan(phones: list[str], total: int, seed: int = 2026) -> list[dict]:
    rng = random.Random(seed)
    plan: list[dict] = []
    for n in range(total):
        if plan and rng.random() < 0.10:
            plan.append(rng.choice(plan))  # Twilio retrying an earlier delivery
            continue
        roll = rng.random()
        body = ("卖 土豆 500斤 5元/斤" if roll < 0.2 else "买 葡萄苗 200株" if roll < 0.4 else
                "我家葡萄叶子发黄怎么办" if roll < 0.7 else "我的" if roll < 0.9 else "帮助")
        plan.append({"MessageSid": f"SM{n:032x}", "AccountSid": "AC" + "0" * 32, "From": rng.choice(phones),
                     "To": "+8610690000", "Body": body, "NumMedia": "0"})
    return plan


def run(port: int, plan: list[dict], rate: float) -> tuple[list[float], int]:
    token = hmac.new(SECRET.encode(), b"ruralinfo sms webhook", hashlib.sha256).hexdigest()
    validator = RequestValidator(token)
    url = f"http://127.0.0.1:{port}/twilio/sms"
    return common.open_loop(port, [
        ("/twilio/sms", urllib.parse.urlencode(p).encode(),
         {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": validator.compute_signature(url, p)})
        for p in plan], rate)


def cpu_seconds() -> dict[str, float]:
    """CPU time used so far by the web workers and by PostgreSQL's processes on this
    machine (Linux /proc; empty elsewhere): a figure the machine's other load does not
    move, unlike latency."""
    used = {"web": 0.0, "database": 0.0}
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    for pid in (name for name in os.listdir("/proc") if name.isdigit()) if os.path.isdir("/proc") else ():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                command = handle.read().decode(errors="replace")
            with open(f"/proc/{pid}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        kind = "web" if "gunicorn" in command else "database" if "postgres" in command else None
        if kind:
            used[kind] += (int(fields[11]) + int(fields[12])) / tick
    return used


def job_queue(redis_url: str):
    """The job queue at ``redis_url``; a Redis that cannot be reached ends the run at once,
    before minutes are spent loading posts."""
    from redis import Redis
    from redis.exceptions import RedisError
    from rq import Queue

    connection = Redis.from_url(redis_url)
    try:
        connection.ping()
    except RedisError as err:
        raise SystemExit(f"cannot reach Redis at {redis_url} ({type(err).__name__}): start it, or set "
                         "BENCH_REDIS_URL / --redis to one that runs") from None
    return Queue("default", connection=connection)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--posts", type=int, default=0,
                        help="open posts to load first (e.g. 1000000), so that posts really match")
    parser.add_argument("--redis", default="",
                        help="REDIS_URL for the web workers and one job worker (the at-scale setup; its job "
                             "queue is emptied first); "
                             "without it, jobs run inline in the request as in the embedded setup")
    parser.add_argument("--no-worker", action="store_true",
                        help="with --redis: no job worker (the web path alone; jobs wait in Redis)")
    parser.add_argument("--reuse", action="store_true",
                        help="use the database the last run left (its farmers and posts) instead of making it again")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1/bench_webhook")
    jobs = job_queue(args.redis) if args.redis else None
    if args.reuse:
        phones = [FARMER_PHONE.format(n) for n in range(FARMERS)]
    else:
        recreate_database(url)
        phones = prepare(url)
    if args.posts and not args.reuse:
        started = time.perf_counter()
        preload_posts(url, args.posts)
        print(f"loaded {args.posts:,} open posts in {time.perf_counter() - started:.0f} s")
    port = free_port()
    if jobs is not None:  # the jobs an earlier run left would be this run's worker's first work
        jobs.empty()
    server = start_gunicorn(url, port, args.redis or None)
    worker = None
    if args.redis and not args.no_worker:
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET, "IDENTITY_KEY": IDENTITY,
               "REDIS_URL": args.redis, "SMS_BACKEND": "outbox"}
        worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        plan = requests_plan(phones, int(args.rate * args.seconds))
        this_run = f"{time.time_ns():x}"[-8:]  # new ids each run: a reused database has the last run's
        run(port, [dict(p, MessageSid=p["MessageSid"] + this_run + "u") for p in plan[: int(args.rate * 2)]],
            args.rate)  # warm up the workers' connections
        before = cpu_seconds()
        latencies, errors = run(port, [dict(p, MessageSid=p["MessageSid"] + this_run) for p in plan], args.rate)
        after = cpu_seconds()
        waiting = jobs.count if jobs is not None else None  # match alerts and texts not yet taken
    finally:
        server.terminate()
        server.wait(10)
        if worker is not None:
            worker.terminate()
            worker.wait(10)
    good = [v for v in latencies if v != float("inf")]
    print(f"requests: {len(latencies)} at {args.rate:.0f}/s for {args.seconds:.0f} s, errors: {errors}")
    print(f"latency ms  p50 {percentile(good, 0.50):.1f}  p90 {percentile(good, 0.90):.1f}  "
          f"p99 {percentile(good, 0.99):.1f}  max {max(good):.1f}  mean {statistics.mean(good):.1f}")
    if after["web"]:
        print(f"CPU a request: web {(after['web'] - before['web']) / len(latencies) * 1000:.1f} ms, "
              f"database {(after['database'] - before['database']) / len(latencies) * 1000:.1f} ms "
              f"(this machine: {os.cpu_count()} CPUs for both, the job worker and this client)")
    if waiting is not None:
        print(f"jobs still waiting at the end: {waiting}" + (" (no worker)" if args.no_worker else ""))
    print("goal: p99 <= 50 ms:", "met" if percentile(good, 0.99) <= 50 else "NOT met")


if __name__ == "__main__":
    main()
