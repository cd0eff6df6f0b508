"""Consent before contact on the web: a farmer asks from the market page, the owner
agrees from their mailbox, both get the numbers in letters — and nobody sees a
number before that. A liaison posts and asks for a farmer of their own point."""
import re

import pytest
from sqlalchemy import func, select

from mailbox import services as mailbox
from mailbox.models import AGREED, PENDING, SELL, ContactRequest, Letter, Post
from ruralinfo.accounts import phones, roles
from ruralinfo.accounts import services as accounts
from ruralinfo.audit.models import AuditEntry
from ruralinfo.extensions import db
from ruralinfo.sms.models import OutboundMessage
from tests.conftest import BALI, CHANGXI, OTHER_TOWNSHIP, PASSWORD


def _variants(phone: str) -> list[str]:
    """The ways a number may be written: +8613800138010, 13800138010, 138 0013 8010."""
    return [phone, phone[3:], phones.display(phone), phones.display(phone).replace(" ", "")]


def _letters_to(user) -> str:
    return "\n".join(db.session.scalars(select(Letter.body).where(Letter.recipient_id == user.id)))


def _texts_to(user) -> str:
    return "\n".join(db.session.scalars(select(OutboundMessage.body).where(OutboundMessage.to == user.phone)))


@pytest.fixture
def people(make_farmer):
    seller = make_farmer(region_code=CHANGXI, name="张三丰", phone="+8613800138010")
    buyer = make_farmer(region_code=OTHER_TOWNSHIP, name="赵四海", phone="+8613800138013")
    for person in (seller, buyer):
        accounts.set_password(person, PASSWORD, actor=None, channel="cli")
    return seller, buyer


def _log_in_as(app, user):
    browser = app.test_client()
    browser.get("/lang/en")
    assert browser.post("/login", data={"phone": user.phone, "password": PASSWORD}).status_code == 302
    return browser


def test_post_ask_agree_on_the_web_and_both_get_the_numbers(app, people):
    seller, buyer = people
    seller_web, buyer_web = _log_in_as(app, seller), _log_in_as(app, buyer)

    # the seller posts on the web; the flash says how many matches were found
    response = seller_web.post("/mailbox/posts", data={"kind": SELL, "text": "葡萄苗 500株 3元/株"},
                               follow_redirects=True)
    page = response.get_data(as_text=True)
    post = db.session.scalars(select(Post).where(Post.user_id == seller.id)).one()
    assert f"Your post no. {post.id} is saved" in page and "No matching post yet" in page

    # the owner has nothing to ask on their own post; the buyer has a button
    own = seller_web.get(f"/market/posts/{post.id}").get_data(as_text=True)
    assert "Ask for contact" not in own and f"/market/posts/{post.id}/ask" not in own
    market_page = buyer_web.get(f"/market/posts/{post.id}").get_data(as_text=True)
    assert f'action="/market/posts/{post.id}/ask"' in market_page and "Ask for contact" in market_page

    response = buyer_web.post(f"/market/posts/{post.id}/ask", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and f"Your request about post no. {post.id} is sent" in page
    assert "You asked for contact on" in page and f"/market/posts/{post.id}/ask" not in page
    request = db.session.scalars(select(ContactRequest)).one()
    assert (request.requester_id, request.owner_id, request.status, request.channel) == (
        buyer.id, seller.id, PENDING, "web")
    # asking twice sends nothing new
    again = buyer_web.post(f"/market/posts/{post.id}/ask", follow_redirects=True).get_data(as_text=True)
    assert "already" in again
    assert db.session.scalar(select(func.count(ContactRequest.id))) == 1

    # no number anywhere before the owner agrees: pages, letters, texts
    pages = [buyer_web.get(url).get_data(as_text=True) for url in
             (f"/market/posts/{post.id}", "/market/", "/mailbox/", "/mailbox/posts")]
    pages += [seller_web.get(url).get_data(as_text=True) for url in
              (f"/market/posts/{post.id}", "/market/", "/mailbox/", "/mailbox/posts")]
    db.session.expire_all()
    for me, other in ((seller, buyer), (buyer, seller)):
        seen = "\n".join(pages) + _letters_to(me) + _texts_to(me)
        for number in _variants(other.phone):
            assert number not in seen, number
    # the owner learns who asks (real name, village) and finds the request on their posts page
    assert "赵四海" in _letters_to(seller)
    posts_page = seller_web.get("/mailbox/posts").get_data(as_text=True)
    assert "Waiting for your answer" in posts_page and "赵四海" in posts_page
    request_id = db.session.scalar(select(ContactRequest.id).where(ContactRequest.post_id == post.id))
    assert f'action="/mailbox/requests/{request_id}/agree"' in posts_page

    response = seller_web.post(f"/mailbox/requests/{request_id}/agree", follow_redirects=True)
    assert response.status_code == 200 and "赵四海" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ContactRequest, request.id).status == AGREED
    # both find the other's name and number in a letter in their inbox (and by SMS)
    for me, other, browser in ((seller, buyer, seller_web), (buyer, seller, buyer_web)):
        inbox = browser.get("/mailbox/").get_data(as_text=True)
        letter_id = int(re.search(r'href="/mailbox/letters/(\d+)"', inbox).group(1))
        letter = browser.get(f"/mailbox/letters/{letter_id}").get_data(as_text=True)
        assert phones.display(other.phone) in letter and other.name in letter
        assert phones.display(other.phone) in _texts_to(me)
    # the market page still shows no number, to anyone
    for browser in (seller_web, buyer_web, app.test_client()):
        shown = browser.get(f"/market/posts/{post.id}").get_data(as_text=True)
        for person in (seller, buyer):
            assert not any(number in shown for number in _variants(person.phone))
    assert "The owner agreed" in buyer_web.get(f"/market/posts/{post.id}").get_data(as_text=True)
    # nothing left to agree to
    refused = seller_web.post(f"/mailbox/requests/{request_id}/agree", follow_redirects=True).get_data(as_text=True)
    assert "Nobody is waiting for your answer." in refused


