"""Whom a broadcast reaches, against a hand-built county: three villages of 掌起镇 and a
township of no villages, farmers in groups, a liaison, people who opted out, a
listed phone without an account. The preview's counts and cost, and the plan's rows."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from ruralinfo.accounts import roles
from ruralinfo.broadcasts import audience as audiences
from ruralinfo.broadcasts import planning
from ruralinfo.broadcasts.audience import Rules
from ruralinfo.broadcasts.models import OPTED_OUT, PLANNED, Broadcast, Recipient, Topic
from ruralinfo.extensions import db
from tests.conftest import BALI, CHANGXI, OTHER_TOWNSHIP, WUXINGDIAN

LOOSE = "+8613912345678"  # on the uploaded list, no account


@pytest.fixture
def county(app, make_farmer, make_staff, make_point):
    """长溪村: 4 tea growers (one opted out, one reading English), 1 grape grower;
    五姓点村: 2 grape growers and tea growers in both groups; 巴里村: 1 tea grower;
    观海卫镇 (another township): 2 tea growers; a liaison of 长溪村's point."""
    people = {}
    names = iter("赵钱孙李周吴郑王冯陈褚卫")

    def farmer(key, place, groups, language="zh", opted_out=False):
        person = make_farmer(region_code=place, name=next(names) + "大明", groups=groups)
        person.language, person.sms_opt_out = language, opted_out
        people[key] = person

    for n in range(4):
        farmer(f"c{n}", CHANGXI, ("茶叶",), language="en" if n == 1 else "zh", opted_out=n == 3)
    farmer("c-grape", CHANGXI, ("葡萄",))
    farmer("w-both", WUXINGDIAN, ("茶叶", "葡萄"))
    farmer("w-grape", WUXINGDIAN, ("葡萄",))
    farmer("b-tea", BALI, ("茶叶",))
    for n in range(2):
        farmer(f"o{n}", OTHER_TOWNSHIP, ("茶叶",))
    point = make_point(region_codes=(CHANGXI,))
    people["liaison"] = make_staff(roles.LIAISON, point=point)
    db.session.commit()
    people["point"] = point
    return people


def sent_to(broadcast) -> set[str]:
    return set(db.session.scalars(select(Recipient.phone).where(Recipient.broadcast_id == broadcast.id,
                                                                Recipient.state == PLANNED)))


def make_broadcast(audience, body="今晚有霜冻，请做好茶园防冻。", body_en=""):
    topic = db.session.scalar(select(Topic).where(Topic.key == "weather"))
    broadcast = Broadcast(body=body, body_en=body_en, topic=topic, audience=audience.to_json())
    db.session.add(broadcast)
    db.session.flush()
    return broadcast


def test_the_tea_growers_of_a_township_once_each_without_who_opted_out(app, county):
    audience = audiences.clean(Rules(groups=["茶叶"]), Rules(regions=[OTHER_TOWNSHIP]))
    shown = planning.preview(audience, "今晚有霜冻，请做好茶园防冻。")
    assert (shown.people, shown.opted_out) == (5, 1)  # c0, c1, c2, w-both, b-tea; c3 opted out
    broadcast = make_broadcast(audience)
    assert planning.plan(broadcast) == 5
    assert sent_to(broadcast) == {county[k].phone for k in ("c0", "c1", "c2", "w-both", "b-tea")}
    opted = db.session.scalars(select(Recipient.phone).where(Recipient.state == OPTED_OUT)).all()
    assert opted == [county["c3"].phone]  # kept, so the report can say why


