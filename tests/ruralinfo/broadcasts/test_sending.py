"""Sending a planned broadcast: every recipient exactly once, in their language; a
worker that stops at any point loses nothing and sends nothing twice; pausing stops
between two texts; the shared rate spaces the texts of every worker."""
from __future__ import annotations

import os
import threading
import time
import uuid
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from ruralinfo.broadcasts import audience as audiences
from ruralinfo.broadcasts import planning, rate, sending
from ruralinfo.broadcasts.audience import Rules
from ruralinfo.broadcasts.models import PAUSED, SENDING, Broadcast, Topic
from ruralinfo.extensions import db
from ruralinfo.sms.gateways import SendResult
from ruralinfo.sms.models import SENT, OutboundMessage
from tests.conftest import CHANGXI, WUXINGDIAN

REDIS = os.environ.get("TEST_REDIS_URL")


@dataclass
class CountingGateway:
    """A gateway that accepts every text at once and keeps what it received."""

    name: str = "counting"
    received: list[tuple[str, str]] = field(default_factory=list)
    after_each: object = None  # called after each text (to pause a broadcast mid-way)

    def send(self, to: str, body: str, callback_url: str | None) -> SendResult:
        self.received.append((to, body))
        if self.after_each:
            self.after_each(len(self.received))
        return SendResult(provider_id=f"counting-{uuid.uuid4().hex}", status=SENT)

    def find(self, *args, **kwargs):
        return None


@pytest.fixture
def gateway(app):
    app.config.update(SMS_RATE=100_000, SMS_SIGNATURE="【农业局】", QUIET_HOURS="")  # quiet hours: their own test
    counting = CountingGateway()
    app.extensions["sms_gateway"] = counting
    return counting


@pytest.fixture
def farmers(app, make_farmer):
    names = iter("赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许")
    people = [make_farmer(region_code=(CHANGXI, WUXINGDIAN)[n % 2], name=next(names) + "小明", groups=("茶叶",))
              for n in range(12)]
    people[0].language = "en"
    people[1].sms_opt_out = True
    db.session.commit()
    return people


def sending_broadcast(body="明晨有霜冻，请注意茶园防冻。", body_en="Frost tomorrow morning: protect the tea.") -> Broadcast:
    topic = db.session.scalar(select(Topic).where(Topic.key == "weather"))
    broadcast = Broadcast(body=body, body_en=body_en, topic=topic,
                          audience=audiences.clean(Rules(groups=["茶叶"])).to_json())
    db.session.add(broadcast)
    db.session.flush()
    planning.plan(broadcast)
    broadcast.status = SENDING
    db.session.commit()
    from flask import current_app

    current_app.extensions["sms_gateway"].received.clear()  # the farmers' welcome texts
    return broadcast


def test_every_recipient_gets_one_text_in_their_language(app, gateway, farmers, monkeypatch):
    monkeypatch.setattr(sending, "BATCH", 5)  # several batches
    broadcast = sending_broadcast()
    assert sending.run(broadcast.id) == 11
    phones = [to for to, _body in gateway.received]
    assert sorted(phones) == sorted(p.phone for p in farmers if not p.sms_opt_out)  # each once, not the opted-out
    bodies = dict(gateway.received)
    assert bodies[farmers[0].phone] == "【农业局】Frost tomorrow morning: protect the tea."
    assert bodies[farmers[2].phone] == "【农业局】明晨有霜冻，请注意茶园防冻。"
    assert sending.progress(broadcast.id) == {"sent": 11, "opted_out": 1}
    assert sending.run(broadcast.id) == 0  # run again: nothing left, nothing twice


@pytest.mark.parametrize("sent_before_stopping", [0, 1, 4])
def test_a_worker_stopped_after_taking_a_batch_loses_nothing_and_sends_nothing_twice(
        app, gateway, farmers, monkeypatch, sent_before_stopping):
    monkeypatch.setattr(sending, "BATCH", 5)
    broadcast_id = sending_broadcast().id
    taken = sending._take_batch(broadcast_id)  # the worker took a batch: texts in the outbox …
    if sent_before_stopping:
        sending.send_chunk(taken[:sent_before_stopping])  # … sent some of them, and was killed
    db.session.remove()
    assert sending.run(broadcast_id) == 11 - sent_before_stopping  # the job that takes over
    phones = [to for to, _body in gateway.received]
    assert len(phones) == len(set(phones)) == 11


