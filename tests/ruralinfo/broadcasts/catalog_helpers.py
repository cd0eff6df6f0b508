"""A fixture for tests that add, edit or retire broadcast topics and templates: on
PostgreSQL those tables keep the shipped rows between tests (see ``keep`` in
tests/conftest.py), so whatever a test changed is put back as it was."""
from __future__ import annotations

import pytest
from sqlalchemy import delete, select

from ruralinfo.broadcasts.models import Broadcast, Template, Topic
from ruralinfo.extensions import db


def _rows(table) -> dict[int, dict]:
    return {row["id"]: dict(row) for row in db.session.execute(select(table)).mappings()}


def _put_back(table, saved: dict[int, dict], *, drop_others: bool = True) -> None:
    if drop_others:
        db.session.execute(delete(table).where(table.c.id.not_in(list(saved))))
    present = set(db.session.scalars(select(table.c.id)))
    for ident, row in saved.items():
        if ident in present:
            db.session.execute(table.update().where(table.c.id == ident).values(**row))
        else:
            db.session.execute(table.insert().values(**row))


@pytest.fixture
def shipped_catalog(app):
    """Topics and templates as shipped, put back after the test."""
    topics, templates = _rows(Topic.__table__), _rows(Template.__table__)
    yield
    db.session.rollback()
    # a broadcast of a topic the test added would keep that topic from going
    db.session.execute(delete(Broadcast).where(Broadcast.topic_id.not_in(list(topics))))
    _put_back(Topic.__table__, topics, drop_others=False)  # first, for the templates that refer to them
    _put_back(Template.__table__, templates)
    db.session.execute(delete(Topic).where(Topic.id.not_in(list(topics))))
    db.session.commit()
