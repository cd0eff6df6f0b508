"""The phone simulator: texting as a farmer through the real signed webhook."""
import pytest
from sqlalchemy import select

from mailbox.models import Post
from ruralinfo import create_app
from ruralinfo.accounts import roles
from ruralinfo.extensions import db
from ruralinfo.sms.models import InboundMessage
from tests.conftest import BALI, CHANGXI, PASSWORD


@pytest.fixture
def staff(make_staff, login):
    user = make_staff(roles.STAFF)
    login(user)
    return user


def test_text_as_a_farmer_and_see_the_reply(client, staff, make_farmer):
    farmer = make_farmer(region_code=CHANGXI, name="陈阿毛")
    assert "陈阿毛" in client.get("/dev/phone").get_data(as_text=True)
    response = client.post(f"/dev/phone/{farmer.phone}/send", data={"body": "卖 土豆 500斤"})
    assert response.status_code == 302
    post = db.session.scalar(select(Post))
    assert post.user_id == farmer.id and post.channel == "sms"
    inbound = db.session.scalar(select(InboundMessage))
    assert inbound.gateway == "twilio" and inbound.from_phone == farmer.phone  # through the real webhook
    page = client.get(f"/dev/phone/{farmer.phone}").get_data(as_text=True)
    assert "卖 土豆 500斤" in page and str(post.id) in page
    items = client.get(f"/dev/phone/{farmer.phone}/messages.json").get_json()
    # the welcome text of the registration, then the text sent and its reply
    assert [(i["dir"], i["kind"]) for i in items] == [("in", "notice"), ("out", ""), ("in", "reply")]


def test_a_number_without_an_account(client, staff):
    client.post("/dev/phone/+8613912345678/send", data={"body": "你好"})
    items = client.get("/dev/phone/+8613912345678/messages.json").get_json()
    assert items[-1]["dir"] == "in" and "联络点" in items[-1]["body"]


def test_a_liaison_simulates_only_their_own_farmers(client, make_point, make_staff, make_farmer, login):
    point = make_point("长溪村联络点", (CHANGXI,))
    mine, theirs = make_farmer(region_code=CHANGXI, name="本村人"), make_farmer(region_code=BALI, name="外村人")
    login(make_staff(roles.LIAISON, point=point))
    page = client.get("/dev/phone").get_data(as_text=True)
    assert "本村人" in page and "外村人" not in page
    assert 'href="/liaison/letters/"' in page  # the liaison's own navigation stays
    assert client.get(f"/dev/phone/{theirs.phone}").status_code == 404
    assert client.post(f"/dev/phone/{theirs.phone}/send", data={"body": "TD"}).status_code == 404
    db.session.refresh(theirs)
    assert theirs.sms_opt_out is False
    assert client.get(f"/dev/phone/{mine.phone}").status_code == 200


def test_farmers_and_visitors_cannot_use_it(app, client):
    assert client.get("/dev/phone").status_code == 302  # to the log-in page


@pytest.mark.parametrize("backend,asked", [("outbox", False), ("twilio", False), ("twilio", True)])
def test_there_is_no_simulator_unless_asked_for_and_texts_stay_here(app_config, make_staff, backend, asked):
    extra = {"SMS_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "t" * 32,
             "TWILIO_FROM": "+15005550006"} if backend == "twilio" else {}
    app = create_app({**app_config, **extra, "DEV_SIMULATORS": asked})
    with app.app_context():
        user = make_staff(roles.ADMIN)
        client = app.test_client()
        client.post("/login", data={"phone": user.phone, "password": PASSWORD})
        assert client.get("/dev/phone").status_code == 404
        assert client.post(f"/dev/phone/{user.phone}/send", data={"body": "HELP"}).status_code == 404


def test_the_environment_turns_the_simulator_on(monkeypatch):
    from ruralinfo import config

    monkeypatch.setenv("DEV_SIMULATORS", "1")
    assert config.from_environment()["DEV_SIMULATORS"] is True
    monkeypatch.setenv("DEV_SIMULATORS", "0")
    assert config.from_environment()["DEV_SIMULATORS"] is False


