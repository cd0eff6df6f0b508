"""The ranking rule on its own, and what people are told about matches."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from mailbox import matching
from mailbox import services as mailbox
from mailbox.models import BUY, SELL, Letter, Post, PostMatch
from ruralinfo.extensions import db
from ruralinfo.sms.models import OutboundMessage
from ruralinfo.timeutil import now_utc
from tests.conftest import BALI, CHANGXI, OTHER_TOWNSHIP, WUXINGDIAN

OTHER_COUNTY = "330281001"  # 余姚市梨洲街道: same city (宁波), another county
OTHER_PROVINCE = "320102002"  # 南京: another province


@pytest.fixture
def people(make_farmer):
    """A farmer in each place, from near to far from 长溪村."""
    return {place: make_farmer(region_code=place, name=name) for place, name in (
        (CHANGXI, "陈一"), (WUXINGDIAN, "王二"), (BALI, "李三"), (OTHER_TOWNSHIP, "张四"),
        (OTHER_COUNTY, "赵五"), (OTHER_PROVINCE, "孙六"))}


def post(user, kind, text) -> Post:
    return mailbox.create_post(user, kind, text, channel="web")


def test_distance_comes_first_then_price_then_quantity_then_freshness(app, people, make_farmer):
    me = make_farmer(region_code=CHANGXI, name="本人")
    far_cheap = post(people[OTHER_PROVINCE], BUY, "葡萄苗 200株 5元/株")
    county = post(people[OTHER_COUNTY], BUY, "葡萄苗 200株 5元/株")
    township_low = post(people[OTHER_TOWNSHIP], BUY, "葡萄苗 200株 1元/株")   # offers less than I ask
    neighbour_small = post(people[WUXINGDIAN], BUY, "葡萄苗 20株 4元/株")      # fits, but a small quantity
    neighbour_good = post(people[BALI], BUY, "葡萄苗 180株 4元/株")           # same township, fits, close quantity
    village = post(people[CHANGXI], BUY, "葡萄苗 10株")                       # same village: first, whatever else
    older = post(people[BALI], BUY, "葡萄苗 180株 4元/株")
    older.created_at -= timedelta(days=2)
    db.session.commit()
    mine = post(me, SELL, "葡萄苗 200株 3元/株")
    order = [p.id for p in matching.ranked(mine, limit=10)]
    assert order == [village.id, neighbour_good.id, older.id, neighbour_small.id, township_low.id, county.id,
                     far_cheap.id]
    assert matching.count(mine) == 7


def test_only_the_same_product_or_the_category_asked_for_matches(app, people):
    seller = people[CHANGXI]
    any_fruit = post(people[BALI], BUY, "水果 500斤")
    grapes = post(people[BALI], BUY, "葡萄 100斤")
    post(people[BALI], BUY, "土豆 100斤")                       # another product
    post(people[BALI], SELL, "葡萄 100斤")                      # the same side
    post(seller, BUY, "葡萄 100斤")                             # one's own
    closed = post(people[WUXINGDIAN], BUY, "葡萄 100斤")
    closed.status = "closed"
    expired = post(people[WUXINGDIAN], BUY, "葡萄 100斤")
    expired.expires_at = now_utc() - timedelta(days=1)
    db.session.commit()
    mine = post(seller, SELL, "巨峰葡萄 300斤")
    assert {p.id for p in matching.ranked(mine, limit=10)} == {any_fruit.id, grapes.id}
    # and the buyer who asked for any fruit finds sellers of every fruit
    assert matching.ranked(any_fruit, limit=10)[0].id == mine.id


def test_the_owners_of_matches_get_a_letter_and_at_most_three_texts_a_day(app, people, make_farmer, monkeypatch):
    from ruralinfo.sms import quiet

    monkeypatch.setattr(quiet, "now_utc", lambda: now_utc().replace(hour=2))  # 10:00 in Shanghai
    buyer = people[BALI]
    wanted = post(buyer, BUY, "葡萄苗 200株")
    for n, name in enumerate(("周一", "吴二", "郑三", "冯四", "陈五")):
        post(make_farmer(region_code=CHANGXI, name=name), SELL, f"葡萄苗 {100 + n}株")
    letters = db.session.scalars(select(Letter).where(Letter.recipient_id == buyer.id, Letter.kind == "match")).all()
    assert len(letters) == 5  # every match is in the mailbox
    texts = db.session.scalars(select(OutboundMessage).where(OutboundMessage.to == buyer.phone,
                                                            OutboundMessage.kind == "letter")).all()
    assert len(texts) == 3  # MATCH_ALERTS_PER_DAY
    assert db.session.scalar(select(func.count(PostMatch.id)).where(PostMatch.match_id == wanted.id)) == 5
    assert "葡萄苗" in letters[0].body and ("CONTACT" in letters[0].body or "联系" in letters[0].body)


def test_no_match_text_after_stop_nor_at_night(app, people, monkeypatch):
    from ruralinfo.sms import quiet

    buyer, night_buyer = people[BALI], people[WUXINGDIAN]
    buyer.sms_opt_out = True
    db.session.commit()
    post(buyer, BUY, "葡萄苗 200株")
    post(night_buyer, BUY, "葡萄苗 100株")
    monkeypatch.setattr(quiet, "now_utc", lambda: now_utc().replace(hour=15))  # 23:00 in Shanghai
    post(people[CHANGXI], SELL, "葡萄苗 300株")
    assert db.session.scalar(select(func.count(OutboundMessage.id)).where(OutboundMessage.to == buyer.phone,
                                                                          OutboundMessage.kind == "letter")) == 0
    held = db.session.scalar(select(OutboundMessage).where(OutboundMessage.to == night_buyer.phone,
                                                           OutboundMessage.kind == "letter"))
    assert held.status == "queued" and held.next_attempt_at is not None  # until the morning
    assert db.session.scalar(select(func.count(Letter.id)).where(Letter.recipient_id == buyer.id)) == 1  # mailbox


def test_the_reply_names_the_number_found_and_the_best_three(people, text_in):
    for place in (BALI, WUXINGDIAN, OTHER_TOWNSHIP, OTHER_COUNTY):
        post(people[place], BUY, "葡萄苗 200株")
    _response, reply = text_in(people[CHANGXI].phone, "卖 葡萄苗 500株 3元/株")
    assert "4" in reply and reply.count("#") == 3 and ("联系" in reply or "CONTACT" in reply)
    assert "王*" in reply and "李*" in reply and "王二" not in reply  # surnames masked
    assert "+86" not in reply and "138" not in reply  # never a phone number


def test_followers_of_a_product_in_the_county_are_told_of_new_posts(app, people, text_in, monkeypatch):
    from ruralinfo.sms import quiet

    monkeypatch.setattr(quiet, "now_utc", lambda: now_utc().replace(hour=2))  # 10:00 in Shanghai
    near, far = people[OTHER_TOWNSHIP], people[OTHER_COUNTY]
    assert "葡萄" in text_in(near.phone, "关注 葡萄")[1]
    text_in(far.phone, "关注 葡萄")  # another county: not told
    post(people[CHANGXI], SELL, "巨峰葡萄 300斤 4元/斤")
    told = db.session.scalars(select(Letter).where(Letter.recipient_id == near.id, Letter.kind == "match")).all()
    assert len(told) == 1 and "葡萄" in told[0].body
    assert db.session.scalar(select(func.count(Letter.id)).where(Letter.recipient_id == far.id,
                                                                  Letter.kind == "match")) == 0
    text_in(near.phone, "取消关注 葡萄")
    post(people[CHANGXI], SELL, "葡萄 100斤")
    assert db.session.scalar(select(func.count(Letter.id)).where(Letter.recipient_id == near.id,
                                                                  Letter.kind == "match")) == 1


def test_two_matched_posts_of_one_person_count_twice_against_their_daily_texts(app, people, make_farmer):
    """One new post can match two posts of one person: both are letters, and the texts
    are counted within the one job, not only against what was already sent."""
    app.config["MATCH_ALERTS_PER_DAY"] = 1
    buyer = people[BALI]
    post(buyer, BUY, "葡萄苗 200株")
    post(buyer, BUY, "葡萄苗 50株")
    post(people[CHANGXI], SELL, "葡萄苗 300株")
    assert db.session.scalar(select(func.count(Letter.id)).where(Letter.recipient_id == buyer.id,
                                                                  Letter.kind == "match")) == 2
    assert db.session.scalar(select(func.count(OutboundMessage.id)).where(OutboundMessage.to == buyer.phone,
                                                                          OutboundMessage.kind == "letter")) == 1


def _jobs_at_once(app, post_ids: list[int], tell) -> list[BaseException]:
    """Run ``tell`` for each post in its own thread (a worker each), all at the same moment;
    what they raised."""
    import threading

    start, raised = threading.Barrier(len(post_ids), timeout=30), []

    def job(post_id: int) -> None:
        with app.app_context():
            start.wait()
            try:
                tell(post_id)
            except BaseException as err:  # noqa: BLE001 - reported to the test
                raised.append(err)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=job, args=(post_id,), daemon=True) for post_id in post_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    db.session.expire_all()
    return raised


def test_the_daily_limit_holds_when_new_posts_are_matched_at_once(app, people, make_farmer, monkeypatch):
    """Five sellers' posts are matched at the same moment (five workers): their buyer
    still gets five letters and three texts — the jobs take turns over the people they count."""
    from mailbox import match_alerts

    buyer = people[BALI]
    post(buyer, BUY, "葡萄苗 200株")
    real_tell = match_alerts.tell
    monkeypatch.setattr(match_alerts, "tell", lambda post_id: None)  # the posts first, their jobs below
    sells = [post(make_farmer(region_code=CHANGXI, name=name), SELL, "葡萄苗 100株").id
             for name in ("周一", "吴二", "郑三", "冯四", "陈五")]
    assert _jobs_at_once(app, sells, real_tell) == []
    assert db.session.scalar(select(func.count(Letter.id)).where(Letter.recipient_id == buyer.id,
                                                                  Letter.kind == "match")) == 5
    assert db.session.scalar(select(func.count(OutboundMessage.id)).where(OutboundMessage.to == buyer.phone,
                                                                          OutboundMessage.kind == "letter")) == 3


def test_one_posts_two_jobs_at_once_tell_each_person_once(app, people, make_farmer, text_in, monkeypatch):
    """A post's job can run twice at the same moment (on posting, and again on its approval
    or classification): the match's owner and the follower each get one letter and one text,
    and neither job fails."""
    from mailbox import match_alerts

    buyer, follower = people[BALI], make_farmer(region_code=BALI, name="褚六")
    post(buyer, BUY, "葡萄苗 200株")
    assert "葡萄" in text_in(follower.phone, "关注 葡萄苗")[1]
    real_tell = match_alerts.tell
    monkeypatch.setattr(match_alerts, "tell", lambda post_id: None)
    sell = post(people[CHANGXI], SELL, "葡萄苗 100株").id
    assert _jobs_at_once(app, [sell, sell], real_tell) == []
    for person in (buyer, follower):
        assert db.session.scalar(select(func.count(Letter.id)).where(Letter.recipient_id == person.id,
                                                                      Letter.kind == "match")) == 1
        assert db.session.scalar(select(func.count(OutboundMessage.id)).where(
            OutboundMessage.to == person.phone, OutboundMessage.kind == "letter")) == 1


@pytest.fixture
def on_redis(app_config):
    """Jobs go to the real job queue (use before ``app``)."""
    import os

    if not os.environ.get("TEST_REDIS_URL"):
        pytest.skip("TEST_REDIS_URL is not set (.ci/run sets it)")
    app_config["REDIS_URL"] = os.environ["TEST_REDIS_URL"]


def test_a_posts_match_alerts_are_a_job_tried_again_if_it_fails(on_redis, people):
    """On a worker a job can fail (a database error, stopped at its time-out on a busy
    machine): the alerts of a post are tried again later, not lost."""
    from mailbox import match_alerts
    from ruralinfo import jobs

    jobs.queue().empty()
    post(people[BALI], BUY, "葡萄苗 200株")
    sell = post(people[CHANGXI], SELL, "葡萄苗 100株")
    [job] = [job for job in jobs.queue().get_jobs() if job.func_name == "mailbox.match_alerts.tell"]
    assert job.args == (sell.id,)
    assert (job.retries_left, job.retry_intervals) == (3, list(match_alerts.RETRY_AFTER))
    jobs.queue().empty()
