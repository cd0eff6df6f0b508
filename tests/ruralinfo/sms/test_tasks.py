"""The send and reconcile jobs, through the real twilio client against the local fake API,
and the command line that shows the outbox and runs the sweep."""
import json
import os
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from sqlalchemy import select

from ruralinfo import create_app, jobs
from ruralinfo.extensions import db
from ruralinfo.sms import services, tasks
from ruralinfo.sms.cli import outbox_command, sms_cli
from ruralinfo.sms.models import FAILED, QUEUED, SENDING, SENT, UNKNOWN, OutboundMessage, StatusEvent
from ruralinfo.timeutil import now_utc

from .conftest import FARMER, SENDER, SIGNATURE

REDIS = os.environ.get("TEST_REDIS_URL")
CALLBACK = "https://ruralinfo.example.org/twilio/sms/status"


def load(message_id: int) -> OutboundMessage:
    db.session.expire_all()
    return db.session.get(OutboundMessage, message_id)


def posts(fake) -> int:
    return sum(1 for method, _ in fake.requests if method == "POST")


# --- sending -------------------------------------------------------------------------------

def test_the_outbox_backend_sends_at_once(app, queue_text):
    message_id = queue_text()
    tasks.send_message(message_id)
    message = load(message_id)
    assert (message.status, message.gateway, message.attempts) == (SENT, "outbox", 1)
    assert message.provider_id.startswith("outbox-") and message.last_error == ""


def test_dispatch_without_redis_sends_inline(app, queue_text):
    message = db.session.get(OutboundMessage, queue_text())
    services.dispatch([message])
    assert load(message.id).status == SENT


def test_success_stores_the_sid_and_sends_signature_and_callback(twilio_app, fake_twilio, queue_text):
    message_id = queue_text("明天上午9点在村委会开会")
    tasks.send_message(message_id)
    message = load(message_id)
    [received] = fake_twilio.messages
    assert (message.status, message.provider_id, message.gateway) == (SENDING, received["sid"], "twilio")
    assert message.attempts == 1 and message.last_error == "" and message.next_attempt_at is None
    assert received["to"] == FARMER and received["from"] == SENDER
    assert received["body"] == SIGNATURE + "明天上午9点在村委会开会"
    assert received["status_callback"] == CALLBACK


def test_sending_twice_sends_once(twilio_app, fake_twilio, queue_text):
    message_id = queue_text()
    tasks.send_message(message_id)
    tasks.send_message(message_id)
    tasks.sweep()
    assert len(fake_twilio.messages) == 1 and posts(fake_twilio) == 1
    assert load(message_id).attempts == 1


def test_a_message_that_is_gone_is_skipped_quietly(twilio_app, fake_twilio):
    tasks.send_message(987654)
    tasks.reconcile_message(987654)
    assert fake_twilio.requests == []


def test_429_waits_then_goes_out_exactly_once(twilio_app, fake_twilio, queue_text):
    message_id = queue_text()
    fake_twilio.throttle_next()
    before = now_utc()
    tasks.send_message(message_id)
    message = load(message_id)
    assert (message.status, message.attempts) == (QUEUED, 1)
    assert "429" in message.last_error and message.provider_id is None
    assert before + timedelta(seconds=29) < message.next_attempt_at < now_utc() + timedelta(seconds=31)

    assert tasks.sweep() == tasks.SweepReport(stale=0, queued=0, unknown=0)  # not due yet
    assert posts(fake_twilio) == 1 and fake_twilio.messages == []

    report = tasks.sweep(now=message.next_attempt_at)
    message = load(message_id)
    assert report.queued == 1 and (message.status, message.attempts, message.last_error) == (SENDING, 2, "")
    assert [m["sid"] for m in fake_twilio.messages] == [message.provider_id]


def test_retries_back_off_and_give_up(twilio_app, fake_twilio, queue_text):
    message_id = queue_text()
    fake_twilio.throttle_next(times=5)
    tasks.send_message(message_id)
    delays = []
    for _ in range(4):
        message = load(message_id)
        delays.append(round((message.next_attempt_at - message.updated_at).total_seconds()))
        tasks.sweep(now=message.next_attempt_at + timedelta(seconds=1))
    message = load(message_id)
    assert delays == [30, 60, 120, 240]
    assert (message.status, message.attempts) == (FAILED, 5)
    assert "gave up after 5 attempts" in message.last_error
    assert fake_twilio.messages == [] and posts(fake_twilio) == 5