def _code_to(client, phone: str) -> str:
    """A farmer asks for a log-in code in their own browser; the code as the text says it."""
    from ruralinfo.sms.models import OTP, OutboundMessage

    client.post("/login/code", data={"phone": phone})
    body = db.session.scalar(select(OutboundMessage.body).where(OutboundMessage.kind == OTP))
    return "".join(ch for ch in body if ch.isdigit())[:6]


def test_a_log_in_code_is_shown_only_to_whoever_uses_that_phone(app, client, staff, make_farmer):
    farmer = make_farmer(region_code=CHANGXI)
    code = _code_to(app.test_client(), farmer.phone)
    looking = client.get(f"/dev/phone/{farmer.phone}").get_data(as_text=True)
    assert code not in looking and "shown only to whoever uses this phone" in looking
    assert all(code not in item["body"] for item in
               client.get(f"/dev/phone/{farmer.phone}/messages.json").get_json())
    assert client.post(f"/dev/phone/{farmer.phone}/drive").status_code == 302
    assert code in client.get(f"/dev/phone/{farmer.phone}").get_data(as_text=True)
    other = make_farmer(region_code=CHANGXI)
    client.post(f"/dev/phone/{other.phone}/drive")  # one phone at a time
    assert code not in client.get(f"/dev/phone/{farmer.phone}").get_data(as_text=True)


def test_acting_as_a_farmer_is_in_the_audit_log(app, client, staff, make_farmer):
    from ruralinfo.audit.models import AuditEntry

    farmer = make_farmer(region_code=CHANGXI)
    client.post(f"/dev/phone/{farmer.phone}/send", data={"body": "帮助"})
    client.post(f"/dev/phone/{farmer.phone}/send", data={"body": "我的"})
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action.like("dev.phone.%"))
                                 .order_by(AuditEntry.id)).all()
    assert [e.action for e in entries] == ["dev.phone.drive", "dev.phone.send", "dev.phone.send"]
    assert all(e.actor_id == staff.id and e.target_id == farmer.id for e in entries)
    texts = {e.details["text"] for e in entries[1:]}
    assert texts == set(db.session.scalars(select(InboundMessage.id)))


def test_a_suspended_points_liaison_cannot_act_as_a_farmer(app, client, make_point, make_staff, make_farmer,
                                                           login):
    point = make_point("长溪村联络点", (CHANGXI,), status="suspended")
    farmer = make_farmer(region_code=CHANGXI)
    login(make_staff(roles.LIAISON, point=point))
    assert client.get(f"/dev/phone/{farmer.phone}").status_code == 200  # looking is allowed
    response = client.post(f"/dev/phone/{farmer.phone}/send", data={"body": "卖 土豆 500斤"})
    assert response.status_code == 403 and "suspended" in response.get_data(as_text=True)
    assert client.post(f"/dev/phone/{farmer.phone}/drive").status_code == 403
    assert db.session.scalar(select(Post)) is None and db.session.scalar(select(InboundMessage)) is None


def test_without_the_simulator_every_staff_page_still_renders(app_config, make_staff, make_point):
    from tests.conftest import FreshGlobalsClient

    app = create_app({**app_config, "DEV_SIMULATORS": False})
    app.test_client_class = FreshGlobalsClient
    with app.app_context():
        point = make_point("长溪村联络点", (CHANGXI,))
        for role, page in ((roles.ADMIN, "/admin/points/"), (roles.STAFF, "/bureau/"),
                           (roles.LIAISON, "/liaison/")):
            user = make_staff(role, point=point if role == roles.LIAISON else None)
            client = app.test_client()
            client.post("/login", data={"phone": user.phone, "password": PASSWORD})
            response = client.get(page)
            assert response.status_code == 200, (role, page)
            assert "/dev/phone" not in response.get_data(as_text=True)
