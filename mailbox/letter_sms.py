"""A letter on a feature phone: it arrives whole, as one long text of up to
``SMS_MAX_SEGMENTS`` parts (about 400 Chinese characters at 6), with how to
answer it; a longer letter sends what fits and the farmer gets the rest, part
by part, with ``看 N`` / ``READ N``. Nothing is cut inside a word, a number or
a unit.

Who gets it: an answer in a thread the farmer started (their question, their
text to the point) is essential — it reaches them even after 退订, which stops
notices and broadcasts only. Other letters respect the opt-out.
"""
from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from mailbox.models import Letter
from ruralinfo.accounts import roles
from ruralinfo.accounts.models import User
from ruralinfo.sms import segments
from ruralinfo.sms import services as sms
from ruralinfo.sms.models import LETTER, REPLY


def max_segments() -> int:
    return int(current_app.config["SMS_MAX_SEGMENTS"])


def is_answer(answered: Letter | None, recipient: User | None) -> bool:
    """A letter that answers one ``recipient`` wrote (their question, their text to the
    point) is essential: it reaches them even after 退订. The one rule for the SMS copy
    and for what the pages promise."""
    return answered is not None and recipient is not None and answered.sender_id == recipient.id


def reaches_by_sms(recipient: User | None, *, essential: bool) -> bool:
    """Whether a letter to ``recipient`` goes to their phone now: what the pages promise."""
    return recipient is not None and recipient.active and (essential or not recipient.sms_opt_out)


def mirror(letter: Letter, recipient: User, sender_label: str, *, essential: bool, routine: bool = False) -> None:
    """Queue the letter by SMS: whole if it fits, else its first part (not committed).
    Only farmers get letters by SMS: staff read theirs on the web."""
    if not recipient.has_role(roles.FARMER) or not reaches_by_sms(recipient, essential=essential):
        return
    kind = REPLY if essential else LETTER
    with force_locale(recipient.language or "zh"):
        body, upto = _part(letter, 0, _("Letter %(n)s from %(sender)s: ", n=letter.id, sender=sender_label), kind)
    letter.sms_sent_upto = upto
    sms.queue_sms(recipient.phone, body, kind=kind, cause=f"letter:{letter.id}", user=recipient, routine=routine)


def next_part(letter: Letter) -> str:
    """The text ``READ N`` answers: the next part of the letter (from the start again
    once all was sent), in the current locale. Moves the letter's mark (not committed)."""
    start = letter.sms_sent_upto if 0 < letter.sms_sent_upto < len(letter.body) else 0
    head = _("Letter %(n)s, continued: ", n=letter.id) if start else _("Letter %(n)s: ", n=letter.id)
    body, upto = _part(letter, start, head, REPLY)
    letter.sms_sent_upto = upto
    return body


def _part(letter: Letter, start: int, head: str, kind: str) -> tuple[str, int]:
    """``head`` + as much of the body from ``start`` as fits, with the right ending (the
    opt-out hint a text of ``kind`` gets counted in); and where it stopped."""
    rest = letter.body[start:]
    done = _(" To reply, text: REPLY %(n)s your answer", n=letter.id)
    more = _(" (more: text READ %(n)s)", n=letter.id)
    signature, tail = sms.signature(), sms.tail(kind)
    if segments.fits(head + rest + done + tail, max_segments(), signature):
        return head + rest + done, len(letter.body)
    cut = segments.fit(rest, max_segments(), signature, prefix=head, suffix="…" + more + tail)
    return head + rest[:cut] + "…" + more, start + cut


def preview(body: str, *, number: int, sender_label: str, locale: str, essential: bool = False) -> tuple[int, bool]:
    """How many texts (segments) a letter of ``body`` takes on the recipient's phone
    (an ``essential`` one, an answer, without the opt-out hint a letter carries), and
    whether it is past ``SMS_MAX_SEGMENTS`` (the rest then waits for READ N)."""
    with force_locale(locale):
        head = _("Letter %(n)s from %(sender)s: ", n=number, sender=sender_label)
        whole = head + body + _(" To reply, text: REPLY %(n)s your answer", n=number)
    count = sms.counted(whole, REPLY if essential else LETTER).segments
    return count, count > max_segments()
