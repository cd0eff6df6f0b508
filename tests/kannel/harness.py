"""A real Kannel for tests: bearerbox + smsbox + Kannel's own fake SMSC (``fakesmsc``).

``KannelHarness(app_url, secret).start()`` renders ``kannel.conf.template`` into a temporary
directory with free ports, starts the three programs and waits until the sendsms port answers.

fakesmsc (kannel-extras, ``/usr/lib/kannel/test/fakesmsc``) runs in its interactive mode: with
no messages on its command line it reads lines from stdin and sends each to bearerbox as a
text from a phone ("sender receiver type data"), and it logs every line bearerbox gives it
(the texts Kannel sends out) as ``Got message N: <sender receiver type data>`` on stderr.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

TEMPLATE = Path(__file__).with_name("kannel.conf.template")
BEARERBOX = shutil.which("bearerbox") or "/usr/sbin/bearerbox"
SMSBOX = shutil.which("smsbox") or "/usr/sbin/smsbox"
FAKESMSC = shutil.which("fakesmsc") or "/usr/lib/kannel/test/fakesmsc"
INSTALL_HINT = "Kannel is not installed: apt-get install kannel kannel-extras (.ci/run does)"

_GOT = re.compile(r"Got message \d+: <(.*)>\s*$")
_SENT = re.compile(r"fakesmsc: sent message (\d+)")


def missing_binaries() -> list[str]:
    return [p for p in (BEARERBOX, SMSBOX, FAKESMSC) if not os.access(p, os.X_OK)]


def require_kannel() -> None:
    """Skip the calling test, saying how to install Kannel, where its programs are missing.
    CI installs them (.ci/run), so there these tests always run."""
    import pytest

    missing = missing_binaries()
    if missing:
        pytest.skip(f"{INSTALL_HINT} (missing: {', '.join(missing)})")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class FakeMessage:
    """One text the fake SMSC received from Kannel (a text on its way to a phone)."""

    sender: str
    receiver: str
    type: str           # text | data | ucs2 | udh
    text: str           # decoded: UCS-2 and urlcoded data turned back into a str
    udh: bytes = b""    # the user data header of a concatenated part
    raw: str = ""       # the line as fakesmsc printed it


def parse_line(line: str) -> FakeMessage:
    """Parse a line as Kannel 1.4.5's smsc_fake writes it to fakesmsc.

    ``sender receiver text <text>`` for printable ASCII, ``sender receiver data <urlcoded>``
    for other 8-bit data, ``sender receiver ucs-2 <urlcoded UTF-16BE>`` for UCS-2, and
    ``sender receiver udh <urlcoded udh> <text|data|ucs-2> <data>`` for a concatenated part
    (whose UCS-2 parts are labelled ``data``).
    """
    sender, receiver, kind, rest = (line.split(" ", 3) + ["", "", "", ""])[:4]
    udh = b""
    if kind == "udh":
        udh_part, _, rest = rest.partition(" ")
        udh = _unquote(udh_part)
        kind, _, rest = rest.partition(" ")
        kind = "udh-" + kind
    if kind.endswith("text"):
        text = rest
    elif kind.endswith(("ucs-2", "ucs2")):
        text = _unquote(rest).decode("utf-16-be", "replace")
    else:
        text = _decode_data(_unquote(rest))
    return FakeMessage(sender, receiver, kind, text, udh, line)


def _unquote(data: str) -> bytes:
    # Kannel's octstr_url_encode writes a space (byte 0x20) as "+" and a real "+" as %2B.
    return urllib.parse.unquote_to_bytes(data.replace("+", " "))


def _decode_data(data: bytes) -> str:
    """8-bit data: UTF-8 when it reads as printable UTF-8, else UCS-2 (UTF-16BE)."""
    try:
        text = data.decode("utf-8")
        if text.isprintable():
            return text
    except UnicodeDecodeError:
        pass
    if len(data) % 2 == 0:
        try:
            return data.decode("utf-16-be")
        except UnicodeDecodeError:
            pass
    return data.decode("latin-1")


def join_parts(messages: list[FakeMessage]) -> list[FakeMessage]:
    """Concatenated parts (UDH 05 00 03 ref total seq) joined into whole texts, in order."""
    whole: list[FakeMessage] = []
    groups: dict[tuple, dict[int, FakeMessage]] = {}
    for message in messages:
        udh = message.udh
        if len(udh) >= 6 and udh[1] == 0x00:          # 8-bit reference
            key, total, seq = (message.sender, message.receiver, udh[3]), udh[4], udh[5]
        elif len(udh) >= 7 and udh[1] == 0x08:        # 16-bit reference
            key, total, seq = (message.sender, message.receiver, udh[3:5]), udh[5], udh[6]
        else:
            whole.append(message)
            continue
        parts = groups.setdefault(key, {})
        parts[seq] = message
        if len(parts) == total:
            ordered = [parts[i] for i in sorted(parts)]
            whole.append(FakeMessage(message.sender, message.receiver, message.type,
                                     "".join(p.text for p in ordered), b"",
                                     "\n".join(p.raw for p in ordered)))
            del groups[key]
    return whole


class KannelHarness:
    def __init__(self, app_url: str = "http://127.0.0.1:9", secret: str = "kannel-test-secret"):
        self.app_url = app_url.rstrip("/")
        self.secret = secret
        self.username = "ruralinfo"
        self.password = "sendsms-pass-42"
        self.admin_password = "admin-pass-42"
        self.ports = {name: free_port() for name in ("admin", "smsbox", "fakesmsc", "sendsms")}
        self.dir = Path(tempfile.mkdtemp(prefix="kannel-"))
        self.conf = self.dir / "kannel.conf"
        self._procs: list[subprocess.Popen] = []
        self._fake: subprocess.Popen | None = None
        self._received: list[FakeMessage] = []
        self._sent_in = 0            # lines fakesmsc has confirmed sending to bearerbox
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)

    # --- addresses -------------------------------------------------------------------------
    @property
    def send_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['sendsms']}/cgi-bin/sendsms"

    @property
    def status_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['admin']}/status.txt?password={self.admin_password}"

    # --- life --------------------------------------------------------------------------------
    def render(self) -> str:
        values = {
            "ADMIN_PORT": self.ports["admin"], "ADMIN_PASSWORD": self.admin_password,
            "SMSBOX_PORT": self.ports["smsbox"], "FAKESMSC_PORT": self.ports["fakesmsc"],
            "SENDSMS_PORT": self.ports["sendsms"], "USERNAME": self.username,
            "PASSWORD": self.password, "APP_URL": self.app_url, "SECRET": self.secret,
            "LOG_DIR": self.dir,
        }
        text = TEMPLATE.read_text()
        for key, value in values.items():
            text = text.replace("{" + key + "}", str(value))
        left = re.findall(r"\{[A-Z_]+\}", text)
        assert not left, f"unfilled placeholders in kannel.conf: {left}"
        return text

    def start(self, timeout: float = 20) -> "KannelHarness":
        self.conf.write_text(self.render())
        try:
            self._spawn("bearerbox", [BEARERBOX, "-v", "1", str(self.conf)])
            self._wait_port(self.ports["fakesmsc"], timeout)
            self._wait_port(self.ports["smsbox"], timeout)
            self._fake = self._spawn(
                "fakesmsc",
                [FAKESMSC, "-H", "127.0.0.1", "-r", str(self.ports["fakesmsc"]), "-i", "0", "-v", "0"],
                stdin=subprocess.PIPE, stderr=subprocess.PIPE,
            )
            threading.Thread(target=self._read_fake, daemon=True).start()
            self._spawn("smsbox", [SMSBOX, "-v", "1", str(self.conf)])
            self._wait_port(self.ports["sendsms"], timeout)
            self._wait_connected(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self._fake and self._fake.stdin:
            try:
                self._fake.stdin.close()
            except OSError:
                pass
        for proc in reversed(self._procs):
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in reversed(self._procs):
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._procs.clear()
        if not os.environ.get("KANNEL_KEEP_LOGS"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "KannelHarness":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- the fake SMSC -----------------------------------------------------------------------
    def received(self, joined: bool = False) -> list[FakeMessage]:
        """Every text the fake SMSC has received from Kannel so far, oldest first.

        One entry per SMS; ``joined=True`` puts concatenated parts back together.
        """
        with self._lock:
            messages = list(self._received)
        return join_parts(messages) if joined else messages

    def wait_received(self, count: int = 1, timeout: float = 10) -> list[FakeMessage]:
        """Wait until the fake SMSC has received at least ``count`` texts; return them all."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self._received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(
                        f"the fake SMSC received {len(self._received)} texts, expected {count}\n"
                        + self.logs())
                self._cond.wait(left)
            return list(self._received)

    def wait_for(self, predicate, timeout: float = 10, joined: bool = False) -> FakeMessage:
        """The first text the fake SMSC received that matches ``predicate`` (waits for it)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [m for m in (join_parts(self._received) if joined else self._received)
                         if predicate(m)]
                if found:
                    return found[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"the fake SMSC got no such text; it got {self._received}\n"
                                         + self.logs())
                self._cond.wait(left)

    def clear(self) -> None:
        with self._lock:
            self._received.clear()

    def send_in(self, sender: str, receiver: str, text: str) -> None:
        """A text from a phone: fakesmsc hands it to bearerbox, smsbox calls the sms-service.

        Plain ASCII goes as ``text``; anything else as ``ucs2`` (URL-encoded UTF-16BE), the way
        a phone sends Chinese. fakesmsc reads stdin in 256-byte lines, so a text is limited
        to about 40 Chinese characters.
        """
        if text.isascii() and text.isprintable():
            line = f"{sender} {receiver} text {text}\n"
        else:
            line = f"{sender} {receiver} ucs2 {urllib.parse.quote(text.encode('utf-16-be'), safe='')}\n"
        if len(line.encode()) >= 255:
            raise ValueError("fakesmsc reads at most 255 bytes a line; send a shorter text")
        assert self._fake and self._fake.stdin
        # fakesmsc select()s on stdin and then fgets() one line: a second line already in
        # its stdio buffer would wait for the next write. So: one line, then wait for
        # "sent message N" before the next.
        with self._cond:
            expected = self._sent_in + 1
            self._fake.stdin.write(line.encode())
            self._fake.stdin.flush()
            if not self._cond.wait_for(lambda: self._sent_in >= expected, timeout=10):
                raise AssertionError("fakesmsc did not send the text in\n" + self.logs())

    def stop_smsc(self) -> None:
        """The operator's end goes away: the fake SMSC stops (bearerbox then shows its link down)."""
        assert self._fake
        self._fake.kill()
        self._fake.wait()

    def logs(self) -> str:
        parts = []
        for name in ("bearerbox.log", "smsbox.log", "fakesmsc.log"):
            path = self.dir / name
            if path.exists():
                parts.append(f"--- {name} (tail)\n" + "\n".join(path.read_text(errors="replace").splitlines()[-40:]))
        return "\n".join(parts)

    # --- internals ---------------------------------------------------------------------------
    def _spawn(self, name: str, argv: list[str], stdin=subprocess.DEVNULL, stderr=None) -> subprocess.Popen:
        out = open(self.dir / f"{name}.out", "wb")
        proc = subprocess.Popen(argv, stdin=stdin, stdout=out,
                                stderr=stderr if stderr is not None else subprocess.STDOUT,
                                cwd=self.dir)
        self._procs.append(proc)
        return proc

    def _read_fake(self) -> None:
        assert self._fake and self._fake.stderr
        with open(self.dir / "fakesmsc.log", "ab") as log:
            for raw in self._fake.stderr:
                log.write(raw)
                log.flush()
                line = raw.decode("utf-8", "replace")
                match = _GOT.search(line)
                if match:
                    with self._cond:
                        self._received.append(parse_line(match.group(1)))
                        self._cond.notify_all()
                match = _SENT.search(line)
                if match:
                    with self._cond:
                        self._sent_in = int(match.group(1))
                        self._cond.notify_all()

    def _wait_port(self, port: int, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for proc in self._procs:
                if proc.poll() is not None:
                    raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}\n{self.logs()}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"Kannel did not open port {port} in {timeout}s\n{self.logs()}")

    def _wait_connected(self, timeout: float) -> None:
        """Until bearerbox reports the fake SMSC online and the smsbox connected."""
        deadline = time.monotonic() + timeout
        status = ""
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(self.status_url, timeout=2) as resp:
                    status = resp.read().decode("utf-8", "replace")
                smsc_online = re.search(r"FAKE:\d+ \(online", status)
                smsbox_connected = re.search(r"smsbox:.*\(on-line", status)
                if smsc_online and smsbox_connected:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"Kannel did not come up in {timeout}s\n{status}\n{self.logs()}")
