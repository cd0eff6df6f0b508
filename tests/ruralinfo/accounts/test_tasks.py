"""The import job: claimed once, outcome and accounts in one commit, nothing accepted lost."""
from datetime import timedelta

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from ruralinfo.accounts import bulk, identity, roles, tasks
from ruralinfo.accounts.models import User
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db
from ruralinfo.liaison.models import DONE, FAILED, PENDING, RUNNING, ImportBatch
from ruralinfo.timeutil import now_utc
from tests.conftest import CHANGXI, next_id_number, next_phone


NAMES = "甲乙丙丁戊己庚辛"


@pytest.fixture
def liaison(make_point, make_staff):
    return make_staff(roles.LIAISON, point=make_point("长溪村联络点", (CHANGXI,)))


def good_file(count: int = 2) -> tuple[bytes, list[str]]:
    numbers = [next_id_number() for _ in range(count)]
    lines = ["name,id_number,phone,region_code"] + [f"农户{NAMES[n]},{number},{next_phone()},{CHANGXI}"
                                                    for n, number in enumerate(numbers)]
    return ("\n".join(lines) + "\n").encode(), numbers


def pending(actor, data: bytes, locale: str = "en", **values) -> int:
    """A batch as the upload leaves it when the job queue is down."""
    batch = ImportBatch(actor_id=actor.id, point_id=actor.liaison_point_id, filename="farmers.csv", status=PENDING,
                        locale=locale, upload_cipher=identity.vault().encrypt_bytes(data), **values)
    db.session.add(batch)
    db.session.commit()
    return batch.id


def batch(batch_id: int) -> ImportBatch:
    db.session.expire_all()
    return db.session.get(ImportBatch, batch_id)


def farmers() -> int:
    return db.session.scalar(select(func.count(User.id)).where(User.name.startswith("农户")))


def imports_audited() -> int:
    return db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == "farmers.import"))


def test_a_job_imports_once_and_drops_the_file(liaison, db_dump):
    data, numbers = good_file()
    batch_id = pending(liaison, data)
    assert not [n for n in numbers if n in db_dump()]  # the waiting file is encrypted
    tasks.run_import(batch_id)
    tasks.run_import(batch_id)  # RQ delivers at least once
    done = batch(batch_id)
    assert (done.status, done.registered, done.attempts, done.upload_cipher) == (DONE, 2, 1, None)
    assert done.started_at <= done.finished_at
    assert farmers() == 2 and imports_audited() == 1


def test_a_refused_file_fails_the_batch_with_the_reason_in_the_uploaders_language(liaison):
    batch_id = pending(liaison, b"name,phone\n1,2\n", locale="zh")
    tasks.run_import(batch_id)
    failed = batch(batch_id)
    assert failed.status == FAILED and failed.error.startswith("缺少列：id_number, region_code")
    assert failed.upload_cipher is None and failed.finished_at is not None
    assert imports_audited() == 0


def test_a_point_suspended_meanwhile_registers_nobody(liaison):
    batch_id = pending(liaison, good_file()[0])
    liaison.liaison_point.status = "suspended"
    db.session.commit()
    tasks.run_import(batch_id)
    assert batch(batch_id).error.startswith("Your liaison point is suspended")
    assert farmers() == 0


def test_a_run_taken_over_writes_nothing(liaison):
    batch_id = pending(liaison, good_file()[0])
    first = tasks._claim(batch_id)
    db.session.execute(ImportBatch.__table__.update().where(ImportBatch.id == batch_id)
                       .values(started_at=now_utc() - timedelta(hours=1)))
    db.session.commit()
    tasks.sweep()  # the first run looks dead: the batch runs again and is imported
    assert batch(batch_id).status == DONE and farmers() == 2
    with force_locale("en"), pytest.raises(bulk.ClaimLost):
        bulk.import_file(good_file()[0], "farmers.csv", actor=liaison, channel="web", scope=[CHANGXI], claim=first)
    assert farmers() == 2 and imports_audited() == 1
    assert batch(batch_id).attempts == 2


def test_a_crash_leaves_the_batch_for_the_sweep(liaison, monkeypatch):
    batch_id = pending(liaison, good_file()[0])
    real = bulk._save

    def crash(*args, **kwargs):
        raise ConnectionError("database went away")

    monkeypatch.setattr(bulk, "_save", crash)
    with pytest.raises(ConnectionError):
        tasks.run_import(batch_id)
    db.session.rollback()
    assert batch(batch_id).status == RUNNING and farmers() == 0
    monkeypatch.setattr(bulk, "_save", real)
    assert tasks.sweep() == tasks.SweepReport(restarted=0, failed=0, dispatched=0)  # not stale yet
    report = tasks.sweep(now_utc() + tasks.STALE_RUN + timedelta(seconds=1))
    assert report == tasks.SweepReport(restarted=1, failed=0, dispatched=1)
    assert batch(batch_id).status == DONE and farmers() == 2


def test_the_sweep_gives_up_after_three_runs(liaison):
    long_ago = now_utc() - timedelta(hours=1)
    batch_id = pending(liaison, good_file()[0], locale="en")
    db.session.execute(ImportBatch.__table__.update().where(ImportBatch.id == batch_id)
                       .values(status=RUNNING, attempts=tasks.MAX_ATTEMPTS, started_at=long_ago))
    db.session.commit()
    assert tasks.sweep().failed == 1
    given_up = batch(batch_id)
    assert given_up.status == FAILED and given_up.upload_cipher is None
    assert given_up.error.startswith("The import stopped several times")


def test_the_sweep_runs_what_the_queue_never_took_and_leaves_what_it_did(liaison):
    never = pending(liaison, good_file()[0])
    queued = pending(liaison, good_file()[0], queued_at=now_utc())
    assert tasks.sweep().dispatched == 1
    assert (batch(never).status, batch(queued).status) == (DONE, PENDING)
    assert tasks.sweep(now_utc() + tasks.REQUEUE_AFTER + timedelta(seconds=1)).dispatched == 1
    assert batch(queued).status == DONE


def test_the_sweep_command(liaison, app):
    batch_id = pending(liaison, good_file()[0])
    result = app.test_cli_runner().invoke(args=["users", "import-sweep"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("1 waiting import(s) run")
    assert batch(batch_id).status == DONE
