"""The 慈溪市 demo county: the bureau, liaison points for the 掌起镇 villages,
about 200 farmers and a few experts. Every account goes through the same
services and checks as real data; only the registration dates are spread over
the past year afterwards so that the dashboards have a history to show."""
from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import func, select

from ruralinfo.accounts import identity, roles
from ruralinfo.accounts import services as accounts
from ruralinfo.accounts.models import User
from ruralinfo.audit import services as audit
from ruralinfo.extensions import db
from ruralinfo.liaison.models import SUSPENDED, LiaisonPoint
from ruralinfo.regions import services as regions
from ruralinfo.regions.models import Region
from ruralinfo.timeutil import now_utc

PASSWORD = "demo-2026"
ZHANGQI = "330282104"
GUANHAIWEI = "330282107"  # a township whose villages are not loaded: its point serves it whole
FARMERS = 200

STAFF = [
    ("周敏", "13900000001", [roles.ADMIN]),
    ("陈晓", "13900000002", [roles.STAFF]),
    ("徐峰", "13900000003", [roles.STAFF, roles.APPROVER]),
    ("胡立新", "13900000011", [roles.EXPERT]),
    ("沈梅", "13900000012", [roles.EXPERT]),
    ("孙建华", "13900000013", [roles.EXPERT]),
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严"
GIVEN = "建国秀英桂兰志强海燕春梅国平丽娟永红伟明玉珍德胜小红金花建华立新月娥宝林福生美玲长青水根阿毛根娣雪芬"


_EXTRAS: list = []


def extend(loader) -> None:
    """Feature packages add their demo data here: ``loader(rng)`` runs after the
    accounts exist (the core never imports the features)."""
    if loader not in _EXTRAS:
        _EXTRAS.append(loader)


def has_accounts() -> bool:
    return bool(db.session.scalar(select(func.count(User.id))))


def logins_text() -> str:
    lines = ["Demo logins (password for all: %s) at http://127.0.0.1:5000/login" % PASSWORD]
    for name, phone, role_names in STAFF[:3]:
        lines.append(f"  {', '.join(role_names):<16} {phone}  {name}")
    lines.append("  liaison          13900000101  (长溪村 point; 13900000102… for the next villages)")
    lines.append("  expert           13900000011")
    return "\n".join(lines)


def load(seed: int = 2026) -> str:
    """Create the demo county (on an empty database). Returns a one-line summary."""
    rng = random.Random(seed)
    for name, phone, role_names in STAFF:
        accounts.create_staff(name=name, phone=phone, password=PASSWORD, role_names=role_names,
                              actor=None, channel=audit.SYSTEM, region_code="330282")
    points = _points()
    farmers = _farmers(rng, points)
    points[-2].status = SUSPENDED  # 古窑浦村, once its farmers are in: shows how a suspended point looks
    db.session.commit()
    _spread_history(rng, points)
    db.session.commit()
    for loader in _EXTRAS:
        loader(rng)
    return f"Demo county loaded: {len(points)} liaison points, {farmers} farmers, {len(STAFF)} bureau accounts."


def _points() -> list[LiaisonPoint]:
    villages = regions.children(ZHANGQI)
    township = db.session.get(Region, GUANHAIWEI)
    points = []
    for number, region in enumerate([*villages, township], start=1):
        point = LiaisonPoint(name=f"{region.name}联络点", address=f"{region.name}村民委员会",
                             phone=f"0574-6301{number:04d}", opening_hours="周一至周五 8:30-17:00")
        point.regions = [region]
        db.session.add(point)
        db.session.flush()
        audit.record("point.create", point, channel=audit.SYSTEM, after={"name": point.name})
        accounts.create_staff(name=f"{SURNAMES[number]}{GIVEN[number * 2:number * 2 + 2]}",
                              phone=f"139000001{number:02d}", password=PASSWORD,
                              role_names=[roles.LIAISON], actor=None, channel=audit.SYSTEM,
                              liaison_point_id=point.id, region_code=region.code)
        points.append(point)
    db.session.commit()
    return points


def _farmers(rng: random.Random, points: list[LiaisonPoint]) -> int:
    groups = [g.name_zh for g in accounts.active_groups()]
    made = 0
    for n in range(FARMERS):
        point = points[n % len(points)]
        liaison = point.liaisons[0]
        region = point.regions[0]
        born = date(1950, 1, 1) + timedelta(days=rng.randrange(0, 50 * 365))
        sequence = rng.randrange(0, 500) * 2 + (n % 2)
        data = accounts.FarmerData(
            name=rng.choice(SURNAMES) + rng.choice([GIVEN[i:i + 2] for i in range(0, len(GIVEN), 2)]),
            id_number=identity.compose("330282", born, sequence),
            phone=f"137{50000000 + n:08d}",
            region_code=region.code,
            groups=rng.sample(groups, k=rng.choice((1, 1, 2, 3))),
            language="en" if n % 50 == 7 else "zh",
        )
        try:
            farmer = accounts.register_farmer(data, actor=liaison, channel=audit.SYSTEM, scope=point.region_codes,
                                              consent=True)
        except accounts.RegistrationError:
            continue  # an accidental duplicate of random data: skip, never fake it
        if rng.random() < 0.7:
            accounts.mark_verified(farmer, actor=liaison, channel=audit.SYSTEM)
        if rng.random() < 0.05:
            farmer.sms_opt_out, farmer.sms_opt_out_at = True, now_utc()
        made += 1
    db.session.commit()
    return made


def _spread_history(rng: random.Random, points: list[LiaisonPoint]) -> None:
    """Registration dates over the past year; the 观海卫镇 point has none lately."""
    quiet = points[-1].region_codes
    now = now_utc()
    for farmer in db.session.scalars(accounts.farmers(None)):
        days = rng.randrange(0, 365)
        if any(regions.contains(code, farmer.region_code) for code in quiet):
            days = rng.randrange(120, 365)
        farmer.registered_at = farmer.consent_at = now - timedelta(days=days, minutes=rng.randrange(0, 600))
