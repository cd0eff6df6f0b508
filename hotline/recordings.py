"""Recordings heard through the app: a question recorded on the hotline, or a reply a
farmer spoke to a letter. The browser only ever sees ``/hotline/recordings/<id>``;
a Twilio recording is fetched here, server-side, with the account's credentials.

Who may hear one: the console's people (experts, administrators, bureau staff) a
question's; the sender and the recipient of a letter that carries it (for a liaison
point, its liaisons). Anyone else is told there is no such recording.
"""
from __future__ import annotations

import base64
import re
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from hotline.models import Question, Recording
from hotline.queue import VIEWERS
from mailbox.models import Letter
from ruralinfo.accounts import roles
from ruralinfo.accounts.models import User
from ruralinfo.extensions import db

TWILIO_API = "https://api.twilio.com"
# What Twilio's RecordingUrl looks like (after its host): the account's recording, MP3 when asked with .mp3.
RECORDING_PATH = re.compile(r"^/2010-04-01/Accounts/AC[0-9A-Za-z]+/Recordings/RE[0-9A-Za-z]+(?:\.(?:mp3|wav))?$")
TIMEOUT = 15.0  # seconds to wait for Twilio
CHUNK = 64 * 1024


class Unavailable(Exception):
    """The recording cannot be played now (``status``: 404 when it is gone, 502 when Twilio failed)."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status


@dataclass
class Audio:
    chunks: Iterator[bytes]
    content_type: str
    length: int | None


def _party(letter: Letter, user: User) -> bool:
    if user.id in (letter.sender_id, letter.recipient_id):
        return True
    points = {letter.sender_point_id, letter.recipient_point_id} - {None}
    return bool(points) and user.has_role(roles.LIAISON) and user.liaison_point_id in points


def audible(recording_id: int, user: User) -> Recording | None:
    """The recording, if ``user`` may hear it; None otherwise (and when there is none)."""
    recording = db.session.get(Recording, recording_id)
    if recording is None:
        return None
    if user.has_role(*VIEWERS) and db.session.scalar(
            select(Question.id).where(Question.recording_id == recording_id).limit(1)) is not None:
        return recording
    letters = db.session.scalars(select(Letter).where(Letter.recording_id == recording_id)).all()
    return recording if any(_party(letter, user) for letter in letters) else None


# --- where the sound is ---------------------------------------------------------------------

FOLDER = ("hotline", "recordings")  # recordings kept here, under the instance folder (nothing else is served)


def local_path(recording: Recording) -> Path | None:
    """A recording kept here: its file, which must be in the recordings folder (never the
    database, the configuration or anything else under the instance folder)."""
    if not recording.file:
        return None
    root = Path(current_app.instance_path).joinpath(*FOLDER).resolve()
    path = (Path(current_app.instance_path) / recording.file).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


def media_url(url: str) -> str | None:
    """Where to fetch a Twilio RecordingUrl as MP3 (``TWILIO_API_BASE`` in tests); None
    for a URL that is not a recording of Twilio's API (credentials go nowhere else)."""
    base = (current_app.config.get("TWILIO_API_BASE") or TWILIO_API).rstrip("/")
    for prefix in (TWILIO_API, base):
        if url.startswith(prefix + "/"):
            path = urlsplit(url[len(prefix):]).path
            break
    else:
        return None
    if not RECORDING_PATH.match(path):
        return None
    return base + (path if path.endswith((".mp3", ".wav")) else path + ".mp3")


class _SameHostAuth(urllib.request.HTTPRedirectHandler):
    """Follow Twilio's redirect to the media store without our credentials (they are
    for Twilio's API only; the store's link is signed)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None and urlsplit(newurl).netloc != urlsplit(req.full_url).netloc:
            new.remove_header("Authorization")
        return new


def _fetch(url: str) -> Audio:
    config = current_app.config
    account, token = config.get("TWILIO_ACCOUNT_SID") or "", config.get("TWILIO_AUTH_TOKEN") or ""
    if not (account and token):
        raise Unavailable(502, "TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are not set")
    credentials = base64.b64encode(f"{account}:{token}".encode()).decode()
    request = urllib.request.Request(url, headers={"Authorization": f"Basic {credentials}", "Accept": "audio/*"})
    opener = urllib.request.build_opener(_SameHostAuth)
    try:
        answer = opener.open(request, timeout=TIMEOUT)
    except urllib.error.HTTPError as err:
        err.close()
        raise Unavailable(404 if err.code in (404, 410) else 502, f"Twilio answered {err.code}") from err
    except (urllib.error.URLError, OSError, ValueError) as err:
        raise Unavailable(502, f"Twilio could not be reached: {type(err).__name__}") from err
    kind = answer.headers.get_content_type()
    length = answer.headers.get("Content-Length")
    return Audio(_chunks(answer), kind if kind.startswith("audio/") else "audio/mpeg",
                 int(length) if length and length.isdigit() else None)


def _chunks(answer) -> Iterator[bytes]:
    try:
        while chunk := answer.read(CHUNK):
            yield chunk
    finally:
        answer.close()


def twilio_audio(recording: Recording) -> Audio:
    """The sound of a recording Twilio keeps, fetched with the account's credentials."""
    url = media_url(recording.url or "")
    if url is None:
        raise Unavailable(404, "not a Twilio recording URL")
    return _fetch(url)
