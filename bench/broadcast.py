"""Benchmark: broadcasts on PostgreSQL (and Redis for the shared rate).

    .venv/bin/python bench/broadcast.py                       # 1,000,000 farmers
    .venv/bin/python bench/broadcast.py --people 200000 --texts 5000
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1/bench_broadcast …   # default shown

1. Planning: the recipients of a broadcast to every farmer of the province
   (``planning.plan``: one INSERT … SELECT), against a bare INSERT … SELECT of the same
   rows into a table of the same shape, in the same run. Goals: ≤ 15 s for a million,
   and ≤ 2× the bare statement.
2. Sending with a gateway that answers at once and no rate limit, one worker process:
   texts a second (goal ≥ 2,000).
3. The shared rate: ``SMS_RATE=50`` and 4 worker processes taking slots from Redis for
   ``--rate-seconds``; the most texts any one-second window held (goal: ≤ 50).
"""
from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # our `mailbox`, not the standard library's

from bench.common import recreate_database  # noqa: E402
from sqlalchemy import select, text  # noqa: E402

SECRET = "bench-secret-key-0123456789abcdef"
IDENTITY = "bench-identity-key-0123456789abcdef0123"
PROVINCE = "33"


def make_app(url: str, **extra):
    from ruralinfo import create_app

    return create_app({"SECRET_KEY": SECRET, "IDENTITY_KEY": IDENTITY, "DATABASE_URL": url, "QUIET_HOURS": "",
                       "SMS_RATE": 1_000_000, "BROADCAST_MAX_HOURS": 1_000_000, **extra})


def load_people(count: int) -> None:
    """``count`` farmers in the shipped townships of the province, 1 in 20 reading English,
    1 in 50 opted out, all in the 茶叶 group."""
    from ruralinfo.extensions import db
    from ruralinfo.regions.models import Region

    townships = db.session.scalars(select(Region.code).where(Region.level == 4,
                                                             Region.code.startswith(PROVINCE))).all()
    conn = db.session.connection().connection.driver_connection
    with conn.cursor() as cursor:
        with cursor.copy("COPY users (name, phone, region_code, language, sms_opt_out, registered_at, "
                         "registration_channel, active, session_version) FROM STDIN") as copy:
            for n in range(count):
                copy.write_row(("张三", f"+86135{n:08d}", townships[n % len(townships)], "en" if n % 20 == 0 else "zh",
                                n % 50 == 0, "2026-11-01", "import", True, 0))
    db.session.commit()
    db.session.execute(text("ANALYZE users"))
    db.session.commit()


def broadcast_to_province(body: str = "明晨有霜冻，请注意茶园防冻。"):
    from ruralinfo.broadcasts import audience as audiences
    from ruralinfo.broadcasts.models import SENDING, Broadcast, Topic
    from ruralinfo.extensions import db

    topic = db.session.scalar(select(Topic).where(Topic.key == "weather"))
    broadcast = Broadcast(body=body, body_en="Frost tomorrow morning.", topic=topic, urgent=True, status=SENDING,
                          audience=audiences.Audience(audiences.Rules(regions=[PROVINCE])).to_json())
    db.session.add(broadcast)
    db.session.commit()
    return broadcast


def measure_planning() -> tuple[float, float, int]:
    """(our planning, the bare statement, recipients): both write the same rows into the
    recipients table (its constraints and indexes included), for two broadcasts."""
    from ruralinfo.broadcasts import planning
    from ruralinfo.extensions import db

    bare_one = broadcast_to_province()
    started = time.perf_counter()
    db.session.execute(text(
        "INSERT INTO broadcast_recipients (broadcast_id, user_id, phone, language, state) "
        "SELECT :id, id, phone, CASE WHEN language = 'en' THEN 'en' ELSE 'zh' END, "
        "CASE WHEN sms_opt_out THEN 'opted_out' ELSE 'planned' END FROM users "
        f"WHERE active AND region_code >= '{PROVINCE}' AND region_code <= '{PROVINCE}9999999999'"),
        {"id": bare_one.id})
    db.session.commit()
    bare = time.perf_counter() - started
    broadcast = broadcast_to_province()
    started = time.perf_counter()
    planned = planning.plan(broadcast)
    db.session.commit()
    ours = time.perf_counter() - started
    return ours, bare, planned


class ZeroLatency:
    """A gateway that accepts every text at once."""

    name = "zero"

    def send(self, to, body, callback_url):
        from ruralinfo.sms.gateways import SendResult
        from ruralinfo.sms.models import SENT

        return SendResult(provider_id=f"zero-{uuid.uuid4().hex}", status=SENT)

    def find(self, *args, **kwargs):
        return None


def measure_sending(app, texts: int) -> float:
    """Texts a second through ``sending.run`` for a broadcast of ``texts`` recipients."""
    from ruralinfo.broadcasts import audience as audiences
    from ruralinfo.broadcasts import planning, sending
    from ruralinfo.extensions import db

    app.extensions["sms_gateway"] = ZeroLatency()
    phones = [f"+86135{n:08d}" for n in range(1, texts * 2) if n % 50][:texts]
    broadcast = broadcast_to_province("茶叶价格行情")
    broadcast.audience = audiences.Audience(audiences.Rules(phones=phones)).to_json()
    planning.plan(broadcast)
    db.session.commit()
    started = time.perf_counter()
    sent = sending.run(broadcast.id)
    return sent / (time.perf_counter() - started)


def _take_slots(url: str, redis: str, seconds: float, out) -> None:
    from ruralinfo.broadcasts import rate

    app = make_app(url, REDIS_URL=redis, SMS_RATE=50)
    with app.app_context():
        ends = time.time() + seconds
        while time.time() < ends:
            rate.wait_turn("bench")
            out.put(time.time())


def measure_rate(url: str, redis: str, seconds: float) -> tuple[int, int]:
    """(texts, the most in any one-second window) for 4 processes at SMS_RATE=50."""
    queue = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=_take_slots, args=(url, redis, seconds, queue)) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    times = []
    while not queue.empty():
        times.append(queue.get())
    times.sort()
    most, start = 0, 0
    for end, moment in enumerate(times):
        while moment - times[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return len(times), most


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--texts", type=int, default=20_000, help="recipients of the sending measure")
    parser.add_argument("--redis", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"))
    parser.add_argument("--rate-seconds", type=float, default=10.0)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1/bench_broadcast")
    recreate_database(url)
    app = make_app(url)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        started = time.perf_counter()
        load_people(args.people)
        print(f"loaded {args.people:,} farmers in {time.perf_counter() - started:.0f} s")
        ours, bare, planned = measure_planning()
        print(f"planning {planned:,} recipients: {ours:.1f} s; bare INSERT … SELECT: {bare:.1f} s; "
              f"ratio {ours / bare:.2f}  (goals: ≤ 15 s, ≤ 2)")
        per_second = measure_sending(app, args.texts)
        print(f"sending, zero-latency gateway, no rate limit, 1 worker: {per_second:,.0f} texts a second "
              f"(goal ≥ 2,000)")
    from redis import Redis

    Redis.from_url(args.redis).delete("ruralinfo:sms-rate:bench")
    texts, most = measure_rate(url, args.redis, args.rate_seconds)
    print(f"SMS_RATE=50, 4 worker processes, {args.rate_seconds:.0f} s: {texts} texts, "
          f"at most {most} in any one second (goal ≤ 50)")


if __name__ == "__main__":
    main()
