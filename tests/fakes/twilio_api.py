"""A local fake of Twilio's REST API for Messages, driven by the real twilio client.

Served on 127.0.0.1 (a free port, a thread) it answers what the client sends:

    POST /2010-04-01/Accounts/{sid}/Messages.json        create (201, status queued/accepted)
    GET  /2010-04-01/Accounts/{sid}/Messages.json        list, newest first (To, From, paging)
    GET  /2010-04-01/Accounts/{sid}/Messages/{SM…}.json  fetch
    POST /2010-04-01/Accounts/{sid}/Calls.json           create a call (201, status queued; see "Calls")
    GET  /2010-04-01/Accounts/{sid}/Recordings/{RE…}.mp3 a recording's sound (see "Recordings")
    GET  /2010-04-01/Accounts/{sid}.json                 the account (``account_status``, ``account_type``)

with HTTP basic auth checked against the account. Every created message is kept
in ``messages`` (Twilio's JSON plus ``status_callback``). The next create can be
made to fail (``fail_next``), be throttled (``throttle_next``), hang after the
message was recorded (``hang_next``: it went out, the answer never came), and
the server can ``stop`` (connections refused) and ``start`` again on its port.
"""
from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlencode

from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

API = "/2010-04-01/Accounts/{account}/Messages"
MESSAGES = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Messages(?:/(?P<sid>SM\w+))?\.json$")
CALLS = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Calls\.json$")
RECORDINGS = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)/Recordings/(?P<sid>RE\w+)\.(?:mp3|wav)$")
ACCOUNT = re.compile(r"^/2010-04-01/Accounts/(?P<account>AC\w+)\.json$")
MEDIA = re.compile(r"^/media/(?P<sid>RE\w+)\.(?:mp3|wav)$")  # the recordings' media store

# The client's time-out (SMS_SEND_TIMEOUT) for tests against this fake. The fake answers from a
# thread of the tests' own process, so any pause of that process (a garbage collection, a busy
# machine) delays its answers too: in one CI run half a second was not enough for a plain create.
# No answer comes near two seconds, and ``hang_next`` waits far longer than that.
CLIENT_TIMEOUT = 2.0
HANG = 10.0


class _QuietHandler(WSGIRequestHandler):
    def log(self, type, message, *args):  # noqa: A002 - werkzeug's signature
        pass


def _rfc2822(moment: datetime) -> str:
    return format_datetime(moment.replace(microsecond=0), usegmt=False).replace("-0000", "+0000")


def _error(status: int, code: int, message: str) -> Response:
    body = {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}
    return Response(json.dumps(body), status=status, mimetype="application/json")


