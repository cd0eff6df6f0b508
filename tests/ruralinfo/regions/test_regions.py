"""The shipped region tree, prefix queries and loading a county's villages."""
import pytest
from sqlalchemy import func, select, text

from ruralinfo.accounts.models import User
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db
from ruralinfo.regions import services as regions
from ruralinfo.regions.models import Region
from tests.conftest import BALI, CHANGXI, OTHER_TOWNSHIP

VILLAGES_CSV = ("code,name,streetCode,areaCode,cityCode,provinceCode\n"
                '330282107201,"甲村",330282107,330282,3302,33\n'
                '330282107202,"乙村",330282107,330282,3302,33\n')


def test_the_tree_ships_every_level(app):
    counts = dict(db.session.execute(select(Region.level, func.count()).group_by(Region.level)).all())
    assert counts == {1: 31, 2: 342, 3: 2978, 4: 41352, 5: 15}
    chain = [r.name for r in regions.path(db.session.get(Region, CHANGXI))]
    assert chain == ["浙江省", "宁波市", "慈溪市", "掌起镇", "长溪村"]


def test_codes_that_look_alike_stay_apart(app):
    # 东莞市 is both a prefecture (4419) and a county-level entry (441900); 金门县 has a township 350527000.
    assert db.session.get(Region, "4419").level == 2 and db.session.get(Region, "441900").level == 3
    assert db.session.get(Region, "350527000").level == 4
    assert regions.get("330282104000").code == "330282104"  # NBS zero-padded form is understood


def test_everyone_under_a_county_is_one_query(app, make_farmer):
    inside = [make_farmer(region_code=CHANGXI), make_farmer(region_code=BALI),
              make_farmer(region_code=OTHER_TOWNSHIP)]
    stmt = select(User.id).where(regions.within(User.region_code, "330282"))
    assert sorted(db.session.scalars(stmt)) == sorted(u.id for u in inside)
    assert db.session.scalars(select(User.id).where(regions.within(User.region_code, "3302821042"))).all() \
        == sorted(u.id for u in inside[:2])
    assert db.session.scalars(select(User.id).where(regions.within(User.region_code, "330281"))).all() == []


def test_the_prefix_query_uses_the_region_index(app):
    stmt = select(User.id).where(regions.within(User.region_code, "330282"))
    sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
    with db.engine.connect() as conn:
        if db.engine.dialect.name == "sqlite":
            plan = " ".join(str(row) for row in conn.execute(text("EXPLAIN QUERY PLAN " + sql)))
            assert "ix_users_region_code" in plan and "region_code>" in plan.replace(" ", "")
        else:
            conn.execute(text("SET enable_seqscan = off"))  # an empty table would be scanned otherwise
            plan = " ".join(row[0] for row in conn.execute(text("EXPLAIN " + sql)))
            assert "ix_users_region_code" in plan


def test_loading_villages_twice_changes_nothing(app, tmp_path):
    runner = app.test_cli_runner()
    path = tmp_path / "villages.csv"
    path.write_text(VILLAGES_CSV, encoding="utf-8")
    first = runner.invoke(args=["regions", "load", str(path)])
    assert first.exit_code == 0 and "2 villages added" in first.output
    second = runner.invoke(args=["regions", "load", str(path)])
    assert second.exit_code == 0 and "0 villages added, 2 already loaded" in second.output
    assert [r.name for r in regions.children(OTHER_TOWNSHIP)] == ["甲村", "乙村"]
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "regions.load")).all()
    assert len(entries) == 1 and entries[0].details["added"] == 2 and entries[0].channel == "cli"


def test_loading_a_gbk_file_with_a_bom_free_header(app, tmp_path):
    path = tmp_path / "villages-gbk.csv"
    path.write_bytes(VILLAGES_CSV.encode("gbk"))
    result = app.test_cli_runner().invoke(args=["regions", "load", str(path)])
    assert result.exit_code == 0 and "2 villages added" in result.output


@pytest.mark.parametrize("content,message", [
    ("code,name\n330282107201,甲村\n", "missing column"),
    ("code,name,streetCode\n330282999201,甲村,330282999\n", "unknown township"),
    ("code,name,streetCode\n33028210720,甲村,330282107\n", "line 2"),
])
def test_a_bad_village_file_is_refused_whole(app, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["regions", "load", str(path)])
    assert result.exit_code == 1 and message in result.output
    assert regions.children(OTHER_TOWNSHIP) == []
