"""What became of a broadcast's texts: the progress bar's counts, the per-recipient
delivery report with the reason for every failure, and which failures a retry may
send again.

A failure may be retried when sending again can reach the person: the phone was off
or out of coverage, the carrier had a passing fault, the gateway gave up after its
attempts. It may not when the number is no mobile phone, the person blocked or
opted out, or the broadcast was cancelled: sending again would fail again, or reach
someone who said no.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, update

from ruralinfo import exports
from ruralinfo.accounts.models import User
from ruralinfo.broadcasts.models import LEFT_TOPIC, OPTED_OUT, PLANNED, Recipient
from ruralinfo.extensions import db
from ruralinfo.regions.models import Region
from ruralinfo.sms import labels
from ruralinfo.sms.models import DELIVERED, FAILED, QUEUED, SENT, UNDELIVERED, OutboundMessage
from ruralinfo.timeutil import now_utc

# Provider error codes (Twilio's; Kannel's map onto them) that no second try can cure.
PERMANENT = {
    "21211": _l("not a valid phone number"), "21214": _l("not a valid phone number"),
    "21612": _l("the carrier cannot reach this number"), "21614": _l("not a mobile phone"),
    "21610": _l("the person blocked texts from us"), "30004": _l("the person blocked texts from us"),
    "30005": _l("the number does not exist (any more)"), "30006": _l("a landline, not a mobile phone"),
    "30007": _l("the carrier filtered it as unwanted"),
}
PASSING = {
    "30003": _l("the phone was off or out of coverage"), "30008": _l("the carrier had a fault"),
    "30001": _l("the carrier's queue was full"), "30002": _l("the account was suspended"),
}
NOT_AGAIN = ("opted out", "cancelled")  # our own refusals (sending.py, services.cancel)
_CODE = re.compile(r"\b(2\d{4}|3\d{4})\b")

BAR = ("delivered", "sent", "queued", "held", "failed")  # the progress bar's parts, in order
BAR_LABELS = {"delivered": _l("delivered"), "sent": _l("sent, no report yet"), "queued": _l("waiting to go"),
              "held": _l("held by the daily cap"), "failed": _l("failed")}


@dataclass
class Counts:
    delivered: int = 0
    sent: int = 0
    queued: int = 0
    held: int = 0
    failed: int = 0
    retryable: int = 0
    left_out: int = 0  # opted out, or left the topic: planned without a text

    @property
    def total(self) -> int:
        return self.delivered + self.sent + self.queued + self.held + self.failed

    def as_dict(self) -> dict[str, int]:
        return {"delivered": self.delivered, "sent": self.sent, "queued": self.queued, "held": self.held,
                "failed": self.failed, "left_out": self.left_out, "total": self.total}


def counts(broadcast_id: int, retryable: bool = False) -> Counts:
    """The progress bar: every recipient in one part (those left out beside it); with
    ``retryable``, also how many failed texts a retry would send (the page's button, not
    the bar's updates every few seconds)."""
    now = now_utc()
    part = func.coalesce(OutboundMessage.status, Recipient.state)
    held = and_(Recipient.state == PLANNED, Recipient.held_until.is_not(None), Recipient.held_until > now)
    rows = db.session.execute(
        select(part, held, func.count()).select_from(Recipient)
        .outerjoin(OutboundMessage, OutboundMessage.id == Recipient.message_id)
        .where(Recipient.broadcast_id == broadcast_id).group_by(part, held)).all()
    result = Counts()
    for state, is_held, number in rows:
        if state == DELIVERED:
            result.delivered += number
        elif state == SENT:
            result.sent += number
        elif state in (FAILED, UNDELIVERED):
            result.failed += number
        elif state in (OPTED_OUT, LEFT_TOPIC):
            result.left_out += number
        elif is_held:
            result.held += number
        else:  # planned, or in the outbox waiting, being sent, or being looked up
            result.queued += number
    if retryable and result.failed:
        result.retryable = len(_retryable_ids(broadcast_id))
    return result


def reason(status: str | None, last_error: str, state: str) -> str:
    """Why a recipient got nothing, or why the text failed, in plain words ("" when all is well)."""
    if state == OPTED_OUT:
        return str(_l("opted out of all notices"))
    if state == LEFT_TOPIC:
        return str(_l("left this topic"))
    if status not in (FAILED, UNDELIVERED):
        return ""
    text = last_error or ""
    if "opted out" in text:
        return str(_l("opted out before it was sent"))
    if "cancelled" in text:
        return str(_l("the broadcast was cancelled"))
    code = _code(text)
    if code in PERMANENT:
        return str(PERMANENT[code])
    if code in PASSING:
        return str(PASSING[code])
    if "gave up" in text:
        return str(_l("the gateway did not answer; gave up after several tries"))
    return str(_l("error %(code)s", code=code)) if code else (text or str(_l("failed")))


def may_retry(status: str | None, last_error: str) -> bool:
    """Whether sending again can reach the person (see the module's docstring)."""
    if status not in (FAILED, UNDELIVERED):
        return False
    text = last_error or ""
    return not any(word in text for word in NOT_AGAIN) and _code(text) not in PERMANENT


def _code(text: str) -> str:
    found = _CODE.search(text or "")
    return found.group(1) if found else ""


def _retryable_ids(broadcast_id: int) -> list[int]:
    failed = db.session.execute(select(OutboundMessage.id, OutboundMessage.status, OutboundMessage.last_error)
                                .join(Recipient, Recipient.message_id == OutboundMessage.id)
                                .where(Recipient.broadcast_id == broadcast_id,
                                       OutboundMessage.status.in_((FAILED, UNDELIVERED)))).all()
    return [message_id for message_id, status, error in failed if may_retry(status, error)]


def queue_again(broadcast_id: int) -> int:
    """The texts a retry sends again, queued (not committed). Returns how many."""
    ids = _retryable_ids(broadcast_id)
    if not ids:
        return 0
    return db.session.execute(update(OutboundMessage).where(
        OutboundMessage.id.in_(ids), or_(OutboundMessage.status == FAILED, OutboundMessage.status == UNDELIVERED))
        .values(status=QUEUED, next_attempt_at=None, updated_at=now_utc())
        .execution_options(synchronize_session=False)).rowcount


# --- the delivery report ----------------------------------------------------------------------

def header() -> list[str]:
    return [str(_l("Name")), str(_l("Phone")), str(_l("Village")), str(_l("Language")), str(_l("Status")),
            str(_l("Reason")), str(_l("Segments")), str(_l("Last change (local time)")), str(_l("May retry"))]


def rows(broadcast_id: int):
    """One row per recipient, in the order they were planned (streamed from the database)."""
    query = (select(User.name, Recipient.phone, Region.name, Recipient.language, Recipient.state,
                    OutboundMessage.status, OutboundMessage.last_error, OutboundMessage.segments,
                    OutboundMessage.updated_at)
             .select_from(Recipient)
             .outerjoin(User, User.id == Recipient.user_id)
             .outerjoin(Region, Region.code == User.region_code)
             .outerjoin(OutboundMessage, OutboundMessage.id == Recipient.message_id)
             .where(Recipient.broadcast_id == broadcast_id).order_by(Recipient.id))
    for name, phone, village, language, state, status, error, counted, changed in \
            db.session.execute(query.execution_options(yield_per=2000)):
        shown = labels.status(status) if status else _state_label(state)
        yield [name or "", exports.phone_cell(phone), village or "", language, shown, reason(status, error, state),
               counted or "", exports.local_time(changed), exports.yes_no(may_retry(status, error))]


def _state_label(state: str) -> str:
    return str({PLANNED: _l("waiting to go"), OPTED_OUT: _l("left out"), LEFT_TOPIC: _l("left out")}
               .get(state, state))


def as_csv(broadcast_id: int):
    """The report as CSV, in pieces (streamed: a million rows are never held at once)."""
    return exports.csv_stream(header(), rows(broadcast_id))


def as_xlsx(broadcast_id: int) -> bytes:
    return exports.xlsx_bytes(str(_l("Delivery report")), header(), rows(broadcast_id))
