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
