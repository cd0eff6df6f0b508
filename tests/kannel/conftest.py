"""The ``kannel`` fixture: a real Kannel (bearerbox, smsbox, fakesmsc) for the session.

Skips, saying how to install it, when the Kannel programs are not on this machine.
Tests that need Kannel to call them start their own local HTTP server and pass its URL
as the app URL (``kannel_app`` below); the harness is then started for that URL.
"""
from __future__ import annotations

import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.kannel.harness import KannelHarness, require_kannel

SECRET = "kannel-test-secret-0123456789"


@dataclass
class Request:
    method: str
    path: str                  # without the query
    query: dict[str, str]      # decoded (UTF-8)
    headers: dict[str, str]
    body: bytes


@dataclass
class Recorder:
    """A tiny HTTP server standing in for the app: records every request, answers 200."""

    requests: list[Request] = field(default_factory=list)
    cond: threading.Condition = field(default_factory=threading.Condition)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server
        return f"http://127.0.0.1:{self.server.server_port}"

    def wait_for(self, predicate, timeout: float = 10) -> list[Request]:
        with self.cond:
            if not self.cond.wait_for(lambda: [r for r in self.requests if predicate(r)], timeout):
                raise AssertionError(f"no matching request to the app; got {self.requests}")
            return [r for r in self.requests if predicate(r)]


def _start_recorder() -> Recorder:
    recorder = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def _record(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path, _, query = self.path.partition("?")
            request = Request(self.command, path,
                              dict(urllib.parse.parse_qsl(query, keep_blank_values=True)),
                              dict(self.headers), body)
            with recorder.cond:
                recorder.requests.append(request)
                recorder.cond.notify_all()
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = _record

        def log_message(self, *args):
            pass

    recorder.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=recorder.server.serve_forever, daemon=True).start()
    return recorder


@pytest.fixture(scope="session")
def kannel_app():
    """The stand-in app Kannel calls (sms-service and delivery reports)."""
    recorder = _start_recorder()
    yield recorder
    recorder.server.shutdown()
    recorder.server.server_close()


@pytest.fixture(scope="session")
def kannel(kannel_app):
    """A running Kannel whose sms-service calls ``kannel_app``; shared by the session."""
    require_kannel()
    harness = KannelHarness(app_url=kannel_app.url, secret=SECRET).start()
    yield harness
    harness.stop()
