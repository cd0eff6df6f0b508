"""Posts expire after POST_DAYS: one warning three days before, RENEW keeps them, then they close."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from mailbox import post_expiry
from mailbox import services as mailbox
from mailbox.models import Letter
from ruralinfo.extensions import db
from ruralinfo.timeutil import now_utc
from tests.conftest import CHANGXI


def test_one_warning_then_the_post_closes_unless_renewed(app, make_farmer, text_in):
    farmer = make_farmer(region_code=CHANGXI)
    kept = mailbox.create_post(farmer, "sell", "土豆 500斤", channel="web")
    lapsing = mailbox.create_post(farmer, "sell", "玉米 2吨", channel="web")
    soon = now_utc() + timedelta(days=2)
    kept.expires_at = lapsing.expires_at = soon
    db.session.commit()
    assert post_expiry.sweep() == (2, 0)
    assert post_expiry.sweep() == (0, 0)  # once
    warnings = db.session.scalars(select(Letter).where(Letter.recipient_id == farmer.id,
                                                       Letter.body.contains("续期"))).all()
    assert len(warnings) == 2
    text_in(farmer.phone, f"续期 {kept.id}")
    assert "至" in text_in(farmer.phone, "我的")[1]  # MY says until when
    assert post_expiry.sweep(now=soon + timedelta(minutes=1)) == (0, 1)
    db.session.expire_all()
    assert (kept.status, lapsing.status, lapsing.outcome) == ("open", "closed", "expired")