def test_two_workers_at_once_send_each_text_once(app, gateway, farmers, monkeypatch):
    monkeypatch.setattr(sending, "BATCH", 2)
    broadcast_id = sending_broadcast().id
    errors = []

    def work():
        with app.app_context():
            try:
                sending.run(broadcast_id)
            except Exception as err:  # noqa: BLE001 - reported below
                errors.append(err)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    phones = [to for to, _body in gateway.received]
    assert not errors and len(phones) == len(set(phones)) == 11


def test_a_paused_broadcast_stops_between_two_chunks_and_goes_on_when_resumed(app, gateway, farmers, monkeypatch):
    monkeypatch.setattr(sending, "CHUNK", 2)  # two texts a chunk
    broadcast = sending_broadcast()

    def pause_after_four(count):
        if count == 4:
            db.session.execute(Broadcast.__table__.update().values(status=PAUSED))
            db.session.commit()

    gateway.after_each = pause_after_four
    assert sending.run(broadcast.id) == 4  # the chunk under way is finished, no more
    gateway.after_each = None
    db.session.execute(Broadcast.__table__.update().values(status=SENDING))
    db.session.commit()
    assert sending.run(broadcast.id) == 7
    phones = [to for to, _body in gateway.received]
    assert len(phones) == len(set(phones)) == 11


def test_texts_claimed_by_a_worker_killed_before_sending_them_go_later_once(app, gateway, farmers, monkeypatch):
    """Claimed (committed) and then the worker died: the channel marks them unknown,
    looks for them at the provider, and queues again the ones it never had."""
    from datetime import timedelta

    from ruralinfo.sms import tasks
    from ruralinfo.sms.models import UNKNOWN

    broadcast_id = sending_broadcast().id
    taken = sending._take_batch(broadcast_id)
    doomed = taken[:3]
    db.session.execute(OutboundMessage.__table__.update().where(OutboundMessage.id.in_(doomed))
                       .values(status="sending", attempts=1))  # the claim of send_chunk, then kill -9
    db.session.commit()
    db.session.remove()
    assert sending.run(broadcast_id) == 8  # everyone else meanwhile
    later = tasks.now_utc() + tasks.STALE_CLAIM + timedelta(seconds=1)
    tasks.sweep(now=later)  # the abandoned claims: outcome unknown
    for message_id in doomed:
        message = db.session.get(OutboundMessage, message_id)
        assert message.status == UNKNOWN
        attempted = message.updated_at  # the last lookup is due:
        db.session.execute(OutboundMessage.__table__.update().where(OutboundMessage.id == message_id).values(
            next_attempt_at=attempted + tasks.CHECK_AFTER[-1], updated_at=attempted))
        db.session.commit()
        tasks.reconcile_message(message_id)  # the provider never had it: queued again
        assert db.session.get(OutboundMessage, message_id).status == "queued", message.last_error
    assert sending.run(broadcast_id) == 3
    phones = [to for to, _body in gateway.received]
    assert len(phones) == len(set(phones)) == 11


def test_the_generic_sweep_leaves_a_broadcasts_texts_to_its_own_job(app, gateway, farmers):
    from ruralinfo.sms import tasks

    broadcast = sending_broadcast()
    taken = sending._take_batch(broadcast.id)
    tasks.sweep()
    assert gateway.received == []  # not sent around the shared rate
    assert db.session.scalar(select(OutboundMessage.status).where(OutboundMessage.id == taken[0])) == "queued"


def _slots(app, workers: int, each: int) -> list[float]:
    slots, lock = [], threading.Lock()

    def work():
        with app.app_context():
            for _ in range(each):
                went = rate.wait_turn("counting")
                with lock:
                    slots.append(went)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return sorted(slots)


@pytest.mark.parametrize("shared", ["process", pytest.param("redis", marks=pytest.mark.skipif(
    not REDIS, reason="TEST_REDIS_URL is not set (.ci/run sets it)"))])
def test_the_rate_spaces_every_workers_texts_so_no_second_holds_more(app_config, shared, request):
    if shared == "redis":
        app_config["REDIS_URL"] = REDIS
    app = request.getfixturevalue("app")
    app.config["SMS_RATE"] = 50
    if shared == "redis":
        from ruralinfo import jobs

        jobs.redis_connection().delete("ruralinfo:sms-rate:counting")
    slots = _slots(app, workers=4, each=30)
    assert len(slots) == 120
    gaps = [later - earlier for earlier, later in zip(slots, slots[1:])]
    assert min(gaps) >= 1 / 50 - 1e-6  # evenly spaced (a little wider): any one second holds at most 50
    assert max(sum(1 for s in slots if start <= s < start + 1) for start in slots) <= 50