def test_a_refused_connection_leaves_it_queued_for_the_next_sweep(twilio_app, fake_twilio, queue_text):
    message_id = queue_text()
    fake_twilio.stop()
    tasks.send_message(message_id)
    message = load(message_id)
    assert message.status == QUEUED and "could not connect" in message.last_error
    fake_twilio.start()
    tasks.sweep(now=message.next_attempt_at)
    assert load(message_id).status == SENDING and len(fake_twilio.messages) == 1


def test_a_refusal_fails_with_twilios_code_and_is_not_retried(twilio_app, fake_twilio, queue_text):
    message_id = queue_text()
    fake_twilio.fail_next(400, 21211)
    tasks.send_message(message_id)
    message = load(message_id)
    assert message.status == FAILED and "21211" in message.last_error and message.provider_id is None
    tasks.sweep(now=now_utc() + timedelta(days=1))
    assert load(message_id).status == FAILED and posts(fake_twilio) == 1


def test_a_time_out_is_unknown_and_reconciled_never_resent(twilio_app, fake_twilio, queue_text):
    message_id = queue_text()
    fake_twilio.hang_next()
    tasks.send_message(message_id)
    message = load(message_id)
    assert (message.status, message.last_error, message.provider_id) == (UNKNOWN, "timed out: outcome unknown", None)
    assert message.next_attempt_at == message.updated_at + tasks.CHECK_AFTER[0]
    tasks.send_message(message_id)            # a repeated job: nothing to claim
    tasks.sweep()                             # the first check is not due yet
    assert posts(fake_twilio) == 1

    report = tasks.sweep(now=message.next_attempt_at)
    message = load(message_id)
    [received] = fake_twilio.messages
    assert report.unknown == 1 and posts(fake_twilio) == 1
    assert (message.status, message.provider_id) == (SENDING, received["sid"])
    assert message.next_attempt_at is None and "found" in message.last_error
    assert services.apply_status(received["sid"], "delivered")  # callbacks now find it


def test_reconcile_finds_the_message_with_its_current_status(twilio_app, fake_twilio, queue_text):
    message_id = queue_text()
    fake_twilio.hang_next()
    tasks.send_message(message_id)
    fake_twilio.set_status(fake_twilio.messages[0]["sid"], "delivered")
    tasks.reconcile_message(message_id)
    message = load(message_id)
    assert message.status == "delivered" and message.provider_id == fake_twilio.messages[0]["sid"]


def test_a_message_twilio_never_created_fails_after_the_last_check(twilio_app, fake_twilio, queue_text):
    message_id = queue_text()
    fake_twilio.hang_next()
    tasks.send_message(message_id)
    fake_twilio.messages.clear()  # as if the request died before Twilio stored anything
    attempted_at = load(message_id).updated_at
    for check, after in enumerate(tasks.CHECK_AFTER[1:], start=1):
        tasks.reconcile_message(message_id)
        message = load(message_id)
        assert message.status == UNKNOWN, check
        assert (message.updated_at, message.next_attempt_at) == (attempted_at, attempted_at + after)
    tasks.reconcile_message(message_id)
    message = load(message_id)
    assert message.status == FAILED
    assert message.last_error == f"not accepted by the provider (checked {len(tasks.CHECK_AFTER)} times)"
    assert posts(fake_twilio) == 1


def test_a_message_that_shows_up_late_is_found_on_a_later_check(twilio_app, fake_twilio, queue_text):
    message_id = queue_text()
    fake_twilio.hang_next()
    tasks.send_message(message_id)
    record = fake_twilio.messages.pop()
    tasks.reconcile_message(message_id)
    assert load(message_id).status == UNKNOWN
    fake_twilio.messages.append(record)
    tasks.reconcile_message(message_id)
    assert load(message_id).provider_id == record["sid"]


def test_the_same_text_twice_is_matched_to_the_right_sid(twilio_app, fake_twilio, queue_text):
    first, second = queue_text("帮助: 发送 卖 …"), queue_text("帮助: 发送 卖 …")
    tasks.send_message(first)
    earlier = datetime.now(UTC) - timedelta(seconds=10)  # the farmer asked twice, ten seconds apart
    fake_twilio.messages[0]["date_created"] = format_datetime(earlier.replace(microsecond=0))
    fake_twilio.hang_next()
    tasks.send_message(second)
    tasks.reconcile_message(second)
    sids = [m["sid"] for m in fake_twilio.messages]
    assert [load(first).provider_id, load(second).provider_id] == sids


def test_a_failed_lookup_keeps_it_unknown(twilio_app, fake_twilio, queue_text):
    message_id = queue_text()
    fake_twilio.hang_next()
    tasks.send_message(message_id)
    before = load(message_id)
    due = before.next_attempt_at
    fake_twilio.stop()
    tasks.reconcile_message(message_id)
    message = load(message_id)
    assert (message.status, message.next_attempt_at) == (UNKNOWN, due)
    fake_twilio.start()
    tasks.reconcile_message(message_id)
    assert load(message_id).provider_id == fake_twilio.messages[0]["sid"]


