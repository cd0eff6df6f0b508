"""The audit log is append-only, in the app and in the database itself."""
import logging

import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import DatabaseError

from ruralinfo.accounts import identity, roles
from ruralinfo.audit import services as audit
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db
from tests.conftest import CHANGXI, next_id_number, next_phone


def test_the_app_refuses_to_change_or_delete_an_entry(app, make_farmer):
    make_farmer()
    entry = db.session.scalar(select(AuditEntry))
    entry.action = "something.else"
    with pytest.raises(audit.AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.scalar(select(AuditEntry)))
    with pytest.raises(audit.AuditLogIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    assert db.session.scalar(select(AuditEntry)).action == "farmer.register"


@pytest.mark.parametrize("statement", ["UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"])
def test_the_database_refuses_too(app, make_farmer, statement):
    make_farmer()
    with pytest.raises(DatabaseError, match="append-only"):
        with db.engine.begin() as conn:
            conn.execute(text(statement))
    assert db.session.scalar(select(AuditEntry)).action == "farmer.register"


def test_before_and_after_keep_only_what_changed(app, make_staff):
    user = make_staff(roles.STAFF)
    entry = audit.record("account.test", user, before={"a": 1, "b": 2}, after={"a": 1, "b": 3})
    db.session.commit()
    assert entry.details == {"before": {"b": 2}, "after": {"b": 3}}


def test_no_id_number_reaches_a_log_line_or_a_sql_parameter(app, client, make_point, make_staff, login, caplog):
    """Whatever an operator could switch on — every log record at DEBUG, every SQL
    statement with its parameters — holds no ID number, good or mistyped."""
    point = make_point("长溪村联络点", (CHANGXI,))
    login(make_staff(roles.LIAISON, point=point))
    number, bad = next_id_number(), "330282197205090311"
    sent: list[str] = []

    def record_sql(_conn, _cursor, statement, parameters, _context, _many):
        sent.append(f"{statement} {parameters!r}")

    caplog.set_level(logging.DEBUG)
    event.listen(db.engine, "before_cursor_execute", record_sql)
    try:
        client.post("/liaison/check", data={"field": "id_number", "value": bad})
        for value in (number, bad):
            client.post("/liaison/farmers/new", data={"name": "陈阿毛", "id_number": value, "phone": next_phone(),
                                                      "region_code": CHANGXI, "language": "zh", "consent": "y"})
    finally:
        event.remove(db.engine, "before_cursor_execute", record_sql)
    everything = "\n".join(sent) + caplog.text
    assert any(s.startswith("INSERT INTO users") for s in sent)  # the registration went to the database
    assert number not in everything and bad not in everything
