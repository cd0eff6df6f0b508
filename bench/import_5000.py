"""Benchmark: register 5,000 farmers from one CSV through the service ``flask users import`` uses.

    .venv/bin/python bench/import_5000.py            # a fresh migrated SQLite database in a temp dir
    DATABASE_URL=postgresql://… .venv/bin/python bench/import_5000.py

With DATABASE_URL the schema is brought up to date and 5,000 new people are added to
whatever is there (random birth dates and phones, so runs rarely collide).
"""
from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # our `mailbox`, not the stdlib's

from flask_babel import force_locale  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import select  # noqa: E402

from ruralinfo import create_app  # noqa: E402
from ruralinfo.accounts import bulk, identity  # noqa: E402
from ruralinfo.accounts import services as accounts  # noqa: E402
from ruralinfo.accounts.identity import new_secret  # noqa: E402
from ruralinfo.extensions import db  # noqa: E402
from ruralinfo.regions.models import Region  # noqa: E402

ROWS = 5000
ZHANGQI = "330282104"  # 掌起镇, whose villages ship with the project
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国兰红玉梅春生海林志文"
GROUPS = ["葡萄", "茶叶", "蔬菜", "杨梅", "西瓜", "水产", ""]


def synthetic_csv(villages: list[str], rng: random.Random) -> bytes:
    """5,000 valid, distinct farmers, as a liaison's CSV (UTF-8 with BOM)."""
    phones = rng.sample(range(13_900_000_000, 13_999_999_999), ROWS)
    people = rng.sample(range(365 * 60 * 1000), ROWS)  # (birth day, sequence) pairs, all different
    lines = ["name,id_number,phone,region_code,groups,language"]
    for phone, person in zip(phones, people):
        born = date(1945, 1, 1) + timedelta(days=person // 1000)
        number = identity.compose("330282", born, person % 1000)
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.choice((1, 2))))
        groups = ";".join(sorted({rng.choice(GROUPS) for _ in range(2)} - {""}))
        lines.append(f"{name},{number},{phone},{rng.choice(villages)},{groups},{rng.choice(('zh', 'zh', 'en'))}")
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
        app = create_app({"DATABASE_URL": url, "SECRET_KEY": new_secret(), "IDENTITY_KEY": new_secret(),
                          "TESTING": True})
        with app.app_context(), force_locale("en"):
            upgrade()
            villages = list(db.session.scalars(select(Region.code).where(Region.parent_code == ZHANGQI)))
            data = synthetic_csv(villages, random.Random())
            started = time.perf_counter()
            report = bulk.import_file(data, "bench.csv", actor=None, channel="cli", scope=accounts.ALL_REGIONS)
            seconds = time.perf_counter() - started
            started = time.perf_counter()
            again = bulk.import_file(data, "bench.csv", actor=None, channel="cli", scope=accounts.ALL_REGIONS)
            rerun_seconds = time.perf_counter() - started
            db.engine.dispose()
    print(f"database: {url.split(':', 1)[0]}")
    print(f"rows: {ROWS}, registered: {len(report.registered)}, skipped: {len(report.skipped)}, "
          f"rejected: {len(report.rejected)}")
    for line in report.lines()[:5]:
        print(" ", line)
    print(f"rows/second: {ROWS / seconds:,.0f}")
    print(f"total seconds: {seconds:.2f}")
    print(f"the same file again: {len(again.skipped)} skipped, {len(again.registered)} registered "
          f"in {rerun_seconds:.2f} seconds")


if __name__ == "__main__":
    main()
