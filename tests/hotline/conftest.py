"""Fixtures shared by the hotline's tests."""
from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select, text

from hotline.models import MenuVersion
from ruralinfo.extensions import db
from tests.fakes.twilio_api import FakeTwilio

ACCOUNT_SID = "AC" + uuid.UUID(int=0x12316).hex  # the account of the fake Twilio the hotline's tests talk to
AUTH_TOKEN = "fake-auth-token-" + "7" * 16


@pytest.fixture
def fake_twilio():
    """Twilio's REST API (calls, recordings) on a free local port, driven by the real client."""
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake:
        yield fake


@pytest.fixture
def menu_restored(app):
    """PostgreSQL keeps the shipped menu between tests: put it back as it was."""
    yield
    db.session.rollback()
    if db.engine.dialect.name == "postgresql":
        first = db.session.scalar(select(func.min(MenuVersion.id)))
        db.session.execute(text("DELETE FROM hotline_menu_versions WHERE id <> :id"), {"id": first})
        db.session.execute(text("UPDATE hotline_menu_versions SET status = 'published' WHERE id = :id"),
                           {"id": first})
        db.session.commit()
