"""What a liaison may see and do: their point's villages and its farmers."""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import lazyload

from ruralinfo import exports
from ruralinfo.accounts import identity
from ruralinfo.accounts import services as accounts
from ruralinfo.accounts.models import User
from ruralinfo.audit import services as audit
from ruralinfo.extensions import db
from ruralinfo.liaison.models import ACTIVE, ImportBatch, LiaisonPoint, point_regions
from ruralinfo.regions import services as regions
from ruralinfo.regions.models import TOWNSHIP, VILLAGE, Region
from ruralinfo.timeutil import now_utc

EXPORT_COLUMNS = (_l("Full name"), _l("ID number (masked)"), _l("Mobile number"), _l("Region code"), _l("Village"),
                  _l("Interest groups"), _l("Language for SMS"), _l("ID card seen"), _l("Active"),
                  _l("Stopped SMS notices"), _l("Registered (%(zone)s)"))


def point_of(user: User) -> LiaisonPoint | None:
    return db.session.get(LiaisonPoint, user.liaison_point_id) if user.liaison_point_id else None


def point_serving(region_code: str | None, *, active_only: bool = True) -> LiaisonPoint | None:
    """The liaison point that serves ``region_code`` (a village, or its township):
    one indexed query on the code and its prefixes, most specific first. With
    ``active_only=False`` a suspended point is found too (to say why a text went
    to the bureau)."""
    if not region_code:
        return None
    prefixes = [region_code[:n] for n in (12, 9, 6, 4, 2) if n <= len(region_code)]
    stmt = (select(LiaisonPoint).join(point_regions, point_regions.c.point_id == LiaisonPoint.id)
            .where(point_regions.c.region_code.in_(prefixes))
            .order_by(func.length(point_regions.c.region_code).desc(), LiaisonPoint.status != ACTIVE,
                      LiaisonPoint.id).limit(1)
            .options(lazyload(LiaisonPoint.regions)))  # its villages only if asked for: a text needs the point
    if active_only:
        stmt = stmt.where(LiaisonPoint.status == ACTIVE)
    return db.session.scalar(stmt)


def scope_of(user: User) -> list[str]:
    """The region codes a liaison may see: their point's villages (nothing without a point)."""
    point = point_of(user)
    return point.region_codes if point else []


def villages_of(point: LiaisonPoint) -> list[Region]:
    """The regions a farmer of this point can live in: its villages, or a township
    whose villages are not loaded."""
    result: list[Region] = []
    for region in point.regions:
        if region.level == VILLAGE:
            result.append(region)
        elif region.level == TOWNSHIP:
            inside = regions.children(region.code)
            result.extend(inside or [region])
    return result


def recent_batches(user: User, limit: int = 10) -> list[ImportBatch]:
    """The liaison's own latest imports."""
    return list(db.session.scalars(select(ImportBatch).where(ImportBatch.actor_id == user.id)
                                   .order_by(ImportBatch.id.desc()).limit(limit)))


REJECTS_KEPT = timedelta(days=7)  # the rejected rows hold full ID numbers: a week, then gone


def rejected_rows(batch: ImportBatch) -> bytes | None:
    """The rejected rows of an import as CSV, or None when there are none or they are
    older than a week (deleted by the sweep; refused here even before it ran)."""
    if not batch.rejects_cipher or batch.created_at < now_utc() - REJECTS_KEPT:
        return None
    return identity.vault().decrypt_bytes(batch.rejects_cipher)


def export_csv(scope: list[str], *, actor: User) -> bytes:
    """The farmers in ``scope`` as CSV (UTF-8 with BOM for Excel), ID numbers masked,
    every cell safe to open in a spreadsheet (``ruralinfo.exports``)."""
    names: dict[str, str] = {}
    rows = db.session.scalars(accounts.farmers(scope).order_by(None).order_by(User.region_code, User.name))
    lines = []
    for user in rows:
        if user.region_code not in names:
            names[user.region_code] = regions.full_name(user.region, TOWNSHIP)
        lines.append([user.name, user.id_masked, exports.phone_cell(user.phone), user.region_code,
                      names[user.region_code], ";".join(g.name_zh for g in user.groups), user.language,
                      exports.yes_no(user.verified_at is not None), exports.yes_no(user.active),
                      exports.yes_no(user.sms_opt_out), exports.local_time(user.registered_at)])
    audit.record("farmers.export", ("liaison_points", actor.liaison_point_id), actor=actor,
                 channel=audit.WEB, details={"rows": len(lines)})
    db.session.commit()
    zone = current_app.config["TIMEZONE"]
    header = [str(label) % {"zone": zone} if "%(zone)s" in str(label) else str(label) for label in EXPORT_COLUMNS]
    return exports.csv_bytes(header, lines)
