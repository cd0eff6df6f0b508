"""What the console reads and the rules it relies on: the queue's order and counts, who
asked as experts see them, two experts pressing "take" at the same moment."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from hotline import queue, services
from hotline.models import CLAIMED, SMS, VOICE, Question
from ruralinfo.accounts import roles
from ruralinfo.extensions import db
from tests.conftest import PASSWORD


@pytest.fixture
def people(app, make_farmer, make_staff):
    return {
        "farmer": make_farmer(name="陈桂兰"),
        "wang": make_staff(roles.EXPERT, name="王立新"),
        "zhao": make_staff(roles.EXPERT, name="赵春梅"),
    }


def _ask(people, text, topic="crops"):
    return services.ask(topic=topic, channel=SMS, text=text, user=people["farmer"])


def test_the_queue_holds_ones_own_the_waiting_oldest_first_and_those_of_others(people):
    old, new, held, mine = (_ask(people, text) for text in ("旧", "新", "别人的", "我的"))
    older = db.session.get(Question, new.id)
    older.created_at = old.created_at - timedelta(hours=2)  # asked earlier, numbered later (a late callback)
    db.session.commit()
    services.claim(held.id, people["zhao"])
    services.claim(mine.id, people["wang"])
    assert [q.id for q in queue.mine(people["wang"])] == [mine.id]
    assert [q.id for q in db.session.scalars(queue.waiting())] == [new.id, old.id]
    assert [q.id for q in queue.held_by_others(people["wang"])] == [held.id]
    assert queue.waiting_counts() == {"crops": 2}
    assert [q.id for q in db.session.scalars(queue.waiting("livestock"))] == []


def test_answered_questions_leave_the_queue(people):
    question = _ask(people, "西瓜裂果")
    services.claim(question.id, people["wang"])
    services.answer(question.id, people["wang"], "均匀浇水。")
    assert queue.mine(people["wang"]) == [] and db.session.scalars(queue.waiting()).all() == []
    assert [q.id for q in queue.recently_answered()] == [question.id]
    assert [q.id for q in db.session.scalars(queue.of_farmer(people["farmer"]))] == [question.id]


def test_who_asked_as_experts_see_them(people):
    question = _ask(people, "水稻叶子发黄")
    assert queue.farmer_label(question) == "陈桂兰 · 长溪村"
    caller = services.ask(topic="crops", channel=VOICE, text="（录音）", phone="+8613900002222")
    assert queue.farmer_label(caller) == "139****2222"
    assert queue.masked_phone("+8613800138000") == "138****8000"


def test_a_claim_left_too_long_shows_as_one_to_take_over(people):
    question = _ask(people, "茶叶修剪时间")
    held = services.claim(question.id, people["wang"])
    assert not queue.may_take_over(held)
    later = held.claimed_at + timedelta(minutes=services.CLAIM_MINUTES + 1)
    assert queue.may_take_over(held, now=later)


def test_age_reads_in_the_pages_language(app, people):
    question = _ask(people, "桃树流胶")
    with app.test_request_context():
        assert queue.age(question.created_at, now=question.created_at + timedelta(hours=3)) == "3 hours"


def test_two_experts_pressing_take_at_once_leave_one_holder_and_the_other_is_told_who(app, people):
    """Two browsers, two threads, the same database: only one claim wins."""
    question_id = _ask(people, "葡萄霜霉病怎么防").id
    experts = {people["wang"].id: people["wang"].phone, people["zhao"].id: people["zhao"].phone}
    names = {people["wang"].id: "王立新", people["zhao"].id: "赵春梅"}
    clients = {}
    for expert_id, phone in experts.items():
        client = app.test_client()
        client.get("/lang/en")
        assert client.post("/login", data={"phone": phone, "password": PASSWORD}).status_code == 302
        clients[expert_id] = client
    db.session.remove()
    barrier, pages = threading.Barrier(2), {}

    def take(expert_id):
        barrier.wait()
        response = clients[expert_id].post(f"/hotline/questions/{question_id}/claim", follow_redirects=True)
        pages[expert_id] = response.get_data(as_text=True)

    threads = [threading.Thread(target=take, args=(expert_id,)) for expert_id in experts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    row = db.session.get(Question, question_id)
    assert row.status == CLAIMED and row.claimed_by_id in experts
    winner = row.claimed_by_id
    loser = next(expert_id for expert_id in experts if expert_id != winner)
    assert 'name="text"' in pages[winner] and 'name="text"' not in pages[loser]
    assert 'id="holder"' in pages[loser] and names[winner] in pages[loser]
