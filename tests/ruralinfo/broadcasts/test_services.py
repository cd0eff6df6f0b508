"""A broadcast's life: approval by a second person above the threshold and for every
urgent alert, pause/resume/cancel, routine notices waiting out the quiet hours,
bad input refused with nothing changed, every step audited."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from ruralinfo.accounts import roles
from ruralinfo.audit.models import AuditEntry
from ruralinfo.broadcasts import audience as audiences
from ruralinfo.broadcasts import services
from ruralinfo.broadcasts.audience import Rules
from ruralinfo.broadcasts.models import (CANCELLED, DONE, PAUSED, PENDING_APPROVAL, SCHEDULED, SENDING, Broadcast)
from ruralinfo.extensions import db
from ruralinfo.sms.models import BROADCAST, OutboundMessage
from tests.conftest import CHANGXI

NOTICE = "明天上午9点在村委会举办葡萄栽培培训。"


@pytest.fixture
def bureau(app, make_staff, make_farmer, monkeypatch):
    """A clerk, an approver, three grape growers; sending runs in the test's own thread."""
    app.config.update(QUIET_HOURS="", SMS_RATE=100_000, BROADCAST_APPROVAL_THRESHOLD=2)
    monkeypatch.setattr(services, "start", services.send)  # at once, here (start's thread: its own test)
    names = iter("赵钱孙")
    farmers = [make_farmer(region_code=CHANGXI, name=next(names) + "春生", groups=("葡萄",)) for _ in range(3)]
    return {"clerk": make_staff(roles.STAFF, name="王晓", phone="+8613911110001"),
            "approver": make_staff(roles.APPROVER, name="刘敏", phone="+8613911110002"), "farmers": farmers}


def make(bureau, *, groups=("葡萄",), urgent=False, send_at=None, body=NOTICE, maker="clerk"):
    return services.create(actor=bureau[maker], body=body, topic="training", urgent=urgent, send_at=send_at,
                           audience=audiences.clean(Rules(groups=list(groups))))


def texts() -> int:
    return db.session.scalar(select(func.count(OutboundMessage.id)).where(OutboundMessage.kind == BROADCAST))


def test_a_small_routine_notice_goes_at_once_and_is_done(app, bureau):
    app.config["BROADCAST_APPROVAL_THRESHOLD"] = 10
    broadcast = services.submit(make(bureau), actor=bureau["clerk"])
    assert broadcast.status == DONE and texts() == 3
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.target_type == "broadcasts")).all()
    assert actions == ["broadcast.create", "broadcast.submit"]


def test_above_the_threshold_a_second_person_approves_not_the_maker(app, bureau):
    broadcast = services.submit(make(bureau), actor=bureau["clerk"])
    assert broadcast.status == PENDING_APPROVAL and texts() == 0
    with pytest.raises(services.BroadcastError):
        services.approve(broadcast, actor=bureau["clerk"])  # no approver role
    own = services.submit(make(bureau, maker="approver"), actor=bureau["approver"])
    with pytest.raises(services.BroadcastError) as refused:
        services.approve(own, actor=bureau["approver"])
    assert "Another person" in refused.value.errors["approver"] and own.status == PENDING_APPROVAL
    services.approve(broadcast, actor=bureau["approver"])
    assert broadcast.status == DONE and broadcast.approved_by_id == bureau["approver"].id and texts() == 3


def test_every_urgent_alert_needs_approval_however_small(app, bureau):
    app.config["BROADCAST_APPROVAL_THRESHOLD"] = 500
    broadcast = services.submit(make(bureau, urgent=True), actor=bureau["clerk"])
    assert broadcast.status == PENDING_APPROVAL


def test_a_routine_notice_waits_out_the_quiet_hours_an_urgent_alert_does_not(app, bureau, monkeypatch):
    from ruralinfo.sms import quiet

    app.config.update(QUIET_HOURS="21:00-08:00", BROADCAST_APPROVAL_THRESHOLD=500)
    monkeypatch.setattr(quiet, "now_utc", lambda: datetime(2026, 12, 1, 15, 0))  # 23:00 in Asia/Shanghai
    routine = services.submit(make(bureau), actor=bureau["clerk"])
    assert routine.status == SENDING and texts() == 0  # waits for the morning
    urgent = services.submit(make(bureau, urgent=True), actor=bureau["clerk"])
    services.approve(urgent, actor=bureau["approver"])
    assert urgent.status == DONE and texts() == 3
    monkeypatch.setattr(quiet, "now_utc", lambda: datetime(2026, 12, 2, 0, 30))  # 08:30: the sweep takes it up
    services.sweep()
    db.session.refresh(routine)
    assert routine.status == DONE and texts() == 6


