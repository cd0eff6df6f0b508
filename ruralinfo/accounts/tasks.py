"""Spreadsheet imports from the liaison console, run as jobs.

The request only keeps the file, encrypted (it holds ID numbers), in a pending
``ImportBatch`` and hands the batch's id to ``run_import``; the liaison watches
the batch's page. The job claims the batch with a guarded UPDATE, so a second
delivery finds nothing to do, and records the outcome in the same commit as the
new accounts, dropping the file. Nothing accepted is lost: with Redis down the
batch stays pending until "Try again" or ``sweep`` runs it, and a batch whose
worker died is run again by ``sweep``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update

from ruralinfo import jobs
from ruralinfo.accounts import bulk, identity, importing
from ruralinfo.accounts.models import User
from ruralinfo.audit import services as audit
from ruralinfo.extensions import db
from ruralinfo.liaison import rules
from ruralinfo.liaison import services as liaison
from ruralinfo.liaison.models import FAILED, PENDING, RUNNING, ImportBatch
from ruralinfo.timeutil import now_utc

log = logging.getLogger(__name__)

STALE_RUN = timedelta(minutes=10)      # RQ stops a job after 3 minutes; reading is capped at 30 s
REQUEUE_AFTER = timedelta(minutes=10)  # a queued batch no worker took: its job may be lost
MAX_ATTEMPTS = 3
GAVE_UP = _l("The import stopped several times before it finished, and nobody from this file was "
             "registered. Import the file again later, or ask the bureau.")


def submit(data: bytes, filename: str, *, actor: User, locale: str) -> ImportBatch:
    """Keep an uploaded file as a pending batch of ``actor`` and hand it to a job.

    Raises ``importing.ImportFileError`` for a file over the size limit (nothing
    is kept). The report will be written in ``locale``."""
    importing.check_size(data)
    batch = ImportBatch(actor_id=actor.id, point_id=actor.liaison_point_id, filename=(filename or "upload")[:200],
                        status=PENDING, locale=locale[:8], upload_cipher=identity.vault().encrypt_bytes(data))
    db.session.add(batch)
    db.session.commit()
    dispatch(batch.id)
    return batch


def dispatch(batch_id: int) -> bool:
    """Hand a pending batch to the job queue (without Redis: run it now).

    False when the queue is down: the batch stays pending, for "Try again" or ``sweep``."""
    try:
        jobs.enqueue(run_import, batch_id)
    except jobs.JobQueueUnavailable:
        log.warning("import batch %s stays pending: job queue unavailable", batch_id)
        return False
    db.session.execute(update(ImportBatch).where(ImportBatch.id == batch_id, ImportBatch.status == PENDING)
                       .values(queued_at=now_utc()).execution_options(synchronize_session=False))
    db.session.commit()
    return True


def run_import(batch_id: int) -> None:
    """The job: import a pending batch's file, once."""
    claim = _claim(batch_id)
    if claim is None:
        return  # done, failed, being run, or gone
    batch = db.session.get(ImportBatch, batch_id)
    actor = db.session.get(User, batch.actor_id) if batch.actor_id else None
    with force_locale(batch.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        data = identity.vault().decrypt_bytes(batch.upload_cipher)
        try:
            bulk.import_file(data, batch.filename, actor=actor, channel=audit.WEB,
                             scope=liaison.scope_of(actor) if actor else [], consent_method="import", claim=claim)
        except (importing.ImportFileError, rules.PointSuspended) as err:  # checked again when the job runs
            db.session.rollback()
            _fail(claim, str(err))
        except bulk.ClaimLost:
            log.warning("import batch %s: taken over by another run, this one's work undone", batch_id)


@dataclass(frozen=True)
class SweepReport:
    restarted: int  # runs abandoned mid-way, pending again
    failed: int     # abandoned too often: failed
    dispatched: int  # pending batches handed to run_import
    expired: int = 0  # rejected-rows files deleted after REJECTS_KEPT


def sweep(now: datetime | None = None) -> SweepReport:
    """Run again what waits: batches whose worker died, batches the queue never took.

    For operators (``flask --app wsgi users import-sweep``, e.g. from cron). With
    the queue down, the batches are imported right here. Safe to run twice."""
    now = now or now_utc()
    stale = db.session.execute(select(ImportBatch.id, ImportBatch.attempts, ImportBatch.locale).where(
        ImportBatch.status == RUNNING, ImportBatch.started_at < now - STALE_RUN)).all()
    restarted = failed = 0
    for batch_id, attempts, locale in stale:
        claim = bulk.Claim(batch_id, attempts)
        if attempts >= MAX_ATTEMPTS:
            with force_locale(locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
                failed += bulk.finish_batch(claim, status=FAILED, error=str(GAVE_UP))
        else:
            restarted += bulk.update_claimed(claim, status=PENDING, queued_at=None)
    db.session.commit()
    due = db.session.scalars(select(ImportBatch.id).where(
        ImportBatch.status == PENDING,
        or_(ImportBatch.queued_at.is_(None), ImportBatch.queued_at < now - REQUEUE_AFTER))
        .order_by(ImportBatch.id)).all()
    for batch_id in due:
        if not dispatch(batch_id):
            run_import(batch_id)
    return SweepReport(restarted=restarted, failed=failed, dispatched=len(due), expired=expire_rejects(now))


def expire_rejects(now: datetime | None = None) -> int:
    """Delete the rejected-rows files older than ``REJECTS_KEPT``: they hold full ID
    numbers (they must, to be fixed and imported again), so they are kept only a week."""
    now = now or now_utc()
    result = db.session.execute(update(ImportBatch).where(
        ImportBatch.rejects_cipher.is_not(None), ImportBatch.created_at < now - liaison.REJECTS_KEPT)
        .values(rejects_cipher=None).execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount


# --- steps -------------------------------------------------------------------------------

def _claim(batch_id: int) -> bulk.Claim | None:
    result = db.session.execute(
        update(ImportBatch).where(ImportBatch.id == batch_id, ImportBatch.status == PENDING)
        .values(status=RUNNING, attempts=ImportBatch.attempts + 1, started_at=now_utc())
        .execution_options(synchronize_session=False))
    attempt = db.session.scalar(select(ImportBatch.attempts).where(ImportBatch.id == batch_id))
    db.session.commit()
    return bulk.Claim(batch_id, attempt) if result.rowcount == 1 else None


def _fail(claim: bulk.Claim, message: str) -> None:
    """A file that can't be imported: say why on the batch, drop the file."""
    if bulk.finish_batch(claim, status=FAILED, error=message):
        log.info("import batch %s refused: %s", claim.batch_id, message)
    db.session.commit()
