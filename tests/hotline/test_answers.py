"""Published answers: published from an answered question or on their own, never with
the farmer's name or a number, withdrawn, listed for the voice menu, searched on the
public page in Chinese and English and by topic."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from hotline import answers, services
from hotline.models import SMS, PublishedAnswer
from ruralinfo.accounts import roles
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db


@pytest.fixture
def people(app, make_farmer, make_staff):
    return {"farmer": make_farmer(name="陈桂兰"), "wang": make_staff(roles.EXPERT, name="王立新")}


def _answered(people, text="水稻叶子发黄怎么办", reply="缺氮，追施尿素每亩5公斤。", topic="crops"):
    question = services.ask(topic=topic, channel=SMS, text=text, user=people["farmer"])
    services.claim(question.id, people["wang"])
    return services.answer(question.id, people["wang"], reply)


def _publish(people, question_zh, answer_zh, topic="crops", **english):
    return answers.publish(None, people["wang"], topic=topic, question_zh=question_zh, answer_zh=answer_zh, **english)


def test_an_answered_question_is_published_rewritten_and_audited(people):
    question = _answered(people)
    published = answers.publish(question.id, people["wang"], topic="crops", question_zh="  水稻叶子发黄怎么办？ ",
                                answer_zh="多半是缺氮：每亩追施尿素5公斤。", question_en="Rice leaves turn yellow?")
    assert (published.question_id, published.topic, published.published_by_id) == (question.id, "crops",
                                                                                   people["wang"].id)
    assert published.question_zh == "水稻叶子发黄怎么办？" and published.withdrawn_at is None
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "answer.publish"))
    assert entry.target_id == published.id and entry.actor_id == people["wang"].id


def test_a_question_not_yet_answered_cannot_be_published(people):
    question = services.ask(topic="crops", channel=SMS, text="西瓜裂果", user=people["farmer"])
    with pytest.raises(answers.PublishRefused) as refused:
        answers.publish(question.id, people["wang"], topic="crops", question_zh="西瓜裂果", answer_zh="均匀浇水")
    assert "question" in refused.value.errors
    assert db.session.scalar(select(PublishedAnswer)) is None


@pytest.mark.parametrize("question_zh, answer_zh, field", [
    ("", "均匀浇水", "question_zh"),
    ("西瓜裂果", "  ", "answer_zh"),
    ("长" * 301, "均匀浇水", "question_zh"),
    ("陈桂兰家的西瓜裂果", "均匀浇水", "question_zh"),           # the farmer's name
    ("西瓜裂果", "请打13800138000问农技站", "answer_zh"),         # a mobile number
    ("西瓜裂果", "身份证330282197506010011的农户", "answer_zh"),  # an ID number
    ("西瓜裂果", "请打+86 138 0013 8000", "answer_zh"),           # written the ways people write numbers
    ("西瓜裂果", "请打138-0013-8000", "answer_zh"),
    ("西瓜裂果", "农技站电话0574-63012345", "answer_zh"),
    ("西瓜裂果", "打一三八零零一三八零零零", "answer_zh"),
])
def test_what_is_published_has_words_and_no_name_nor_number(people, question_zh, answer_zh, field):
    question = _answered(people, text="西瓜裂果怎么办", reply="均匀浇水")
    with pytest.raises(answers.PublishRefused) as refused:
        answers.publish(question.id, people["wang"], topic="crops", question_zh=question_zh, answer_zh=answer_zh)
    assert field in refused.value.errors
    with pytest.raises(answers.PublishRefused) as refused:
        _publish(people, "西瓜裂果", "均匀浇水", topic="astrology")
    assert "topic" in refused.value.errors


def test_withdrawn_answers_are_neither_listed_nor_shown_and_withdrawing_twice_changes_nothing(people):
    first = _publish(people, "猪不吃食怎么办", "先量体温。", topic="livestock")
    second = _publish(people, "鸡瘟怎么防", "按时接种疫苗。", topic="livestock")
    crops = _publish(people, "稻瘟病用什么药", "三环唑。")
    assert [a.id for a in answers.published("livestock")] == [second.id, first.id]  # newest first
    assert [a.id for a in answers.published()] == [crops.id, second.id, first.id]
    assert answers.withdraw(second.id, people["wang"]) is True
    assert answers.withdraw(second.id, people["wang"]) is False
    assert [a.id for a in answers.published("livestock")] == [first.id]
    assert answers.shown(second.id) is None and answers.shown(first.id).id == first.id
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("answer.%"))).all()
    assert sorted(actions) == ["answer.publish"] * 3 + ["answer.withdraw"]


def test_search_finds_every_word_in_question_or_answer_in_either_language(people):
    rice = _publish(people, "水稻叶子发黄怎么办", "缺氮，追施尿素。", question_en="Rice leaves turn yellow",
                    answer_en="Nitrogen is short: apply urea.")
    pig = _publish(people, "猪不吃食怎么办", "先量体温，再请兽医。", topic="livestock")
    percent = _publish(people, "农药稀释比例", "兑水100%按说明。")

    def found(q=None, topic=None):
        return [a.id for a in db.session.scalars(answers.search(q, topic))]

    assert found("发黄") == [rice.id]
    assert found("尿素") == [rice.id]
    assert found("UREA") == [rice.id]  # any case
    assert found("rice nitrogen") == [rice.id] and found("rice 猪") == []  # every word
    assert found("怎么办") == [pig.id, rice.id]
    assert found("怎么办", "livestock") == [pig.id]
    assert found(None, "livestock") == [pig.id]
    assert found("%") == [percent.id] and found("_") == []  # wildcards are plain characters


def test_the_public_answers_page_needs_no_log_in_and_searches(client, people):
    rice = _publish(people, "水稻叶子发黄怎么办", "缺氮，追施尿素。", question_en="Rice leaves turn yellow",
                    answer_en="Nitrogen is short: apply urea.")
    pig = _publish(people, "猪不吃食怎么办", "先量体温，再请兽医。", topic="livestock")
    gone = _publish(people, "旧的回答", "已经过时。")
    answers.withdraw(gone.id, people["wang"])
    page = client.get("/answers/").get_data(as_text=True)
    listed = [int(n) for n in re.findall(r'<li id="a(\d+)"', page)]
    assert listed == [pig.id, rice.id]
    assert "Rice leaves turn yellow" in page  # the English question on an English page
    listed = re.findall(r'<li id="a(\d+)"', client.get("/answers/?q=urea").get_data(as_text=True))
    assert listed == [str(rice.id)]
    listed = re.findall(r'<li id="a(\d+)"', client.get("/answers/?topic=livestock").get_data(as_text=True))
    assert listed == [str(pig.id)]
    one = client.get(f"/answers/{rice.id}")
    assert one.status_code == 200 and "apply urea" in one.get_data(as_text=True)
    assert client.get(f"/answers/{gone.id}").status_code == 404
    assert client.get("/answers/999").status_code == 404
    assert client.get("/answers/?q=" + "x" * 5000).status_code == 200


def test_the_public_page_reads_chinese_by_default(app, people):
    rice = _publish(people, "水稻叶子发黄怎么办", "缺氮，追施尿素。", question_en="Rice leaves turn yellow")
    app.config["BABEL_DEFAULT_LOCALE"] = "zh"
    page = app.test_client().get(f"/answers/{rice.id}").get_data(as_text=True)
    assert "水稻叶子发黄怎么办" in page and "Rice leaves" not in page


def test_an_expert_publishes_from_the_console_and_withdraws(client, people, login):
    question = _answered(people)
    login(people["wang"])
    page = client.get(f"/hotline/questions/{question.id}").get_data(as_text=True)
    assert "水稻叶子发黄怎么办</textarea>" in page  # prefilled with the farmer's words, to rewrite
    response = client.post(f"/hotline/questions/{question.id}/publish", data={
        "topic": "crops", "question_zh": "陈桂兰问：水稻发黄", "answer_zh": "追施尿素。"})
    assert response.status_code == 400 and db.session.scalar(select(PublishedAnswer)) is None
    response = client.post(f"/hotline/questions/{question.id}/publish", data={
        "topic": "crops", "question_zh": "水稻叶子发黄怎么办", "answer_zh": "追施尿素。"})
    assert response.status_code == 302
    published = db.session.scalar(select(PublishedAnswer))
    assert published.question_id == question.id
    page = client.get(f"/hotline/questions/{question.id}").get_data(as_text=True)
    assert f'href="/answers/{published.id}"' in page
    assert client.post(f"/hotline/published/{published.id}/withdraw").status_code == 302
    db.session.refresh(published)
    assert published.withdrawn_at is not None


def test_an_answer_no_question_asked_is_written_in_the_console(client, people, login):
    login(people["wang"])
    assert client.get("/hotline/published").status_code == 200
    response = client.post("/hotline/published", data={"topic": "policy", "question_zh": "耕地地力补贴怎么领",
                                                       "answer_zh": "向村里报面积，补贴打到一卡通。"})
    assert response.status_code == 302
    assert [a.question_zh for a in answers.published("policy")] == ["耕地地力补贴怎么领"]
    assert client.post("/hotline/published", data={"topic": "policy", "question_zh": ""}).status_code == 400


def test_staff_see_the_published_answers_but_cannot_publish_or_withdraw(client, people, make_staff, login):
    published = _publish(people, "稻瘟病用什么药", "三环唑。")
    login(make_staff(roles.STAFF, name="农业局员工"))
    page = client.get("/hotline/published").get_data(as_text=True)
    assert "稻瘟病用什么药" in page and "withdraw" not in page
    assert client.post(f"/hotline/published/{published.id}/withdraw").status_code == 403
    assert client.post("/hotline/published", data={"topic": "policy", "question_zh": "问",
                                                   "answer_zh": "答"}).status_code == 403
    assert answers.shown(published.id) is not None


def test_an_answer_is_published_once_even_when_two_experts_press_at_once(app, people, make_staff):
    import threading

    question_id = _answered(people).id
    experts = [people["wang"].id, make_staff(roles.EXPERT, name="赵春梅").id]
    db.session.remove()
    barrier, refused = threading.Barrier(2), []

    def publish(expert_id):
        with app.app_context():
            barrier.wait()
            try:
                answers.publish(question_id, db.session.get(type(people["wang"]), expert_id), topic="crops",
                                question_zh="水稻叶子发黄怎么办", answer_zh="缺氮，追施尿素。")
            except answers.PublishRefused:
                refused.append(expert_id)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=publish, args=(expert_id,)) for expert_id in experts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(refused) == 1
    assert len(db.session.scalars(select(PublishedAnswer).where(PublishedAnswer.question_id == question_id)).all()) == 1
