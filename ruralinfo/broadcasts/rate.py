"""The sending rate every worker shares: at most ``SMS_RATE`` texts a second per
gateway, however many workers send.

A text may go when the gateway's previous text went at least ``interval()`` before
(a little over ``1/SMS_RATE`` seconds), and that is checked and recorded in one step
at the moment it goes — never booked ahead: senders held up together (a slow
database, Redis back after a restart) find the last text recent and wait their turn,
instead of all going at once on turns booked before the stall. So no window of one
second holds more than ``SMS_RATE`` of them. With Redis the last text's time is kept
there (one clock, Redis's own, for every worker); without it (the embedded setup, one
process), in this process. A configured Redis that cannot be reached is waited for —
other workers may be sending, so this process alone cannot know the rate is kept —
and after ``REDIS_PATIENCE`` seconds the sender gives up (``RateUnavailable``): its
texts wait, none is lost.
"""
from __future__ import annotations

import logging
import threading
import time

from flask import current_app

from ruralinfo import jobs

# The text may go now (1, now) if the last went at least ARGV[1] microseconds ago, recorded as
# going now; else (0, microseconds to wait). Redis's clock, one for all.
_TAKE = """
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local gap = tonumber(ARGV[1])
if now_us - last >= gap then
  redis.call('SET', KEYS[1], now_us, 'PX', 60000)
  return {1, now_us}
end
return {0, last + gap - now_us}
"""
log = logging.getLogger(__name__)
REDIS_PATIENCE = 60.0  # seconds a sender waits for a stopped Redis before it stops too
_local_lock = threading.Lock()
_local_last: dict[str, float] = {}


HEADROOM = 0.98  # slots a little wider than SMS_RATE allows: a worker woken a few ms late stays inside


def interval() -> float:
    """Seconds between two texts through one gateway."""
    return 1.0 / (float(current_app.config["SMS_RATE"]) * HEADROOM)


class RateUnavailable(RuntimeError):
    """Redis keeps the shared rate and cannot be reached: sending stops until it can."""


def wait_turn(gateway: str) -> float:
    """Block until this process may hand the next text to ``gateway``; returns when it
    went, in seconds of the clock that keeps the rate."""
    while True:
        went, wait = take(gateway)
        if went:
            return wait
        time.sleep(wait)


def take(gateway: str) -> tuple[bool, float]:
    """(True, the time now) when a text may go now — recorded as gone — else (False,
    seconds to wait before asking again)."""
    spacing = interval()
    if current_app.config.get("REDIS_URL"):
        return _take_shared(gateway, spacing)
    with _local_lock:
        now = time.monotonic()
        last = _local_last.get(gateway)
        if last is None or now - last >= spacing:
            _local_last[gateway] = now
            return True, now
    return False, last + spacing - now


def _take_shared(gateway: str, spacing: float) -> tuple[bool, float]:
    from redis.exceptions import RedisError

    gives_up, pause = time.monotonic() + REDIS_PATIENCE, 0.5
    while True:
        try:
            went, value = jobs.redis_connection().eval(_TAKE, 1, f"ruralinfo:sms-rate:{gateway}",
                                                       max(1, int(spacing * 1_000_000)))
            return bool(went), value / 1e6
        except RedisError as err:
            if time.monotonic() + pause > gives_up:
                raise RateUnavailable(f"the shared rate is kept in Redis, which cannot be reached "
                                      f"({type(err).__name__})") from err
            log.warning("sending waits: Redis cannot be reached (%s)", type(err).__name__)
            time.sleep(pause)
            pause = min(pause * 2, 8.0)
