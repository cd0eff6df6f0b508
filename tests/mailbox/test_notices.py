"""A notice sent by SMS is also a letter from the bureau in the farmer's mailbox, once."""
from __future__ import annotations

from sqlalchemy import select

from mailbox.models import FROM_BUREAU, Letter
from ruralinfo.broadcasts import audience as audiences
from ruralinfo.broadcasts import planning, sending
from ruralinfo.broadcasts.audience import Rules
from ruralinfo.broadcasts.models import SENDING, Broadcast, Topic
from ruralinfo.extensions import db
from tests.mailbox.test_pages import log_in_by_code

NOTICE = "明晨有霜冻，请注意茶园防冻。"


def test_each_sent_notice_is_a_letter_from_the_bureau_once(app, client, make_farmer):
    app.config.update(QUIET_HOURS="", SMS_RATE=100_000)
    reader, opted = make_farmer(name="赵大", groups=("茶叶",)), make_farmer(name="钱二", groups=("茶叶",))
    opted.sms_opt_out = True
    topic = db.session.scalar(select(Topic).where(Topic.key == "weather"))
    broadcast = Broadcast(body=NOTICE, topic=topic, audience=audiences.clean(Rules(groups=["茶叶"])).to_json(),
                          status=SENDING)
    db.session.add(broadcast)
    db.session.flush()
    planning.plan(broadcast)
    db.session.commit()
    sending.run(broadcast.id)
    sending.run(broadcast.id)  # again: nothing new, no second letter
    letters = db.session.scalars(select(Letter).where(Letter.kind == FROM_BUREAU)).all()
    assert [(letter.recipient_id, letter.body) for letter in letters] == [(reader.id, NOTICE)]
    log_in_by_code(client, reader)
    page = client.get(f"/mailbox/letters/{letters[0].id}").get_data(as_text=True)
    assert NOTICE in page and app.config["BUREAU_NAME"] in page


def test_a_notice_whose_sender_died_before_recording_it_still_becomes_a_letter_once(app, make_farmer, monkeypatch):
    """The sender handed the text to the gateway and was killed before it wrote the
    answer: the SMS channel finds it at the provider, and the letter is filed then."""
    from ruralinfo.sms import gateways, tasks
    from ruralinfo.sms.gateways import SendOutcomeUnknown, SendResult
    from ruralinfo.sms.models import OutboundMessage

    app.config.update(QUIET_HOURS="", SMS_RATE=100_000)
    reader = make_farmer(name="孙三", groups=("茶叶",))
    topic = db.session.scalar(select(Topic).where(Topic.key == "weather"))
    broadcast = Broadcast(body=NOTICE, topic=topic, audience=audiences.clean(Rules(groups=["茶叶"])).to_json(),
                          status=SENDING)
    db.session.add(broadcast)
    db.session.flush()
    planning.plan(broadcast)
    db.session.commit()

    class TimesOut:
        name = "timesout"

        def send(self, to, body, callback_url):
            raise SendOutcomeUnknown("no answer")  # it went; nobody heard the answer

        def find(self, to, body, since, exclude=()):
            return SendResult(provider_id="SM-found-1", status="sent")

    monkeypatch.setattr(gateways, "current", lambda: TimesOut())
    sending.run(broadcast.id)
    text = db.session.scalar(select(OutboundMessage).where(OutboundMessage.to == reader.phone,
                                                           OutboundMessage.kind == "broadcast"))
    assert text.status == "unknown" and not db.session.scalars(select(Letter).where(Letter.kind == FROM_BUREAU)).all()
    tasks.reconcile_message(text.id)
    tasks.reconcile_message(text.id)  # again: nothing new
    letters = db.session.scalars(select(Letter).where(Letter.kind == FROM_BUREAU)).all()
    assert [(letter.recipient_id, letter.body) for letter in letters] == [(reader.id, NOTICE)]
