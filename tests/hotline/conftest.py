"""Fixtures shared by the hotline's tests."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from hotline.models import MenuVersion
from ruralinfo.extensions import db


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
