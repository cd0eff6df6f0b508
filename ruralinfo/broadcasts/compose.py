"""The bureau's compose form, read: the notice, its topic and kind, whom it is for
(regions picked from the tree, groups, points, roles, a typed or uploaded list of
phones) and whom to leave out, when, and the sign-up's answers. The result feeds
``services.create`` unchanged, so the web asks exactly what the API asks.

An uploaded list may be a text or CSV file in UTF-8 or in GB18030 (what Excel on
a Chinese Windows PC saves); its numbers join the typed ones, so that the form
keeps them through the preview. Every line that is no phone number is reported.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from werkzeug.datastructures import FileStorage, MultiDict

from ruralinfo.broadcasts import audience as audiences
from ruralinfo.timeutil import local_zone

MAX_UPLOAD = 2 * 1024 * 1024  # bytes: 100,000 numbers with commas fit
KINDS = ("regions", "groups", "points", "roles")


@dataclass
class Composed:
    """The form as the services want it, and what is wrong with it."""

    values: dict = field(default_factory=dict)  # services.check()'s keyword arguments
    urgent: bool = False
    audience: audiences.Audience | None = None
    errors: dict[str, str] = field(default_factory=dict)
    phones_text: dict[str, str] = field(default_factory=dict)  # "" and "x_": the lists to show again


def read(form: MultiDict, files: MultiDict | None = None) -> Composed:
    result = Composed()
    result.values = {
        "body": form.get("body", ""), "body_en": form.get("body_en", ""), "topic": form.get("topic", ""),
        "reply_options": _lines(form.get("reply_options", "")),
        "free_reply": form.get("free_reply") == "1",
        "send_at": _local_time(form.get("send_at", ""), "send_at", result.errors),
        "replies_close_at": _local_time(form.get("replies_close_at", ""), "replies_close_at", result.errors),
    }
    result.urgent = form.get("urgent") == "1"
    sides = {}
    for side in ("", "x_"):
        typed = form.get(side + "phones", "")
        upload = (files or MultiDict()).get(side + "phones_file")
        added = _uploaded(upload, side, result.errors)
        text = "\n".join(part for part in (typed.strip(), added.strip()) if part)
        result.phones_text[side] = text
        phones, bad = audiences.parse_phones(text)
        if bad:
            result.errors[side + "phones"] = str(_l("These are not phone numbers (line: text): %(lines)s",
                                                    lines="; ".join(f"{n}: {item}" for n, item in bad[:20])))
        points, wrong = _numbers(form.getlist(side + "points"))
        if wrong:
            result.errors[side + "points"] = str(_l("No such liaison point: %(ids)s", ids=", ".join(wrong)))
        sides[side] = audiences.Rules(regions=form.getlist(side + "regions"), groups=form.getlist(side + "groups"),
                                      points=points, roles=form.getlist(side + "roles"), phones=phones)
    try:
        result.audience = audiences.clean(sides[""], sides["x_"])
    except audiences.AudienceError as err:
        result.errors.update(err.errors)
    return result


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def _numbers(values: list[str]) -> tuple[list[int], list[str]]:
    good, bad = [], []
    for value in values:
        (good.append(int(value)) if value.strip().isdigit() else bad.append(value[:20]))
    return good, bad


def _local_time(text: str, name: str, errors: dict[str, str]) -> datetime | None:
    """A ``datetime-local`` field (the bureau's local time) as aware time, or None when empty."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        return datetime.fromisoformat(text).replace(tzinfo=local_zone())
    except ValueError:
        errors[name] = str(_l("Give a date and time, e.g. 2026-12-10 08:00."))
        return None


def _uploaded(upload: FileStorage | None, side: str, errors: dict[str, str]) -> str:
    if upload is None or not upload.filename:
        return ""
    data = upload.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        errors[side + "phones"] = str(_l("The file is too large: at most %(n)s MB.", n=MAX_UPLOAD // (1024 * 1024)))
        return ""
    if data.startswith(b"PK"):
        errors[side + "phones"] = str(_l("Save the list as a CSV or text file (one number a line) and upload that."))
        return ""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    errors[side + "phones"] = str(_l("The file is not text: upload a CSV or text file, one number a line."))
    return ""
