"""What a recipient of a broadcast reads: the notice in their language (Chinese when
there is no English), the sign-up's how-to-answer line, and ``{name}`` and
``{village}`` filled in for them.

Options of a sign-up may carry both languages as ``报名|sign up``: a Chinese reader
sees 报名, an English reader "sign up"; an option without ``|`` reads the same to both.
"""
from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _

PLACEHOLDERS = ("{name}", "{village}")


def language_of(broadcast, language: str) -> str:
    """The language the recipient actually reads: English only when there is English."""
    return "en" if language == "en" and broadcast.body_en else "zh"


def option_label(option: str, language: str) -> str:
    zh, _bar, en = option.partition("|")
    return (en.strip() or zh.strip()) if language == "en" else zh.strip()


def reply_hint(broadcast, language: str) -> str:
    """How to answer a sign-up, in ``language`` ("" when the broadcast asks nothing)."""
    with force_locale(language):
        if broadcast.reply_options:
            choices = [(number, option_label(option, language))
                       for number, option in enumerate(broadcast.reply_options, start=1)]
            if language == "en":
                return _("Reply %(choices)s.", choices=", ".join(f"{n} ({label})" for n, label in choices))
            return "，".join(_("reply %(n)s to %(label)s", n=n, label=label) for n, label in choices) + "。"
        if broadcast.free_reply:
            return _("To answer, reply ANSWER and your answer.")  # a bare reply is a letter to the liaison point
    return ""


def template(broadcast, language: str) -> str:
    """The text for readers of ``language``, placeholders not yet filled."""
    reads = language_of(broadcast, language)
    body = broadcast.body_en if reads == "en" else broadcast.body
    hint = reply_hint(broadcast, reads)
    return f"{body} {hint}" if hint else body


def personal(text: str, name: str | None, village: str | None, language: str) -> str:
    """``text`` with ``{name}`` and ``{village}`` filled in (a general word for a
    listed phone without an account)."""
    if not has_placeholders(text):
        return text
    with force_locale(language):
        return (text.replace("{name}", name or _("farmer friend"))
                .replace("{village}", village or _("your village")))


def has_placeholders(text: str) -> bool:
    return any(mark in text for mark in PLACEHOLDERS)
