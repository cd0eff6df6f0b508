"""What the call simulator "records": the sound from the browser's microphone, or — when
the farmer's words are only typed — a quiet WAV of about the time they take to say,
kept as a ``Recording`` before the recording callback names it (``hotline.calls``
then files that very recording: the typed words are its transcript, and so the
question's text).

Only audio is taken, known by its content, never by the name or type the browser
gives: WebM with an audio track and no video (Chrome's and Edge's MediaRecorder), Ogg
(Firefox's), MP3 or WAV (``hotline.prompts.kind_of``). At most ``MAX_BYTES``. Files
live under the instance folder, ``instance/hotline/recordings/<32 hex>.<ext>``, with
random names, where ``hotline.recordings`` plays them to the experts.
"""
from __future__ import annotations

import io
import math
import os
import secrets
import wave
from pathlib import Path

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from hotline import prompts, recordings
from hotline.dev_relay import new_sid
from hotline.models import Call, Recording
from ruralinfo.extensions import db

MAX_BYTES = 5 * 1024 * 1024
FOLDER = recordings.FOLDER
CONTENT_TYPES = {**prompts.CONTENT_TYPES, "webm": "audio/webm"}
MAX_TRANSCRIPT = 1000
EBML = b"\x1a\x45\xdf\xa3"
WEBM_AUDIO = (b"A_OPUS", b"A_VORBIS")
WEBM_VIDEO = (b"V_VP8", b"V_VP9", b"V_AV1", b"V_MPEG4")
SAYING_RATE = 4  # characters a second, to guess how long typed words take to say
RATE = 8000  # the quiet WAV: 8 kHz, 8-bit mono


class RecordingRefused(ValueError):
    """The upload is not taken; ``str()`` says why, in the user's language."""


def kind_of(head: bytes) -> str | None:
    """``webm``, ``ogg``, ``mp3`` or ``wav`` when ``head`` (the file's first bytes) is audio."""
    if head[:4] == EBML:
        webm = b"webm" in head[:64] and any(codec in head for codec in WEBM_AUDIO)
        return "webm" if webm and not any(codec in head for codec in WEBM_VIDEO) else None
    return prompts.kind_of(head[:128])


def read_upload(file_storage) -> tuple[bytes, str] | None:
    """The uploaded sound and its kind; None when nothing was uploaded. Raises
    ``RecordingRefused`` for a file over ``MAX_BYTES`` or one that is not audio."""
    if file_storage is None or not getattr(file_storage, "filename", ""):
        return None
    data = file_storage.stream.read(MAX_BYTES + 1)
    if not data:
        return None
    if len(data) > MAX_BYTES:
        raise RecordingRefused(_("The recording is too large: %(mb)s MB at most.", mb=MAX_BYTES // (1024 * 1024)))
    kind = kind_of(data[:4096])
    if kind is None:
        raise RecordingRefused(_("This is not a sound recording (WebM, Ogg, MP3 or WAV)."))
    return data, kind


def seconds_for(text: str, measured: str | None, max_seconds: int) -> int:
    """How long the recording lasts: as the browser measured it, else the time the typed
    words take to say; at least one second, at most the ``<Record>``'s limit."""
    try:
        seconds = math.ceil(float(measured or ""))
    except (ValueError, OverflowError):  # nothing measured (or NaN, infinity): typed words
        seconds = math.ceil(len(text) / SAYING_RATE)
    return max(1, min(seconds, max(1, max_seconds)))


def take(*, call_sid: str, text: str, upload, measured: str | None, max_seconds: int) -> Recording | None:
    """What the caller "said": the uploaded sound and the typed words, kept as a Recording
    of call ``call_sid`` (None when there is neither). Raises ``RecordingRefused``."""
    words = " ".join((text or "").split())[:MAX_TRANSCRIPT]
    sound = read_upload(upload)
    if sound is None and not words:
        return None
    call_id = db.session.scalar(select(Call.id).where(Call.call_sid == call_sid))
    if call_id is None:
        raise RecordingRefused(_("This call has ended. Call again."))
    seconds = seconds_for(words, measured if sound is not None else None, max_seconds)
    return keep(sid=new_sid("RE"), call_id=call_id, text=words, sound=sound, seconds=seconds)


def keep(*, sid: str, call_id: int, text: str, sound: tuple[bytes, str] | None, seconds: int) -> Recording:
    """Save the sound (or a quiet WAV standing for the typed words) and its Recording,
    committed, ready for the recording callback to file."""
    data, kind = sound if sound is not None else (quiet_wav(seconds), "wav")
    name = f"{secrets.token_hex(16)}.{kind}"
    where = Path(current_app.instance_path).joinpath(*FOLDER)
    where.mkdir(parents=True, exist_ok=True)
    partial = where / f".{name}.part"
    partial.write_bytes(data)
    os.replace(partial, where / name)
    recording = Recording(sid=sid, file="/".join((*FOLDER, name)), content_type=CONTENT_TYPES[kind],
                          seconds=seconds, call_id=call_id, transcript=" ".join(text.split())[:MAX_TRANSCRIPT])
    db.session.add(recording)
    db.session.commit()
    return recording


def quiet_wav(seconds: int) -> bytes:
    """``seconds`` of silence as a WAV file any browser plays."""
    out = io.BytesIO()
    with wave.open(out, "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(1)
        sound.setframerate(RATE)
        sound.writeframes(b"\x80" * (RATE * seconds))
    return out.getvalue()
