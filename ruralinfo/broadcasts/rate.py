"""The sending rate every worker shares: at most ``SMS_RATE`` texts a second per
gateway, however many workers send.

Each text takes the next free slot, a little over ``1/SMS_RATE`` seconds after the
previous one, and waits for it: slots are spaced evenly, so no window of one second
holds more than ``SMS_RATE`` of them, even with the few milliseconds a worker may
wake late. With Redis the slots are kept there (one clock, Redis's own, for every
worker); without it (the embedded setup, one process), in this process. A configured
Redis that cannot be reached is waited for — other workers may be sending, so this
process alone cannot know the rate is kept — and after ``REDIS_PATIENCE`` seconds the
sender gives up (``RateUnavailable``): its texts wait, none is lost.
"""
from __future__ import annotations

import logging
import threading
import time

from flask import current_app

from ruralinfo import jobs

# Takes the next slot: returns it and the time now, in microseconds of Redis's clock (one for all).
_TAKE = """
local now = redis.call('TIME')
local now_us = tonumber(now[1]) * 1000000 + tonumber(now[2])
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now_us, free)
redis.call('SET', KEYS[1], slot + tonumber(ARGV[1]), 'PX', 60000)
return {slot, now_us}
"""
log = logging.getLogger(__name__)
REDIS_PATIENCE = 60.0  # seconds a sender waits for a stopped Redis before it stops too
_local_lock = threading.Lock()
_local_free: dict[str, float] = {}


HEADROOM = 0.98  # slots a little wider than SMS_RATE allows: a worker woken a few ms late stays inside


def interval() -> float:
    """Seconds between two texts through one gateway."""
    return 1.0 / (float(current_app.config["SMS_RATE"]) * HEADROOM)


class RateUnavailable(RuntimeError):
    """Redis keeps the shared rate and cannot be reached: sending stops until it can."""


def wait_turn(gateway: str) -> float:
    """Block until this process may hand the next text to ``gateway``; returns the
    slot taken, in seconds of the clock that keeps the slots."""
    slot, now = take(gateway)
    if slot > now:
        time.sleep(slot - now)
    return slot


def take(gateway: str) -> tuple[float, float]:
    """The next free slot and the time now, in seconds (without waiting for the slot)."""
    spacing = interval()
    if current_app.config.get("REDIS_URL"):
        return _take_shared(gateway, spacing)
    with _local_lock:
        now = time.monotonic()
        slot = max(now, _local_free.get(gateway, 0.0))
        _local_free[gateway] = slot + spacing
    return slot, now


def _take_shared(gateway: str, spacing: float) -> tuple[float, float]:
    from redis.exceptions import RedisError

    gives_up, pause = time.monotonic() + REDIS_PATIENCE, 0.5
    while True:
        try:
            slot, now = jobs.redis_connection().eval(_TAKE, 1, f"ruralinfo:sms-rate:{gateway}",
                                                     int(spacing * 1_000_000))
            return slot / 1e6, now / 1e6
        except RedisError as err:
            if time.monotonic() + pause > gives_up:
                raise RateUnavailable(f"the shared rate is kept in Redis, which cannot be reached "
                                      f"({type(err).__name__})") from err
            log.warning("sending waits: Redis cannot be reached (%s)", type(err).__name__)
            time.sleep(pause)
            pause = min(pause * 2, 8.0)