def test_an_early_callback_is_applied_once_the_sid_is_stored(twilio_app, fake_twilio, queue_text):
    """Twilio's callback can overtake its answer to the create request."""
    def callback_first(record):  # runs in the fake's thread before it answers
        with twilio_app.app_context():
            assert not services.apply_status(record["sid"], "delivered")

    fake_twilio.on_create = callback_first
    message_id = queue_text()
    tasks.send_message(message_id)
    message = load(message_id)
    [event] = db.session.scalars(select(StatusEvent)).all()
    assert message.status == "delivered"
    assert (event.provider_id, event.message_id, event.applied) == (message.provider_id, message_id, True)


def test_a_send_abandoned_mid_way_is_looked_up_not_resent(twilio_app, fake_twilio, queue_text):
    message_id = queue_text()
    claimed = now_utc() - timedelta(minutes=6)
    db.session.execute(OutboundMessage.__table__.update().where(OutboundMessage.id == message_id)
                       .values(status=SENDING, attempts=1, updated_at=claimed))
    db.session.commit()
    report = tasks.sweep()
    message = load(message_id)
    assert report.stale == 1 and report.unknown == 1 and report.queued == 0
    assert message.status == UNKNOWN and message.updated_at == claimed
    assert message.next_attempt_at == claimed + tasks.CHECK_AFTER[3]  # checks at 30 s, 2 and 5 min are past
    assert posts(fake_twilio) == 0


def test_sweep_leaves_future_and_final_messages_alone(app, queue_text):
    later, done = queue_text("later"), queue_text("done")
    tasks.send_message(done)
    db.session.execute(OutboundMessage.__table__.update().where(OutboundMessage.id == later)
                       .values(next_attempt_at=now_utc() + timedelta(hours=8)))
    db.session.commit()
    assert tasks.sweep() == tasks.SweepReport(stale=0, queued=0, unknown=0)
    assert load(later).status == QUEUED


# --- with Redis: retries and checks are scheduled on RQ ----------------------------------------

@pytest.fixture
def redis_twilio_app(twilio_config):
    from rq.registry import ScheduledJobRegistry

    app = create_app({**twilio_config, "REDIS_URL": REDIS, "SMS_RETRY_DELAY": 1})
    with app.app_context():
        queue = jobs.queue()
        queue.empty()
        registry = ScheduledJobRegistry(queue=queue)
        for job_id in registry.get_job_ids():
            registry.remove(job_id, delete_job=True)
        yield app
        queue.empty()
        db.session.remove()
        db.engine.dispose()


def _work() -> None:
    jobs.make_worker().work(burst=True, with_scheduler=True)  # the worker `flask worker` runs
    db.session.expire_all()


@pytest.mark.skipif(not REDIS, reason="TEST_REDIS_URL is not set (.ci/run sets it)")
def test_with_redis_a_throttled_send_is_retried_by_the_scheduler(redis_twilio_app, fake_twilio, queue_text):
    from rq.registry import ScheduledJobRegistry

    message_id = queue_text()
    fake_twilio.throttle_next()
    services.dispatch([db.session.get(OutboundMessage, message_id)])
    assert load(message_id).status == QUEUED and posts(fake_twilio) == 0  # waits for a worker
    _work()
    message = load(message_id)
    assert message.status == QUEUED and posts(fake_twilio) == 1
    assert len(ScheduledJobRegistry(queue=jobs.queue())) == 1
    time.sleep(max((message.next_attempt_at - now_utc()).total_seconds(), 0) + 1.1)
    _work()
    message = load(message_id)
    assert message.status == SENDING and [m["sid"] for m in fake_twilio.messages] == [message.provider_id]


@pytest.mark.skipif(not REDIS, reason="TEST_REDIS_URL is not set (.ci/run sets it)")
def test_with_redis_a_time_out_schedules_a_check_not_a_send(redis_twilio_app, fake_twilio, queue_text):
    from rq.registry import ScheduledJobRegistry

    message_id = queue_text()
    fake_twilio.hang_next()
    tasks.send_message(message_id)
    registry = ScheduledJobRegistry(queue=jobs.queue())
    [job_id] = registry.get_job_ids()
    job = jobs.queue().fetch_job(job_id)
    assert job.func_name == "ruralinfo.sms.tasks.reconcile_message" and job.args == (message_id,)
    assert load(message_id).status == UNKNOWN


