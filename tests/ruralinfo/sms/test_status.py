"""The status state machine and status callbacks: out of order, late, for unknown ids."""
import itertools

import pytest
from sqlalchemy import select

from ruralinfo.extensions import db
from ruralinfo.sms import services, status
from ruralinfo.sms.models import (
    DELIVERED, FAILED, QUEUED, SENDING, SENT, UNDELIVERED, UNKNOWN, OutboundMessage, StatusEvent,
)

STATES = [QUEUED, SENDING, UNKNOWN, SENT, DELIVERED, UNDELIVERED, FAILED]
# Every move the machine allows, and no other. sending → unknown is the send job's own
# move (a time-out), never a provider's word, so it is not one of them.
FORWARD = {
    (QUEUED, SENDING), (QUEUED, UNKNOWN), (QUEUED, SENT), (QUEUED, DELIVERED), (QUEUED, UNDELIVERED), (QUEUED, FAILED),
    (SENDING, SENT), (SENDING, DELIVERED), (SENDING, UNDELIVERED), (SENDING, FAILED),
    (UNKNOWN, SENDING), (UNKNOWN, SENT), (UNKNOWN, DELIVERED), (UNKNOWN, UNDELIVERED), (UNKNOWN, FAILED),
    (SENT, DELIVERED), (SENT, UNDELIVERED), (SENT, FAILED),
}


@pytest.mark.parametrize("current, new", list(itertools.product(STATES, STATES)))
def test_every_pair_of_states(current, new):
    assert status.can_move(current, new) is ((current, new) in FORWARD)


@pytest.mark.parametrize("final", sorted(status.FINAL))
def test_a_final_state_is_never_left(final):
    assert not any(status.can_move(final, other) for other in STATES + ["bogus"])


def test_unknown_words_never_move_anything():
    assert not any(status.can_move(current, "bogus") for current in STATES)


@pytest.mark.parametrize("word, ours", [
    ("accepted", SENDING), ("scheduled", SENDING), ("queued", SENDING), ("sending", SENDING), ("sent", SENT),
    ("delivered", DELIVERED), ("read", DELIVERED), ("undelivered", UNDELIVERED), ("failed", FAILED),
    ("canceled", FAILED), (" Delivered ", DELIVERED), ("receiving", None), ("", None), (None, None),
])
def test_provider_words(word, ours):
    assert status.from_provider(word) == ours


def _message(provider_id: str, state: str = SENDING) -> OutboundMessage:
    message = services.queue_sms("+8613800138000", "通知", kind="notice", cause="test")
    message.provider_id, message.status = provider_id, state
    db.session.commit()
    return message


def _events(provider_id: str) -> list[tuple]:
    query = select(StatusEvent).where(StatusEvent.provider_id == provider_id).order_by(StatusEvent.id)
    return [(e.status, e.applied, e.message_id) for e in db.session.scalars(query)]


def test_callbacks_in_order_move_the_message(app):
    message = _message("SM" + "1" * 32)
    assert services.apply_status(message.provider_id, "sent")
    assert services.apply_status(message.provider_id, "delivered")
    assert message.status == DELIVERED
    assert _events(message.provider_id) == [("sent", True, message.id), ("delivered", True, message.id)]


def test_sent_after_delivered_is_recorded_and_ignored(app):
    message = _message("SM" + "2" * 32)
    assert services.apply_status(message.provider_id, "delivered")
    assert not services.apply_status(message.provider_id, "sent")
    assert not services.apply_status(message.provider_id, "queued")
    assert message.status == DELIVERED
    assert _events(message.provider_id) == [
        ("delivered", True, message.id), ("sent", False, message.id), ("queued", False, message.id)]


def test_a_failed_message_stays_failed_and_keeps_the_error(app):
    message = _message("SM" + "3" * 32)
    assert services.apply_status(message.provider_id, "failed", "30006")
    assert not services.apply_status(message.provider_id, "delivered")
    assert message.status == FAILED and "30006" in message.last_error


def test_a_repeated_callback_changes_nothing_the_second_time(app):
    message = _message("SM" + "4" * 32)
    assert services.apply_status(message.provider_id, "sent")
    assert not services.apply_status(message.provider_id, "sent")
    assert message.status == SENT


def test_a_callback_for_an_unknown_id_is_recorded_and_not_applied(app):
    assert not services.apply_status("SM" + "f" * 32, "delivered")
    assert _events("SM" + "f" * 32) == [("delivered", False, None)]


def test_an_unknown_status_word_is_recorded_and_not_applied(app):
    message = _message("SM" + "5" * 32)
    assert not services.apply_status(message.provider_id, "receiving")
    assert message.status == SENDING
    assert _events(message.provider_id) == [("receiving", False, message.id)]


def test_a_callback_moves_an_unknown_outcome_on(app):
    message = _message("SM" + "6" * 32, state=UNKNOWN)
    assert services.apply_status(message.provider_id, "queued")
    assert message.status == SENDING


def test_a_report_racing_the_send_is_applied_by_whichever_side_comes_second(app, monkeypatch):
    """Kannel reports within milliseconds. Here the report looked the id up just before the
    sender committed it, and the sender's replay ran just before the report was committed:
    the report, reading again after its own commit, applies itself."""
    message = _message("kannel-race", SENDING)
    assert not services.replay_early_events(message)  # the sender's replay: nothing yet
    db.session.commit()
    looked_up = []
    real = services._by_provider

    def late(provider_id):  # the first look-up ran before the sender's commit
        looked_up.append(provider_id)
        return None if len(looked_up) == 1 else real(provider_id)

    monkeypatch.setattr(services, "_by_provider", late)
    assert services.apply_status("kannel-race", "sent")
    db.session.refresh(message)
    assert message.status == SENT and _events("kannel-race") == [("sent", True, message.id)]


def test_a_late_report_about_an_earlier_attempt_leaves_a_text_queued_again_alone(app):
    """A broadcast's undelivered text queued again keeps its old provider id until it is resent."""
    message = _message("kannel-earlier", QUEUED)
    assert not services.apply_status("kannel-earlier", "sent")
    assert not services.apply_status("kannel-earlier", "delivered")
    db.session.refresh(message)
    assert message.status == QUEUED
