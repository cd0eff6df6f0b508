"""The sending rate every worker shares: at most ``SMS_RATE`` texts a second per
gateway, however many workers send.

Each text takes the next free slot, a little over ``1/SMS_RATE`` seconds after the
previous one, and waits for it: slots are spaced evenly, so no window of one second
holds more than ``SMS_RATE`` of them, even with the few milliseconds a worker may
wake late. With Redis the slots are kept there (one clock, Redis's
own, for every worker); without it, in this process.
"""
from __future__ import annotations

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
_local_lock = threading.Lock()
_local_free: dict[str, float] = {}


HEADROOM = 0.98  # slots a little wider than SMS_RATE allows: a worker woken a few ms late stays inside


def interval() -> float:
    """Seconds between two texts through one gateway."""
    return 1.0 / (float(current_app.config["SMS_RATE"]) * HEADROOM)


def wait_turn(gateway: str) -> float:
    """Block until this process may hand the next text to ``gateway``; returns the
    slot taken, in seconds of the clock that keeps the slots. A Redis that cannot be
    reached falls back to this process's own spacing (slower overall, never faster)."""
    slot, now = take(gateway)
    if slot > now:
        time.sleep(slot - now)
    return slot


def take(gateway: str) -> tuple[float, float]:
    """The next free slot and the time now, in seconds (without waiting)."""
    spacing = interval()
    if current_app.config.get("REDIS_URL"):
        from redis.exceptions import RedisError

        try:
            slot, now = jobs.redis_connection().eval(_TAKE, 1, f"ruralinfo:sms-rate:{gateway}",
                                                     int(spacing * 1_000_000))
            return slot / 1e6, now / 1e6
        except RedisError:
            pass
    with _local_lock:
        now = time.monotonic()
        slot = max(now, _local_free.get(gateway, 0.0))
        _local_free[gateway] = slot + spacing
    return slot, now
