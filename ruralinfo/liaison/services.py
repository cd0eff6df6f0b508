"""What a liaison may see and do: their point's villages and its farmers."""
from __future__ import annotations

from sqlalchemy import select

from ruralinfo import exports
from ruralinfo.accounts import services as accounts
from ruralinfo.accounts.models import User
from ruralinfo.audit import services as audit
from ruralinfo.extensions import db
from ruralinfo.liaison.models import ImportBatch, LiaisonPoint
from ruralinfo.regions import services as regions
from ruralinfo.regions.models import TOWNSHIP, VILLAGE, Region

EXPORT_COLUMNS = ("name", "id_masked", "phone", "region_code", "village", "groups", "language",
                  "verified", "active", "sms_opt_out", "registered_at")


def point_of(user: User) -> LiaisonPoint | None:
    return db.session.get(LiaisonPoint, user.liaison_point_id) if user.liaison_point_id else None


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
                      int(user.verified_at is not None), int(user.active), int(user.sms_opt_out),
                      user.registered_at.isoformat(timespec="seconds")])
    audit.record("farmers.export", ("liaison_points", actor.liaison_point_id), actor=actor,
                 channel=audit.WEB, details={"rows": len(lines)})
    db.session.commit()
    return exports.csv_bytes(EXPORT_COLUMNS, lines)
