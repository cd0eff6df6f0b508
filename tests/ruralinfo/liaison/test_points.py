"""The rules of ``ruralinfo.liaison.points`` that only show when two clerks act at once."""
from __future__ import annotations

import threading

from sqlalchemy import func, select

from ruralinfo.accounts import roles
from ruralinfo.accounts.models import User
from ruralinfo.extensions import db
from ruralinfo.liaison import points
from ruralinfo.liaison.models import ACTIVE, LiaisonPoint, point_regions
from tests.conftest import CHANGXI


def test_two_clerks_giving_one_village_to_two_new_points_at_once_make_only_one(app, make_staff, monkeypatch):
    """Each clerk reads "nobody serves 长溪村" before either writes — unless the first one's
    lock on the township makes the second wait, and then read the first one's point."""
    admin_id = make_staff(roles.ADMIN, name="管理员").id
    read = threading.Barrier(2, timeout=2)
    real_overlaps = points.overlaps

    def overlaps_then_wait(*args, **kwargs):
        found = real_overlaps(*args, **kwargs)
        try:
            read.wait()  # without the lock both clerks get here before either writes
        except threading.BrokenBarrierError:
            pass  # the other clerk is waiting for our lock: go on alone
        return found

    monkeypatch.setattr(points, "overlaps", overlaps_then_wait)
    start = threading.Barrier(2)
    results: list = [None, None]

    def create(index: int) -> None:
        with app.app_context():
            start.wait()
            try:
                points.create(points.PointData(name=f"联络点{index}", region_codes=[CHANGXI]),
                              actor=db.session.get(User, admin_id), channel="cli")
                results[index] = "created"
            except points.PointError as err:
                db.session.rollback()
                results[index] = err.errors
            finally:
                db.session.remove()

    threads = [threading.Thread(target=create, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    db.session.expire_all()
    serving = db.session.scalar(select(func.count()).select_from(point_regions)
                                .join(LiaisonPoint, LiaisonPoint.id == point_regions.c.point_id)
                                .where(point_regions.c.region_code == CHANGXI, LiaisonPoint.status == ACTIVE))
    assert serving == 1
    assert results.count("created") == 1
    refused = next(result for result in results if result != "created")
    assert "already served" in refused["region_codes"]
