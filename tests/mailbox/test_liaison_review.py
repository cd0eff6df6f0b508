"""The liaison point reviews the held posts of its own farmers, as the bureau does:
publish (then matched, the matches' owners told) or reject with the reason the
farmer is told — and never a post of a village the point does not serve."""
from __future__ import annotations

import contextlib

import threading

import pytest
from sqlalchemy import func, select

from mailbox import market, matching, moderation
from mailbox import services as mailbox
from mailbox.models import BUY, MATCH, SELL, Letter, Post
from ruralinfo.accounts import roles
from ruralinfo.accounts import services as accounts
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db
from ruralinfo.sms.models import OutboundMessage
from tests.conftest import BALI, CHANGXI, PASSWORD, WUXINGDIAN


@pytest.fixture
def review_before(app):
    app.config["POST_MODERATION"] = "before"


@pytest.fixture
def changxi_point(make_point):
    return make_point("长溪村联络点", (CHANGXI,))


@pytest.fixture
def liaison(changxi_point, make_staff):
    return make_staff(roles.LIAISON, point=changxi_point, name="张联络")


@pytest.fixture
def other_liaison(make_point, make_staff):
    return make_staff(roles.LIAISON, point=make_point("巴里村联络点", (BALI,)), name="王联络")


def held_post(make_farmer, region_code, text="土豆 500斤", name="陈阿毛") -> Post:
    post = mailbox.create_post(make_farmer(region_code=region_code, name=name), SELL, text, channel="web")
    assert post.moderation == "held"
    return post


def listed(post) -> bool:
    return post.id in {p.id for p in market.search(page=1).items}


def actions(post) -> list[tuple[str, int]]:
    return [tuple(row) for row in db.session.execute(
        select(AuditEntry.action, AuditEntry.actor_id).where(AuditEntry.target_type == "posts",
                                                             AuditEntry.target_id == post.id,
                                                             AuditEntry.action.like("post.%"))
        .order_by(AuditEntry.id)).all() if row[0] != "post.create"]


def test_the_liaison_sees_only_the_held_posts_of_their_own_farmers(
        client, login, make_farmer, review_before, liaison, other_liaison):
    mine = held_post(make_farmer, CHANGXI, "土豆 500斤", name="陈阿毛")
    theirs = held_post(make_farmer, BALI, "玉米 300斤", name="李秀英")
    elsewhere = held_post(make_farmer, WUXINGDIAN, "茶叶 20斤", name="赵小燕")  # a village no point serves
    assert [p.id for p in db.session.scalars(moderation.queue(liaison.liaison_point.region_codes))] == [mine.id]
    assert {p.id for p in db.session.scalars(moderation.queue())} == {mine.id, theirs.id, elsewhere.id}
    login(liaison)
    page = client.get("/liaison/posts/review").get_data(as_text=True)
    assert f'id="p{mine.id}"' in page and "陈阿毛" in page
    assert f'id="p{theirs.id}"' not in page and "李秀英" not in page and "赵小燕" not in page
    nav = client.get("/liaison/").get_data(as_text=True)
    assert 'href="/liaison/posts/review"' in nav and 'title="waiting for review">1</b>' in nav


def test_the_liaison_publishes_a_held_post_which_is_then_matched(
        app, client, login, make_farmer, liaison):
    buyer = make_farmer(region_code=BALI, name="李买")
    wanted = mailbox.create_post(buyer, BUY, "土豆 300斤", channel="web")  # published: before the setting
    app.config["POST_MODERATION"] = "before"
    post = held_post(make_farmer, CHANGXI)
    assert not listed(post) and matching.ranked(wanted, 10) == []
    login(liaison)
    response = client.post(f"/liaison/posts/{post.id}/approve", follow_redirects=True)
    assert f"Post no. {post.id} is published." in response.get_data(as_text=True)
    db.session.expire_all()
    assert post.moderation == "published" and post.reviewed_by_id == liaison.id and listed(post)
    assert [p.id for p in matching.ranked(wanted, 10)] == [post.id]
    told = db.session.scalars(select(Letter.body).where(Letter.recipient_id == buyer.id, Letter.kind == MATCH)).all()
    assert len(told) == 1 and f"#{post.id} " in told[0]  # the buyer's owner is told, as of a new post
    assert actions(post) == [("post.approve", liaison.id)]
    assert client.get("/liaison/posts/review").get_data(as_text=True).count('id="p') == 0


def test_the_liaison_rejects_a_held_post_and_the_farmer_is_told_why_by_sms(
        client, login, make_farmer, review_before, liaison):
    post = held_post(make_farmer, CHANGXI)
    login(liaison)
    refused = client.post(f"/liaison/posts/{post.id}/reject", data={"reason": "  "}, follow_redirects=True)
    assert "Say why: the farmer is told." in refused.get_data(as_text=True)
    assert db.session.get(Post, post.id).moderation == "held"
    response = client.post(f"/liaison/posts/{post.id}/reject", data={"reason": "请写明品种"}, follow_redirects=True)
    assert f"Post no. {post.id} is rejected; the farmer is told why." in response.get_data(as_text=True)
    db.session.expire_all()
    assert post.moderation == "rejected" and post.review_reason == "请写明品种" and not listed(post)
    texts = db.session.scalars(select(OutboundMessage.body).where(OutboundMessage.to == post.user.phone)).all()
    assert any("请写明品种" in body and str(post.id) in body for body in texts)
    assert actions(post) == [("post.reject", liaison.id)]