def test_a_person_in_two_chosen_rules_gets_one_text_and_the_duplicates_are_counted(app, county):
    audience = audiences.clean(Rules(groups=["茶叶", "葡萄"], regions=[WUXINGDIAN]))
    shown = planning.preview(audience, "葡萄霜霉病预警")
    # tea or grape growers of 掌起镇 and 观海卫镇 (c3 opted out): c0 c1 c2 c-grape w-both w-grape b-tea o0 o1
    assert shown.people == 9
    # named twice or more: the groups rule names w-both once (one row) — the region names w-both, w-grape again
    assert shown.duplicates == 2
    broadcast = make_broadcast(audience)
    assert planning.plan(broadcast) == 9 and len(sent_to(broadcast)) == 9


def test_points_roles_and_a_phone_list_mix_with_exclusions(app, county):
    phones, bad = audiences.parse_phones(f"{county['b-tea'].phone}\n{LOOSE}, 12345\nnot a phone\n\n{LOOSE}")
    assert phones == [county["b-tea"].phone, LOOSE] and bad == [(2, "12345"), (3, "not"), (3, "a"), (3, "phone")]
    audience = audiences.clean(Rules(points=[county["point"].id], roles=[roles.LIAISON], phones=phones),
                               Rules(phones=[county["c0"].phone]))
    broadcast = make_broadcast(audience)
    planning.plan(broadcast)
    # the point's village (长溪村: c1 c2 c-grape; c0 excluded, c3 opted out), every liaison, b-tea and the loose phone
    expected = {county[k].phone for k in ("c1", "c2", "c-grape", "b-tea", "liaison")} | {LOOSE}
    assert sent_to(broadcast) == expected
    loose = db.session.scalar(select(Recipient).where(Recipient.phone == LOOSE))
    assert loose.user_id is None and loose.language == "zh"


def test_the_preview_counts_each_language_and_what_it_costs(app, county):
    app.config.update(SMS_PRICE="0.05", SMS_RATE=2, BROADCAST_MAX_HOURS=1)
    body = "今晚有霜冻" * 20  # 100 characters: two segments with the signature
    audience = audiences.clean(Rules(regions=[CHANGXI]))
    shown = planning.preview(audience, body, body_en="Frost tonight.")
    # 长溪村: c0 c2 c-grape read Chinese, c1 English, the liaison has no village; c3 opted out
    assert shown.by_language == {"zh": 3, "en": 1} and shown.opted_out == 1
    assert shown.segments_each == {"zh": 2, "en": 1} and shown.segments == 7 and not shown.one_segment
    assert shown.cost == Decimal("0.35")
    assert not shown.too_long and shown.hours == pytest.approx(4 / (2 * 0.98) / 3600)  # the senders' pace
    without_english = planning.preview(audience, body)
    assert without_english.by_language == {"zh": 4}  # no English text: everyone reads the Chinese


def test_a_broadcast_that_would_take_too_long_is_flagged(app, county):
    app.config.update(SMS_RATE=0.001, BROADCAST_MAX_HOURS=0.5)
    shown = planning.preview(audiences.clean(Rules(groups=["茶叶"])), "通知")
    assert shown.too_long


@pytest.mark.parametrize("rules, field, words", [
    (Rules(regions=["330282999"]), "regions", "330282999"),
    (Rules(regions=["not-a-code"]), "regions", "not-a-code"),
    (Rules(groups=["养蜂"]), "groups", "养蜂"),
    (Rules(points=[9999]), "points", "9999"),
    (Rules(roles=["king"]), "roles", "king"),
    (Rules(), "audience", ""),
])
def test_rules_that_name_nothing_are_refused_and_say_which(app, county, rules, field, words):
    with pytest.raises(audiences.AudienceError) as refused:
        audiences.clean(rules)
    assert words in refused.value.errors[field]


def test_planning_twice_writes_the_recipients_once(app, county):
    broadcast = make_broadcast(audiences.clean(Rules(groups=["葡萄"])))
    assert planning.plan(broadcast) == planning.plan(broadcast) == 3
    assert db.session.scalar(select(Recipient.id).where(Recipient.broadcast_id == broadcast.id)
                             .order_by(Recipient.id.desc()).offset(3).limit(1)) is None
