"""What the benchmarks share: a fresh PostgreSQL database of their own, the app under
gunicorn, and an open-loop client."""
from __future__ import annotations

import http.client
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent


def recreate_database(url: str) -> None:
    """Drop and create the database named at the end of ``url`` (never a test database)."""
    base, name = url.rsplit("/", 1)
    engine = create_engine(base.replace("postgresql://", "postgresql+psycopg://") + "/postgres",
                           isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()


def start_gunicorn(env: dict, port: int) -> subprocess.Popen:
    """The app under gunicorn with 4 workers on 127.0.0.1:``port``, with ``env``; returns
    once the port answers."""
    process = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "4", "-b", f"127.0.0.1:{port}",
                                "--log-level", "warning", "wsgi:app"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL)  # gunicorn.conf.py's access log
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("gunicorn did not start")


def open_loop(port: int, requests: list[tuple[str, bytes, dict]], rate: float) -> tuple[list[float], int]:
    """POST each (path, body, headers) at a steady ``rate`` a second, on time even when
    earlier ones are slow (so that queueing shows), from 32 threads with a connection
    each. Returns every latency in ms, counted from when the request was due (a failed
    one is inf), and how many failed."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    local = threading.local()
    start = time.perf_counter() + 0.5

    def send(index: int) -> None:
        path, body, headers = requests[index]
        due = start + index / rate
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            local.conn.request("POST", path, body=body, headers=headers)
            response = local.conn.getresponse()
            response.read()
            ok = response.status == 200
        except OSError:
            local.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            ok = False
        elapsed = (time.perf_counter() - due) * 1000  # from when it was due: includes any client lag
        with lock:
            latencies.append(elapsed if ok else float("inf"))
            errors[0] += 0 if ok else 1

    with ThreadPoolExecutor(max_workers=32) as pool:
        list(pool.map(send, range(len(requests))))
    return latencies, errors[0]