@pytest.mark.skipif(not REDIS, reason="TEST_REDIS_URL is not set (.ci/run sets it)")
def test_with_redis_texts_made_together_go_in_batches_each_once(redis_twilio_app, fake_twilio, queue_text):
    ids = [queue_text(f"通知{n}", to=f"+86138001380{n:02d}", kind="notice") for n in range(23)]
    tasks.send_message(ids[3])  # one of them went already (a job of its own ran first)
    services.dispatch([db.session.get(OutboundMessage, one) for one in ids])
    queued = [jobs.queue().fetch_job(job_id) for job_id in jobs.queue().job_ids]
    assert [(job.func_name, len(job.args[0])) for job in queued] == [("ruralinfo.sms.tasks.send_batch", 10)] * 2 + [
        ("ruralinfo.sms.tasks.send_batch", 2)]  # 22 still queued: ids[3] was no longer due
    _work()
    assert sorted(m["body"] for m in fake_twilio.messages) == sorted(f"{SIGNATURE}通知{n}" for n in range(23))
    assert {load(one).status for one in ids} == {SENDING}


# --- the command line ---------------------------------------------------------------------------

def test_outbox_lists_newest_first_with_json_fields(app, queue_text):
    first, second = queue_text("第一条"), queue_text("Hello €", to="+8613900139000", kind="reply")
    tasks.send_message(first)
    result = app.test_cli_runner().invoke(outbox_command, ["--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert [m["id"] for m in listed] == [second, first]
    assert listed[1]["body"] == "第一条" and "第一条" in result.output  # not \u-escaped
    assert {"id", "to", "body", "status", "created_at", "kind", "segments", "encoding", "provider_id",
            "attempts", "last_error"} <= set(listed[0])
    assert listed[0]["to"] == "+8613900139000" and listed[0]["status"] == QUEUED and listed[0]["kind"] == "reply"
    assert listed[1]["status"] == SENT and listed[1]["provider_id"].startswith("outbox-")
    assert listed[0]["created_at"].endswith("+00:00") and listed[0]["segments"] == 1
    assert listed[0]["encoding"] == "UCS-2"  # the Chinese signature is counted in


@pytest.mark.parametrize("written", ["13800138000", "138 0013 8000", "+86 138-0013-8000", "０１３８００１３８０００",
                                     "１３８００１３８０００", "008613800138000"])
def test_outbox_to_accepts_any_way_of_writing_the_number(app, queue_text, written):
    mine, other = queue_text("给我的"), queue_text("别人的", to="+8613900139000")
    result = app.test_cli_runner().invoke(outbox_command, ["--to", written, "--json"])
    assert result.exit_code == 0, result.output
    assert [m["id"] for m in json.loads(result.output)] == [mine]
    assert other


def test_outbox_text_lines_and_limit(app, queue_text):
    for n in range(3):
        queue_text(f"通知 {n}")
    result = app.test_cli_runner().invoke(outbox_command, ["--limit", "2"])
    lines = result.output.splitlines()
    assert result.exit_code == 0 and len(lines) == 2
    assert "通知 2" in lines[0] and FARMER in lines[0] and "queued" in lines[0]


def test_outbox_rejects_a_bad_number(app):
    result = app.test_cli_runner().invoke(outbox_command, ["--to", "12"])
    assert result.exit_code == 2 and "not a valid phone number" in result.output


def test_sms_sweep_command_sends_what_is_due(app, queue_text):
    message_id = queue_text()
    result = app.test_cli_runner().invoke(sms_cli, ["sweep"])
    assert result.exit_code == 0, result.output
    assert "1 queued" in result.output and load(message_id).status == SENT


def test_an_opt_out_stops_texts_already_queued(app, make_farmer):
    """Queued before the farmer sent TD, sent after: it must not go out."""
    from ruralinfo.accounts import services as accounts
    from ruralinfo.sms import services as sms_services
    from ruralinfo.sms import tasks as sms_tasks
    from ruralinfo.sms.models import FAILED as FAILED_STATUS

    farmer = make_farmer()
    notice = sms_services.queue_sms(farmer.phone, "明天有霜冻", kind="notice", user=farmer)
    reply = sms_services.queue_sms(farmer.phone, "您已退订", kind="reply", user=farmer)
    db.session.commit()
    accounts.set_sms_opt_out(farmer, True, actor=farmer, channel="sms")
    sms_tasks.send_message(notice.id)
    sms_tasks.send_message(reply.id)
    db.session.expire_all()
    assert db.session.get(type(notice), notice.id).status == FAILED_STATUS
    assert db.session.get(type(reply), reply.id).status == "sent"  # essential texts still go
