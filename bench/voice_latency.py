"""Benchmark: one hotline menu step under gunicorn (4 workers) at a steady 100 requests
a second on PostgreSQL. Goal: p99 ≤ 25 ms.

    .venv/bin/python bench/voice_latency.py                        # 30 s at 100 req/s
    .venv/bin/python bench/voice_latency.py --rate 100 --seconds 60
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1/bench_voice …  # default shown

It (re)creates the database named in BENCH_DATABASE_URL, migrates it (the default
12316 tree is published by the migration), registers 200 farmers, starts gunicorn on a
free port of 127.0.0.1 and sends signed Twilio-style requests on an open-loop schedule
(a request is sent on time even when earlier ones are slow, so queueing shows).

``CALLS`` calls are in progress at once, as on a busy hotline; each takes its next step
every ``CALLS / rate`` seconds, following the action URL its last answer gave, as Twilio
does. The mix of steps: a tenth of the calls begin during the measurement (the greeting
and main menu: ``incoming call``), then keys at the menus — into a topic's menu and back (``1`` … ``6``, ``#``), ``*`` to hear it again, a
wrong key, silence (no key) — and 5% a repeated request for a step already answered (a
Twilio retry: the kept answer). Each is one menu step: what a caller waits for after a
key. Four in five callers are registered (greeted by name), one in five is not.
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import os
import random
import re
import statistics
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from html import unescape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # our `mailbox`, not the standard library's

from bench.common import recreate_database  # noqa: E402
from bench.webhook_latency import SECRET, cpu_seconds, free_port, percentile, prepare, start_gunicorn  # noqa: E402
from twilio.request_validator import RequestValidator  # noqa: E402

CALLS = 600
ACTION = re.compile(r'<(?:Gather|Redirect)[^>]*?(?:action="([^"]+)"|>([^<]+)</Redirect>)')
KEYS = ("1", "2", "3", "4", "5", "6", "#", "#", "#", "*", "7", "")  # "" = no key came (Twilio's timeout)


class Caller:
    """One call in progress: where its next request goes, and its last request (to repeat)."""

    def __init__(self, sid: str, phone: str):
        self.sid, self.phone = sid, phone
        self.next_url: str | None = None  # None: not started yet
        self.last: tuple[str, dict] | None = None
        self.lock = threading.Lock()


def _next_url(document: str, base: str) -> str | None:
    found = ACTION.search(document)
    if not found:
        return None
    url = unescape(found.group(1) or found.group(2)).strip()
    return url[len(base):] if url.startswith(base) else url


def _request(caller: Caller, rng: random.Random) -> tuple[str, str, dict]:
    """(kind, path, params) of this caller's next step."""
    base = {"CallSid": caller.sid, "AccountSid": "AC" + "0" * 32, "From": caller.phone, "To": "12316"}
    if caller.next_url is None:
        return "incoming call", "/twilio/voice", base
    if caller.last is not None and rng.random() < 0.05:
        return "repeated step", *caller.last
    key = rng.choice(KEYS)
    params = dict(base, Digits=key) if key else base
    return ("key" if key else "silence"), caller.next_url, params


def run(port: int, callers: list[Caller], total: int, rate: float, seed: int) -> dict[str, list[float]]:
    """``total`` steps at ``rate`` a second, caller ``i % CALLS`` taking step ``i``."""
    token = hmac.new(SECRET.encode(), b"ruralinfo sms webhook", hashlib.sha256).hexdigest()
    validator = RequestValidator(token)
    base = f"http://127.0.0.1:{port}"
    latencies: dict[str, list[float]] = {}
    lock, local = threading.Lock(), threading.local()
    start = time.perf_counter() + 0.5

    def send(index: int) -> None:
        caller = callers[index % len(callers)]
        with caller.lock:  # a caller's steps are seconds apart: this never waits in practice
            rng = random.Random(seed * 1_000_003 + index)
            kind, path, params = _request(caller, rng)
            body = urllib.parse.urlencode(params)
            signature = validator.compute_signature(base + path, params)
            due = start + index / rate
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            if not hasattr(local, "conn"):
                local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            try:
                local.conn.request("POST", path, body=body, headers={
                    "Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature})
                response = local.conn.getresponse()
                document = response.read().decode()
                ok = response.status == 200
            except OSError:
                local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                ok, document = False, ""
            elapsed = (time.perf_counter() - due) * 1000
            if ok and kind != "repeated step":
                caller.last = (path, params)
                caller.next_url = _next_url(document, base) or caller.next_url
            elif ok and caller.next_url is None:
                caller.next_url = _next_url(document, base)
        with lock:
            latencies.setdefault(kind, []).append(elapsed if ok else float("inf"))

    with ThreadPoolExecutor(max_workers=32) as pool:
        list(pool.map(send, range(total)))
    return latencies


def _line(name: str, values: list[float]) -> str:
    good = [v for v in values if v != float("inf")]
    errors = len(values) - len(good)
    return (f"{name:<16} n {len(values):>5}  p50 {percentile(good, 0.50):6.1f}  p90 {percentile(good, 0.90):6.1f}  "
            f"p99 {percentile(good, 0.99):6.1f}  max {max(good):6.1f}  mean {statistics.mean(good):6.1f}"
            + (f"  errors {errors}" if errors else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1/bench_voice")
    recreate_database(url)
    phones = prepare(url)
    rng = random.Random(12316)
    callers = [Caller(f"CA{n:032x}", rng.choice(phones) if rng.random() < 0.8 else f"+8613{n:09d}")
               for n in range(CALLS)]
    port = free_port()
    server = start_gunicorn(url, port)
    try:
        run(port, callers, len(callers), args.rate, seed=1)  # the calls come in; the workers warm up
        for caller in callers[: len(callers) // 10]:  # one in ten is a new call during the measurement
            caller.sid, caller.next_url, caller.last = caller.sid.replace("CA", "CB"), None, None
        before = cpu_seconds()
        latencies = run(port, callers, int(args.rate * args.seconds), args.rate, seed=2)
        after = cpu_seconds()
    finally:
        server.terminate()
        server.wait(10)
    every = [v for values in latencies.values() for v in values]
    print(f"steps: {len(every)} at {args.rate:.0f}/s for {args.seconds:.0f} s, {CALLS} calls in progress")
    print("latency ms")
    print(_line("every step", every))
    for kind in sorted(latencies):
        print(_line(kind, latencies[kind]))
    if after["web"]:
        print(f"CPU a step: web {(after['web'] - before['web']) / len(every) * 1000:.1f} ms, "
              f"database {(after['database'] - before['database']) / len(every) * 1000:.1f} ms "
              f"(this machine: {os.cpu_count()} CPUs for both and this client)")
    good = [v for v in every if v != float("inf")]
    print("goal: p99 <= 25 ms:", "met" if percentile(good, 0.99) <= 25 else "NOT met")


if __name__ == "__main__":
    main()