def test_a_liaison_cannot_decide_about_another_villages_post(
        client, login, make_farmer, review_before, liaison, other_liaison):
    post = held_post(make_farmer, CHANGXI)
    texts_before = db.session.scalar(select(func.count(OutboundMessage.id)))
    login(other_liaison)
    for action, data in (("approve", {}), ("reject", {"reason": "不对"})):
        page = client.post(f"/liaison/posts/{post.id}/{action}", data=data, follow_redirects=True)
        assert "This post is not waiting for this review." in page.get_data(as_text=True)
    # the services refuse alike, whoever calls them; hiding a published post is the bureau's only
    with pytest.raises(moderation.ReviewError):
        moderation.approve(post.id, actor=other_liaison, channel="web")
    with pytest.raises(moderation.ReviewError):
        moderation.reject(post.id, actor=other_liaison, reason="不对", channel="web")
    db.session.rollback()
    db.session.expire_all()
    assert post.moderation == "held" and post.reviewed_by_id is None and not listed(post)
    assert actions(post) == []
    assert db.session.scalar(select(func.count(OutboundMessage.id))) == texts_before
    moderation.approve(post.id, actor=liaison, channel="web")
    with pytest.raises(moderation.ReviewError):
        moderation.hide(post.id, actor=liaison, reason="重复", channel="web")


def test_a_suspended_point_can_look_but_not_decide(client, login, make_farmer, review_before, liaison,
                                                  changxi_point):
    post = held_post(make_farmer, CHANGXI)
    changxi_point.status = "suspended"
    db.session.commit()
    login(liaison)
    assert f'id="p{post.id}"' in client.get("/liaison/posts/review").get_data(as_text=True)
    page = client.post(f"/liaison/posts/{post.id}/approve", follow_redirects=True).get_data(as_text=True)
    assert "suspended" in page
    with pytest.raises(moderation.ReviewError, match="suspended"):
        moderation.approve(post.id, actor=liaison, channel="web")
    db.session.expire_all()
    assert post.moderation == "held"


@pytest.mark.parametrize("who", [roles.FARMER, roles.EXPERT, roles.STAFF])
def test_only_liaisons_use_the_liaison_review(client, login, make_farmer, make_staff, review_before, liaison, who):
    post = held_post(make_farmer, CHANGXI)
    if who == roles.FARMER:
        user = make_farmer(region_code=CHANGXI, name="王五")
        accounts.set_password(user, PASSWORD, actor=None, channel="cli")
    else:
        user = make_staff(who)
    login(user)
    assert client.get("/liaison/posts/review").status_code == 403
    for action in ("approve", "reject"):
        assert client.post(f"/liaison/posts/{post.id}/{action}", data={"reason": "x"}).status_code == 403
    db.session.expire_all()
    assert post.moderation == "held"
    if who == roles.FARMER:  # the farmer cannot approve their own post through the service either
        with pytest.raises(moderation.ReviewError):
            moderation.approve(post.id, actor=post.user, channel="web")


def test_the_bureau_and_the_point_deciding_at_once_decide_once(app, make_farmer, make_staff, review_before,
                                                               liaison, monkeypatch):
    """A clerk publishes while the liaison rejects, both having found the post held: the
    post's row is held by the first, and the second then finds the post decided."""
    post_id = held_post(make_farmer, CHANGXI).id
    clerk_id, liaison_id = make_staff(roles.STAFF).id, liaison.id
    start, both_checked = threading.Barrier(2), threading.Barrier(2, timeout=5)
    real_may_review = moderation.may_review

    def may_review_then_wait(*args, **kwargs):
        allowed = real_may_review(*args, **kwargs)
        with contextlib.suppress(threading.BrokenBarrierError):  # the other one already decided: go on
            both_checked.wait()  # both reviewers get here before either decides
        return allowed

    monkeypatch.setattr(moderation, "may_review", may_review_then_wait)
    results: dict[str, str] = {}

    def decide(name: str, user_id: int, action) -> None:
        with app.app_context():
            start.wait()
            try:
                action(post_id, actor=db.session.get(type(liaison), user_id))
                results[name] = "done"
            except moderation.ReviewError:
                db.session.rollback()
                results[name] = "refused"
            finally:
                db.session.remove()

    threads = [
        threading.Thread(target=decide, args=("clerk", clerk_id,
                                              lambda pid, actor: moderation.approve(pid, actor=actor, channel="web"))),
        threading.Thread(target=decide, args=("liaison", liaison_id, lambda pid, actor: moderation.reject(
            pid, actor=actor, reason="请写明品种", channel="web")))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    db.session.expire_all()
    assert sorted(results.values()) == ["done", "refused"]
    decided = db.session.get(Post, post_id)
    assert decided.moderation == ("published" if results["clerk"] == "done" else "rejected")
    assert len(actions(decided)) == 1