def test_pause_resume_cancel_and_what_is_not_possible(app, bureau):
    later = datetime.now(UTC) + timedelta(hours=2)
    app.config["BROADCAST_APPROVAL_THRESHOLD"] = 10
    broadcast = services.submit(make(bureau, send_at=later), actor=bureau["clerk"])
    assert broadcast.status == SCHEDULED
    services.pause(broadcast, actor=bureau["clerk"])
    assert broadcast.status == PAUSED
    services.cancel(broadcast, actor=bureau["clerk"])
    with pytest.raises(services.BroadcastError):
        services.resume(broadcast, actor=bureau["clerk"])  # a cancelled broadcast stays cancelled
    assert broadcast.status == CANCELLED and texts() == 0


@pytest.mark.parametrize("kwargs, field", [
    ({"body": "   "}, "body"), ({"body": "霜" * 501}, "body"),
    ({"send_at": datetime.now(UTC) - timedelta(minutes=5)}, "send_at"),
])
def test_bad_input_is_refused_and_nothing_is_made(app, bureau, kwargs, field):
    with pytest.raises(services.BroadcastError) as refused:
        make(bureau, **kwargs)
    assert field in refused.value.errors and db.session.scalar(select(func.count(Broadcast.id))) == 0


def test_sending_runs_in_the_background_without_redis(app, bureau, monkeypatch):
    """The request that lets a broadcast go returns before the first text is sent."""
    import threading
    import uuid

    from ruralinfo.sms.gateways import SendResult
    from ruralinfo.sms.models import SENT

    monkeypatch.undo()
    app.config.update(QUIET_HOURS="", SMS_RATE=100_000, BROADCAST_APPROVAL_THRESHOLD=10)
    go = threading.Event()

    class Held:
        name = "held"

        def send(self, to, body, callback_url):
            go.wait(30)  # the gateway answers only when the test says so
            return SendResult(provider_id=f"held-{uuid.uuid4().hex}", status=SENT)

    app.extensions["sms_gateway"] = Held()
    broadcast_id = services.submit(make(bureau), actor=bureau["clerk"]).id
    assert db.session.get(Broadcast, broadcast_id).status == SENDING  # answered while the texts wait
    worker = next((t for t in threading.enumerate() if t.name == f"broadcast-{broadcast_id}"), None)
    assert worker is not None
    go.set()
    worker.join(30)
    db.session.expire_all()
    assert db.session.get(Broadcast, broadcast_id).status == DONE and texts() == 3


def test_the_daily_cap_holds_the_excess_for_the_next_day_and_urgent_alerts_pass(app, bureau, monkeypatch):
    from ruralinfo.broadcasts import sending

    app.config.update(BROADCAST_DAILY_CAP=1, BROADCAST_APPROVAL_THRESHOLD=10)
    first = services.submit(make(bureau), actor=bureau["clerk"])
    second = services.submit(make(bureau, body="第二条通知"), actor=bureau["clerk"])
    assert first.status == DONE and texts() == 3
    assert second.status == SENDING and texts() == 3  # everyone had today's routine notice: held, not dropped
    from ruralinfo.broadcasts import planning

    rules = audiences.clean(Rules(groups=["葡萄"]))
    assert planning.preview(rules, "又一条").held == 3 and planning.preview(rules, "急", urgent=True).held == 0
    alert = services.submit(make(bureau, urgent=True, body="紧急：今晚暴雨"), actor=bureau["clerk"])
    services.approve(alert, actor=bureau["approver"])
    assert alert.status == DONE and texts() == 6  # urgent: whatever the count
    tomorrow = sending.now_utc() + timedelta(days=1)
    monkeypatch.setattr(sending, "now_utc", lambda: tomorrow)
    services.sweep()
    db.session.refresh(second)
    assert second.status == DONE and texts() == 9


def test_two_routine_broadcasts_at_once_give_nobody_more_than_the_cap(app, bureau, monkeypatch):
    import threading

    from ruralinfo.broadcasts import planning, sending

    app.config.update(BROADCAST_DAILY_CAP=1)
    monkeypatch.setattr(sending, "BATCH", 1)  # many small batches, interleaved
    ids = []
    for body in ("甲通知", "乙通知"):
        broadcast = make(bureau, body=body)
        planning.plan(broadcast)
        broadcast.status = SENDING
        db.session.commit()
        ids.append(broadcast.id)
    barrier = threading.Barrier(2)

    def work(broadcast_id):
        with app.app_context():
            barrier.wait(10)
            try:
                sending.run(broadcast_id)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    phones = db.session.scalars(select(OutboundMessage.to).where(OutboundMessage.kind == BROADCAST)).all()
    assert sorted(phones) == sorted(f.phone for f in bureau["farmers"])  # one each, not two