class FakeTwilio:
    """The fake API; ``url`` is what TWILIO_API_BASE should be."""

    def __init__(self, account_sid: str, auth_token: str):
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messages: list[dict] = []
        self.calls: list[dict] = []                  # created calls (Twilio's JSON plus url, status_callback)
        self.recordings: dict[str, bytes] = {}       # RE… → the sound (see "Recordings")
        self.requests: list[tuple[str, str]] = []   # (method, path) of every request received
        self.on_create = None                        # called with the record before answering
        self.account_status = "active"               # or "suspended", "closed" (what fetching the account says)
        self.account_type = "Full"                   # or "Trial"
        self._faults: list[tuple] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._server = None
        self.port = 0

    # --- control -----------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeTwilio:
        self._release.clear()
        self._server = make_server("127.0.0.1", self.port, self.wsgi, threaded=True,
                                   request_handler=_QuietHandler)
        self.port = self._server.server_port
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()
        return self

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        """Close the port: from now on connections are refused."""
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def fail_next(self, status: int = 400, code: int = 21211, message: str | None = None) -> None:
        """The next create is refused with Twilio's error JSON (default: invalid To)."""
        self._faults.append(("fail", status, code, message))

    def throttle_next(self, times: int = 1) -> None:
        """The next ``times`` creates get 429 Too Many Requests (code 20429), nothing created."""
        self._faults.extend([("fail", 429, 20429, "Too Many Requests")] * times)

    def hang_next(self, seconds: float = HANG) -> None:
        """The next create is recorded, then the answer waits ``seconds`` (longer than the client's timeout)."""
        self._faults.append(("hang", seconds))

    def set_status(self, sid: str, status: str) -> None:
        self._find(sid)["status"] = status

    def _find(self, sid: str) -> dict | None:
        return next((m for m in self.messages if m["sid"] == sid), None)

    # --- the API -----------------------------------------------------------------------

    @Request.application
    def wsgi(self, request: Request) -> Response:
        self.requests.append((request.method, request.path))
        if CALLS.match(request.path):
            return self._calls(request, CALLS.match(request.path)["account"])
        if RECORDINGS.match(request.path) or MEDIA.match(request.path):
            return self._recording(request)
        if ACCOUNT.match(request.path):
            return self._account(request, ACCOUNT.match(request.path)["account"])
        match = MESSAGES.match(request.path)
        if match is None:
            return _error(404, 20404, "The requested resource was not found")
        if not self._authorized(request, match["account"]):
            return _error(401, 20003, "Authenticate")
        if request.method == "POST" and match["sid"] is None:
            return self._create(request)
        if request.method == "GET" and match["sid"] is None:
            return self._list(request)
        if request.method == "GET":
            found = self._find(match["sid"])
            return self._json(found) if found else _error(404, 20404, "The requested resource was not found")
        return _error(405, 20004, "Method not allowed")

    def _authorized(self, request: Request, account: str) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return account == self.account_sid and request.headers.get("Authorization") == f"Basic {expected}"

    def _create(self, request: Request) -> Response:
        form = request.form
        with self._lock:
            fault = self._faults.pop(0) if self._faults else None
        if fault and fault[0] == "fail":
            _, status, code, message = fault
            return _error(status, code, message or f"The 'To' number {form.get('To', '')} is not a valid phone number.")
        if not form.get("To"):
            return _error(400, 21604, "A 'To' phone number is required.")
        if not form.get("Body"):
            return _error(400, 21602, "Message body is required.")
        if not (form.get("From") or form.get("MessagingServiceSid")):
            return _error(400, 21603, "A 'From' phone number is required.")
        record = self._record(form)
        if self.on_create is not None:
            self.on_create(record)
        if fault and fault[0] == "hang":
            self._release.wait(fault[1])
        return self._json(record, status=201)

    def _record(self, form) -> dict:
        now = _rfc2822(datetime.now(UTC))
        sid = "SM" + uuid.uuid4().hex
        service = form.get("MessagingServiceSid")
        record = {
            "account_sid": self.account_sid, "api_version": "2010-04-01", "body": form["Body"],
            "date_created": now, "date_updated": now, "date_sent": None, "direction": "outbound-api",
            "error_code": None, "error_message": None, "from": form.get("From") or None,
            "messaging_service_sid": service, "num_media": "0", "num_segments": "1", "price": None,
            "price_unit": "USD", "sid": sid, "status": "accepted" if service else "queued", "to": form["To"],
            "uri": f"{API.format(account=self.account_sid)}/{sid}.json",
            "subresource_uris": {"media": f"{API.format(account=self.account_sid)}/{sid}/Media.json"},
            "status_callback": form.get("StatusCallback"),
        }
        with self._lock:
            self.messages.append(record)
        return record

    def _list(self, request: Request) -> Response:
        args = request.args
        found = [m for m in reversed(self.messages)
                 if (not args.get("To") or m["to"] == args["To"])
                 and (not args.get("From") or m["from"] == args["From"])]
        size, page = int(args.get("PageSize", 50)), int(args.get("Page", 0))
        base = API.format(account=self.account_sid) + ".json"
        query = {k: v for k, v in args.items() if k in ("To", "From")}

        def page_uri(number: int) -> str:
            return f"{base}?{urlencode({**query, 'PageSize': size, 'Page': number})}"

        chunk = found[page * size:(page + 1) * size]
        payload = {
            "messages": [self._public(m) for m in chunk], "page": page, "page_size": size,
            "start": page * size, "end": page * size + max(len(chunk) - 1, 0),
            "uri": page_uri(page), "first_page_uri": page_uri(0),
            "previous_page_uri": page_uri(page - 1) if page else None,
            "next_page_uri": page_uri(page + 1) if (page + 1) * size < len(found) else None,
        }
        return Response(json.dumps(payload), mimetype="application/json")

    def _public(self, record: dict) -> dict:
        return {k: v for k, v in record.items() if k != "status_callback"}

    def _json(self, record: dict, status: int = 200) -> Response:
        return Response(json.dumps(self._public(record)), status=status, mimetype="application/json")

    # --- Calls (the expert's call-back) ------------------------------------------------
    # Only create: what the call-back needs. fail_next / hang_next apply to the next
    # create, call or message alike.

    def _calls(self, request: Request, account: str) -> Response:
        if not self._authorized(request, account):
            return _error(401, 20003, "Authenticate")
        if request.method != "POST":
            return _error(405, 20004, "Method not allowed")
        form = request.form
        with self._lock:
            fault = self._faults.pop(0) if self._faults else None
        if fault and fault[0] == "fail":
            _, status, code, message = fault
            return _error(status, code, message or f"The 'To' number {form.get('To', '')} is not a valid phone number.")
        for name, code, message in (("To", 21201, "No 'To' number is specified"),
                                    ("From", 21213, "No 'From' number is specified")):
            if not form.get(name):
                return _error(400, code, message)
        if not (form.get("Url") or form.get("Twiml")):
            return _error(400, 21205, "Url parameter is required")
        record = self._call_record(form)
        if fault and fault[0] == "hang":
            self._release.wait(fault[1])
        return Response(json.dumps({k: v for k, v in record.items() if k not in ("url", "status_callback")}),
                        status=201, mimetype="application/json")

    def _call_record(self, form) -> dict:
        now = _rfc2822(datetime.now(UTC))
        sid = "CA" + uuid.uuid4().hex
        base = f"/2010-04-01/Accounts/{self.account_sid}/Calls/{sid}"
        record = {
            "account_sid": self.account_sid, "annotation": None, "answered_by": None, "api_version": "2010-04-01",
            "caller_name": None, "date_created": now, "date_updated": now, "direction": "outbound-api",
            "duration": None, "end_time": None, "forwarded_from": None, "from": form["From"],
            "from_formatted": form["From"], "group_sid": None, "parent_call_sid": None, "phone_number_sid": None,
            "price": None, "price_unit": "USD", "sid": sid, "start_time": None, "status": "queued",
            "subresource_uris": {"recordings": f"{base}/Recordings.json"}, "to": form["To"],
            "to_formatted": form["To"], "trunk_sid": None, "uri": f"{base}.json", "queue_time": "0",
            "url": form.get("Url"), "status_callback": form.get("StatusCallback"),
        }
        with self._lock:
            self.calls.append(record)
        return record

    # --- Recordings (the expert console plays them through the app) ----------------------
    # Like Twilio, GET …/Recordings/{RE…}.mp3 with basic auth answers with a redirect to
    # the media store (here /media/{RE…}.mp3 on "localhost", another host), whose signed
    # link refuses a request that also carries an Authorization header.

    def add_recording(self, data: bytes, sid: str | None = None) -> str:
        """Keep a recording; returns its RecordingUrl as Twilio sends it (no extension)."""
        sid = sid or "RE" + uuid.uuid4().hex
        self.recordings[sid] = data
        return f"{self.url}/2010-04-01/Accounts/{self.account_sid}/Recordings/{sid}"

    def _recording(self, request: Request) -> Response:
        if request.method != "GET":
            return _error(405, 20004, "Method not allowed")
        media = MEDIA.match(request.path)
        if media is not None:
            if "Authorization" in request.headers or request.args.get("Signature") != media["sid"][::-1]:
                return _error(400, 20001, "Only one auth mechanism allowed")
            data = self.recordings.get(media["sid"])
            return Response(data, mimetype="audio/mpeg") if data is not None else _error(404, 20404, "Not found")
        match = RECORDINGS.match(request.path)
        if not self._authorized(request, match["account"]):
            return _error(401, 20003, "Authenticate")
        if match["sid"] not in self.recordings:
            return _error(404, 20404, "The requested resource was not found")
        location = f"http://localhost:{self.port}/media/{match['sid']}.mp3?Signature={match['sid'][::-1]}"
        return Response("", status=302, headers={"Location": location})

    # --- the Account (``doctor`` fetches it) ---------------------------------------------

    def _account(self, request: Request, account: str) -> Response:
        if not self._authorized(request, account):
            return _error(401, 20003, "Authenticate")
        if request.method != "GET":
            return _error(405, 20004, "Method not allowed")
        now = _rfc2822(datetime.now(UTC))
        base = f"/2010-04-01/Accounts/{self.account_sid}"
        body = {"auth_token": self.auth_token, "date_created": now, "date_updated": now,
                "friendly_name": "ruralinfo test account", "owner_account_sid": self.account_sid,
                "sid": self.account_sid, "status": self.account_status, "type": self.account_type,
                "subresource_uris": {"messages": f"{base}/Messages.json", "calls": f"{base}/Calls.json"},
                "uri": f"{base}.json"}
        return Response(json.dumps(body), mimetype="application/json")
