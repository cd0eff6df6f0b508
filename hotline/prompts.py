"""Recorded prompts: an audio file an administrator uploads for a menu node, played to
callers instead of its spoken prompt (or, for an information node, instead of its text).

Only audio is taken, known by its content, never by its name: MP3 (an ID3 tag or an
MPEG audio frame header), WAV (RIFF/WAVE) and Ogg (Vorbis, Opus, Speex or FLAC inside).
Twilio's ``<Play>`` plays MP3 and WAV but not Ogg: an Ogg prompt is kept for drivers
that play it (``twilio_plays`` tells the Twilio driver to say the prompt instead).
At most ``MAX_BYTES``.

Files live under the instance folder, ``instance/hotline/prompts/<32 hex>.<ext>``: the
name is random (nothing an uploader chose reaches the file system) and a name is never
reused, so a file never changes and may be cached for long. A file is removed only when
no version of the menu names it any more (``hotline.editor`` prunes after a draft's
change): a retired version may be restored, so its recordings are kept with it.
"""
from __future__ import annotations

import os
import re
import secrets
from pathlib import Path

from flask import current_app
from flask_babel import lazy_gettext as _l

MAX_BYTES = 5 * 1024 * 1024
CONTENT_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav", "ogg": "audio/ogg"}
TWILIO_PLAYS = ("mp3", "wav")
NAME = re.compile(r"[0-9a-f]{32}\.(?:mp3|wav|ogg)")
OGG_CODECS = (b"\x01vorbis", b"OpusHead", b"Speex   ", b"\x7fFLAC")


class PromptRefused(ValueError):
    """The upload is not taken; ``str()`` says why, in the user's language."""


def kind_of(head: bytes) -> str | None:
    """``mp3``, ``wav`` or ``ogg`` when ``head`` (the file's first bytes) is audio of that
    kind, else None."""
    if head[:3] == b"ID3" and len(head) >= 10 and head[3] in (2, 3, 4):
        return "mp3"
    if _mpeg_frame(head[:4]):
        return "mp3"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"OggS" and any(codec in head[:80] for codec in OGG_CODECS):
        return "ogg"
    return None


def _mpeg_frame(header: bytes) -> bool:
    """An MPEG audio frame header: 11 sync bits, then no reserved version, layer,
    bitrate or sample rate."""
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return False
    version, layer = (header[1] >> 3) & 3, (header[1] >> 1) & 3
    bitrate, rate = header[2] >> 4, (header[2] >> 2) & 3
    return version != 1 and layer != 0 and bitrate != 15 and rate != 3


def folder() -> Path:
    return Path(current_app.instance_path) / "hotline" / "prompts"


def save(file_storage) -> str:
    """Keep an uploaded recording; its new name. Raises ``PromptRefused`` for no file, a
    file that is not MP3, WAV or Ogg audio, or one over ``MAX_BYTES``."""
    if file_storage is None or not getattr(file_storage, "filename", ""):
        raise PromptRefused(_l("Choose a recording to upload."))
    data = file_storage.stream.read(MAX_BYTES + 1)
    if not data:
        raise PromptRefused(_l("The file is empty."))
    if len(data) > MAX_BYTES:
        raise PromptRefused(too_large())
    kind = kind_of(data[:128])
    if kind is None:
        raise PromptRefused(_l("This file is not a recording: upload an MP3 or WAV file (or Ogg)."))
    name = f"{secrets.token_hex(16)}.{kind}"
    where = folder()
    where.mkdir(parents=True, exist_ok=True)
    partial = where / f".{name}.part"
    partial.write_bytes(data)
    os.replace(partial, where / name)  # whole or not at all: Twilio never fetches half a file
    return name


def too_large() -> str:
    return str(_l("The recording is too large: %(mb)s MB at most. Shorten it or save it as MP3.",
                  mb=MAX_BYTES // (1024 * 1024)))


def valid(name: str) -> bool:
    return bool(name) and NAME.fullmatch(name) is not None


def path(name: str) -> Path:
    """Where recording ``name`` is kept. Raises ``LookupError`` for a name that is not one
    of ours (no path tricks get past the pattern) or a file that is gone."""
    if not valid(name):
        raise LookupError(name)
    found = folder() / name
    if not found.is_file():
        raise LookupError(name)
    return found


def content_type(name: str) -> str:
    return CONTENT_TYPES[name.rsplit(".", 1)[-1]]


def twilio_plays(name: str) -> bool:
    """Whether Twilio's ``<Play>`` can play it (MP3 and WAV; not Ogg)."""
    return valid(name) and name.rsplit(".", 1)[-1] in TWILIO_PLAYS


def remove(name: str) -> None:
    """Delete recording ``name`` if it is there (the caller knows no version names it)."""
    if valid(name):
        (folder() / name).unlink(missing_ok=True)
