"""A farmer's reply to an expert's answer reaches the expert: listed in the console (with
its recording when spoken on the hotline), answered there by SMS and in the mailbox."""
from __future__ import annotations

from sqlalchemy import select

from hotline import services
from hotline.models import SMS
from mailbox.models import Letter
from ruralinfo.accounts import roles
from ruralinfo.extensions import db
from ruralinfo.sms.models import OutboundMessage


def test_a_reply_to_an_answer_reaches_the_expert_who_answers_it_from_the_console(app, client, login, make_farmer,
                                                                                 make_staff, text_in):
    app.config.update(QUIET_HOURS="")
    farmer, expert = make_farmer(name="陈桂兰"), make_staff(roles.EXPERT, name="王立新")
    question = services.ask(topic="crops", channel=SMS, text="水稻叶子发黄", user=farmer)
    services.claim(question.id, expert)
    answered = services.answer(question.id, expert, "缺氮，追施尿素。")
    text_in(farmer.phone, f"回复 {answered.letter_id} 每亩施多少？")
    follow_up = db.session.scalar(select(Letter).where(Letter.recipient_id == expert.id))
    assert follow_up is not None and "每亩施多少" in follow_up.body
    login(expert)
    page = client.get("/hotline/").get_data(as_text=True)
    assert "每亩施多少" in page and f"/hotline/letters/{follow_up.id}/reply" in page
    response = client.post(f"/hotline/letters/{follow_up.id}/reply", data={"body": "每亩5公斤。"})
    assert response.status_code == 302
    assert any("每亩5公斤" in body for body in db.session.scalars(
        select(OutboundMessage.body).where(OutboundMessage.to == farmer.phone)))
    assert db.session.get(Letter, follow_up.id).read_at is not None


def test_an_expert_cannot_answer_a_letter_that_is_not_theirs(app, client, login, make_farmer, make_staff):
    farmer, expert, other = make_farmer(), make_staff(roles.EXPERT, name="王立新"), make_staff(roles.EXPERT, name="赵春梅")
    question = services.ask(topic="crops", channel=SMS, text="水稻叶子发黄", user=farmer)
    services.claim(question.id, expert)
    answered = services.answer(question.id, expert, "缺氮。")
    login(other)
    assert client.post(f"/hotline/letters/{answered.letter_id}/reply", data={"body": "x"}).status_code == 404