@pytest.mark.parametrize("shared", ["process", pytest.param("redis", marks=pytest.mark.skipif(
    not REDIS, reason="TEST_REDIS_URL is not set (.ci/run sets it)"))])
def test_senders_held_up_together_do_not_go_together_afterwards(app_config, shared, request):
    """A turn is taken when the text goes, not booked ahead: after a stall (a slow
    database, Redis back) the senders that waited find one text just gone and wait."""
    if shared == "redis":
        app_config["REDIS_URL"] = REDIS
    app = request.getfixturevalue("app")
    app.config["SMS_RATE"] = 10
    gateway = f"held-{uuid.uuid4().hex}"  # a rate of its own
    assert rate.take(gateway)[0] is True
    time.sleep(0.3)  # everyone held up, three turns' worth
    granted, barrier = [], threading.Barrier(4)

    def ask():
        with app.app_context():
            barrier.wait(5)
            granted.append(rate.take(gateway)[0])

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert sorted(granted) == [False, False, False, True]


@pytest.mark.parametrize("per_second, size", [(0.5, 1), (10, 10), (50, 50), (100_000, 100)])
def test_a_chunk_is_about_a_second_of_texts(app, per_second, size):
    app.config["SMS_RATE"] = per_second
    assert sending.chunk_size() == size


def test_a_stopped_redis_makes_the_sender_wait_then_stop_with_nothing_lost(app, gateway, farmers, monkeypatch):
    """Redis keeps the shared rate: while it cannot be reached nothing is sent around it;
    the texts not yet handed over are queued again, and go once Redis is back."""
    from redis.exceptions import ConnectionError as RedisConnectionError

    from ruralinfo import jobs
    from ruralinfo.broadcasts import services

    broadcast_id = sending_broadcast().id
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # nothing listens there

    class Down:
        def eval(self, *args):
            raise RedisConnectionError("refused")

    monkeypatch.setattr(jobs, "redis_connection", lambda: Down())
    monkeypatch.setattr(rate, "REDIS_PATIENCE", 0.6)
    monkeypatch.setattr(rate.time, "sleep", lambda seconds: None)
    services.send(broadcast_id)  # waits, gives up, says so: no exception out of the job
    assert gateway.received == []
    statuses = db.session.scalars(select(OutboundMessage.status)).all()
    assert set(statuses) <= {"queued", "sent"} and statuses.count("queued") == 11  # none claimed, none lost
    app.config.pop("REDIS_URL")  # back (here: the process's own spacing)
    assert sending.run(broadcast_id) == 11
    phones = [to for to, _body in gateway.received]
    assert len(phones) == len(set(phones)) == 11


def test_a_broadcast_is_done_when_the_provider_has_every_text_before_any_is_reported_sent(app, gateway, farmers):
    """Twilio answers a new message with "queued" (ours: sending, its id stored): the text is
    the provider's then, and its delivery the status callbacks' business; the broadcast is done."""
    from ruralinfo.broadcasts import services
    from ruralinfo.broadcasts.models import DONE

    class Queueing(CountingGateway):
        def send(self, to, body, callback_url):
            return SendResult(provider_id=super().send(to, body, callback_url).provider_id, status="sending")

    app.extensions["sms_gateway"] = Queueing()
    broadcast = sending_broadcast()
    services.send(broadcast.id)
    assert sending.progress(broadcast.id) == {"sending": 11, "opted_out": 1}
    assert db.session.get(Broadcast, broadcast.id).status == DONE


def test_the_opt_out_hint_ends_every_broadcast_text_and_is_counted(app, gateway, farmers):
    app.config["SMS_OPTOUT_HINT"] = "拒收请回复R"
    body = "明" * (70 - len("【农业局】") - len(" 拒收请回复R") + 1)  # one segment without the hint, two with it
    shown = planning.preview(audiences.clean(Rules(groups=["茶叶"])), body)
    assert shown.samples["zh"] == "【农业局】" + body + " 拒收请回复R" and shown.segments_each["zh"] == 2
    broadcast = sending_broadcast(body=body, body_en="Frost tomorrow.")
    sending.run(broadcast.id)
    bodies = dict(gateway.received)
    assert bodies[farmers[2].phone] == "【农业局】" + body + " 拒收请回复R"
    assert bodies[farmers[0].phone] == "【农业局】Frost tomorrow. 拒收请回复R"
    stored = db.session.scalar(select(OutboundMessage).where(OutboundMessage.to == farmers[2].phone,
                                                             OutboundMessage.kind == "broadcast"))
    assert stored.segments == 2