def test_bad_requests_on_the_web_are_refused_with_a_message(app, client, people, make_staff):
    seller, buyer = people
    post = mailbox.create_post(seller, SELL, "葡萄苗 500株", channel="web")
    seller_web, buyer_web = _log_in_as(app, seller), _log_in_as(app, buyer)
    own = seller_web.post(f"/market/posts/{post.id}/ask", follow_redirects=True).get_data(as_text=True)
    assert f"Post no. {post.id} is your own." in own
    assert buyer_web.post("/market/posts/999999/ask", follow_redirects=True).status_code == 404
    # nobody logged in: to the log-in by code, back to the post afterwards
    anonymous = app.test_client().post(f"/market/posts/{post.id}/ask")
    assert anonymous.status_code == 302 and "/login/code" in anonymous.headers["Location"]
    assert "Log in to ask for contact" in app.test_client().get(f"/market/posts/{post.id}").get_data(as_text=True)
    # staff cannot ask as a farmer
    staff = _log_in_as(app, make_staff(roles.STAFF))
    assert staff.post(f"/market/posts/{post.id}/ask").status_code == 403
    mailbox.close_post(post, actor=seller, channel="web")
    closed = buyer_web.post(f"/market/posts/{post.id}/ask", follow_redirects=True)
    assert closed.status_code == 410
    assert f"Post no. {post.id} is closed." in closed.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ContactRequest.id))) == 0
    nothing = buyer_web.post("/mailbox/requests/12345/agree", follow_redirects=True).get_data(as_text=True)
    assert "Nobody is waiting for your answer." in nothing


# --- a liaison on behalf of a farmer who is with them ----------------------------------------

@pytest.fixture
def liaison_world(people, make_point, make_staff, make_farmer):
    seller, buyer = people
    point = make_point("巴里村联络点", (BALI,))
    liaison = make_staff(roles.LIAISON, point=point, name="联络员")
    farmer = make_farmer(region_code=BALI, name="王大明", phone="+8613800138012")
    return seller, buyer, point, liaison, farmer


def test_a_liaison_posts_and_asks_for_a_farmer_of_their_point(app, client, login, liaison_world):
    seller, _buyer, _point, liaison, farmer = liaison_world
    wanted = mailbox.create_post(seller, SELL, "葡萄苗 500株 3元/株", channel="web")
    login(liaison)
    assert 'href="/liaison/posts/"' in client.get("/liaison/").get_data(as_text=True)
    index = client.get(f"/liaison/posts/?post={wanted.id}").get_data(as_text=True)
    assert f"/liaison/posts/farmers/{farmer.id}?post={wanted.id}" in index
    # the market page offers the liaison to ask for one of their farmers
    assert f"/liaison/posts/?post={wanted.id}" in client.get(f"/market/posts/{wanted.id}").get_data(as_text=True)
    page = client.get(f"/liaison/posts/farmers/{farmer.id}?post={wanted.id}").get_data(as_text=True)
    assert f'value="{wanted.id}"' in page

    response = client.post(f"/liaison/posts/farmers/{farmer.id}/post", data={"kind": "buy", "text": "葡萄苗 200株"},
                           follow_redirects=True)
    post = db.session.scalars(select(Post).where(Post.user_id == farmer.id)).one()
    assert f"Post no. {post.id} is saved for 王大明. 1 matching post found." in response.get_data(as_text=True)
    assert (post.created_by_id, post.channel) == (liaison.id, "web")
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "post.create",
                                                        AuditEntry.target_id == post.id)).one()
    assert entry.actor_id == liaison.id

    response = client.post(f"/liaison/posts/farmers/{farmer.id}/ask", data={"post": wanted.id},
                           follow_redirects=True)
    assert "The request of 王大明 about post no." in response.get_data(as_text=True)
    request = db.session.scalars(select(ContactRequest)).one()
    assert (request.requester_id, request.owner_id, request.post_id) == (farmer.id, seller.id, wanted.id)
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "contact.ask_for")).one()
    assert (entry.actor_id, entry.target_id, entry.details["for"]) == (liaison.id, request.id, farmer.id)
    assert "王大明" in _letters_to(seller) and farmer.phone[3:] not in _letters_to(seller)
    # a refusal is shown, nothing is written
    own = client.post(f"/liaison/posts/farmers/{farmer.id}/ask", data={"post": post.id}).get_data(as_text=True)
    assert f"Post no. {post.id} is your own." in own
    assert db.session.scalar(select(func.count(ContactRequest.id))) == 1