def test_the_sweep_starts_no_second_sender_while_one_holds_the_lease(app, bureau, monkeypatch):
    from ruralinfo.timeutil import now_utc

    started = []
    monkeypatch.setattr(services, "start", started.append)
    app.config["BROADCAST_APPROVAL_THRESHOLD"] = 10
    broadcast = services.submit(make(bureau), actor=bureau["clerk"])  # "started": recorded only
    broadcast.lease_until = now_utc() + timedelta(seconds=60)  # a sender at work
    db.session.commit()
    services.sweep()
    assert started == [broadcast.id]  # the submit's start only
    broadcast.lease_until = now_utc() - timedelta(seconds=1)  # its sender stopped without a word
    db.session.commit()
    services.sweep()
    assert started == [broadcast.id, broadcast.id]


def test_a_broadcast_is_done_only_when_every_text_is_settled(app, bureau, monkeypatch):
    from ruralinfo.broadcasts import sending

    app.config["BROADCAST_APPROVAL_THRESHOLD"] = 10
    monkeypatch.setattr(services, "start", lambda broadcast_id: None)  # nobody sends yet
    broadcast = services.submit(make(bureau), actor=bureau["clerk"])
    taken = sending._take_batch(broadcast.id)
    db.session.execute(OutboundMessage.__table__.update().where(OutboundMessage.id == taken[0])
                       .values(status="unknown"))  # claimed by a sender that stopped: to be looked up
    db.session.commit()
    services.send(broadcast.id)
    db.session.refresh(broadcast)
    assert broadcast.status == SENDING and texts() == 3  # not done: that text may go again


def test_cancelling_fails_the_texts_still_waiting_with_the_reason(app, bureau, monkeypatch):
    from ruralinfo.broadcasts import sending

    app.config["BROADCAST_APPROVAL_THRESHOLD"] = 10
    monkeypatch.setattr(services, "start", lambda broadcast_id: None)
    broadcast = services.submit(make(bureau), actor=bureau["clerk"])
    sending._take_batch(broadcast.id)
    services.cancel(broadcast, actor=bureau["clerk"])
    reasons = db.session.scalars(select(OutboundMessage.last_error).where(OutboundMessage.kind == BROADCAST)).all()
    assert reasons == ["the broadcast was cancelled"] * 3


def test_a_send_job_hands_over_to_the_next_before_the_job_timeout(app, bureau, monkeypatch):
    """RQ stops a job after its timeout as hard as a kill: a job sends for its share of
    time, then the next job goes on, until everything is sent, once each."""
    from ruralinfo.broadcasts import sending

    app.config.update(BROADCAST_APPROVAL_THRESHOLD=10, SMS_RATE=1)  # a text a second: a chunk is one text
    monkeypatch.setattr(services, "JOB_SECONDS", 0)  # out of time after every chunk, however fast it went
    jobs_run = []
    real_send = services.send
    monkeypatch.setattr(services, "start", lambda broadcast_id: (jobs_run.append(broadcast_id), real_send(broadcast_id)))
    monkeypatch.setattr(sending.rate, "wait_turn", lambda gateway: 0.0)
    broadcast = services.submit(make(bureau), actor=bureau["clerk"])
    assert broadcast.status == DONE and texts() == 3
    assert len(jobs_run) >= 3  # one job a text: each handed over to the next


def test_two_approvers_at_once_release_it_once(app, bureau, make_staff):
    """Two people press Approve at the same moment: one approves, the other is told it is
    not possible now; one audit entry, each text once."""
    import threading

    second = make_staff(roles.APPROVER, name="陈静", phone="+8613911110003")
    broadcast_id = services.submit(make(bureau), actor=bureau["clerk"]).id
    approvers = [bureau["approver"].id, second.id]
    outcomes, barrier = [], threading.Barrier(2)

    def press(user_id):
        from ruralinfo.accounts.models import User

        with app.app_context():
            try:
                barrier.wait(5)
                services.approve(db.session.get(Broadcast, broadcast_id), actor=db.session.get(User, user_id))
                outcomes.append("approved")
            except services.BroadcastError as err:
                outcomes.append(err.errors.get("status", "other"))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=press, args=(user_id,)) for user_id in approvers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(outcomes) == 2 and outcomes.count("approved") == 1, outcomes
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "broadcast.approve")) == 1
    assert texts() == 3