def test_a_liaison_of_another_point_gets_404(app, client, login, liaison_world, make_point, make_staff):
    seller, _buyer, _point, _liaison, farmer = liaison_world
    wanted = mailbox.create_post(seller, SELL, "葡萄苗 500株", channel="web")
    other = make_staff(roles.LIAISON, point=make_point("长溪村联络点", (CHANGXI,)), name="别村联络员")
    login(other)
    assert "Nobody matches" in client.get("/liaison/posts/?q=王大明").get_data(as_text=True)
    assert f"/liaison/posts/farmers/{farmer.id}" not in client.get("/liaison/posts/").get_data(as_text=True)
    assert client.get(f"/liaison/posts/farmers/{farmer.id}").status_code == 404
    assert client.post(f"/liaison/posts/farmers/{farmer.id}/post",
                       data={"kind": "buy", "text": "葡萄苗 200株"}).status_code == 404
    assert client.post(f"/liaison/posts/farmers/{farmer.id}/ask", data={"post": wanted.id}).status_code == 404
    assert db.session.scalar(select(func.count(Post.id))) == 1
    assert db.session.scalar(select(func.count(ContactRequest.id))) == 0


def test_a_suspended_point_can_look_but_not_post_or_ask(app, client, login, liaison_world):
    from ruralinfo.liaison import points

    seller, _buyer, point, liaison, farmer = liaison_world
    wanted = mailbox.create_post(seller, SELL, "葡萄苗 500株", channel="web")
    points.suspend(point, actor=None, channel="cli")
    login(liaison)
    before = db.session.scalar(select(func.max(AuditEntry.id)))
    assert client.get(f"/liaison/posts/farmers/{farmer.id}").status_code == 200
    for url, data in ((f"/liaison/posts/farmers/{farmer.id}/post", {"kind": "buy", "text": "葡萄苗 200株"}),
                      (f"/liaison/posts/farmers/{farmer.id}/ask", {"post": wanted.id})):
        response = client.post(url, data=data, follow_redirects=True)
        assert "suspended" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Post.id))) == 1
    assert db.session.scalar(select(func.count(ContactRequest.id))) == 0
    assert db.session.scalars(select(AuditEntry.action).where(AuditEntry.id > before)).all() == []


def test_posting_on_the_web_says_how_many_matches_were_found(app, people):
    seller, buyer = people
    mailbox.create_post(seller, SELL, "葡萄苗 500株 3元/株", channel="web")
    buyer_web = _log_in_as(app, buyer)
    page = buyer_web.post("/mailbox/posts", data={"kind": "buy", "text": "葡萄苗 200株"},
                          follow_redirects=True).get_data(as_text=True)
    assert re.search(r"Your post no\. \d+ is saved\. 1 matching post found\.", page)


@pytest.fixture
def moderated(app_config):
    app_config["POST_MODERATION"] = "before"  # before the app is made


def test_a_post_held_for_review_says_so(moderated, app, people):
    _seller, buyer = people
    page = _log_in_as(app, buyer).post("/mailbox/posts", data={"kind": "buy", "text": "葡萄苗 200株"},
                                       follow_redirects=True).get_data(as_text=True)
    assert "matched once it has been checked" in page


def test_two_people_ask_about_one_post_and_the_owner_agrees_to_each(app, people, make_farmer):
    """Each request has its own Agree: agreeing to the older one leaves the newer waiting."""
    from mailbox import contacts
    from mailbox import services as mailbox_services
    from mailbox.models import ContactRequest

    seller, buyer = people
    other = make_farmer(region_code=CHANGXI, name="钱五")
    post = mailbox_services.create_post(seller, SELL, "葡萄苗 500株", channel="web")
    for asker in (buyer, other):
        contacts.ask(post.id, user=asker, channel="web")
    db.session.commit()
    older, newer = db.session.scalars(select(ContactRequest).order_by(ContactRequest.id)).all()
    seller_web = _log_in_as(app, seller)
    page = seller_web.get("/mailbox/posts").get_data(as_text=True)
    assert f"/mailbox/requests/{older.id}/agree" in page and f"/mailbox/requests/{newer.id}/agree" in page
    seller_web.post(f"/mailbox/requests/{older.id}/agree")
    db.session.expire_all()
    assert (older.status, newer.status) == ("agreed", "pending")
