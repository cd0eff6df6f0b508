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
    assert [i["dir"] for i in items] == ["out", "in"] and items[1]["kind"] == "reply"


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
    assert client.get(f"/dev/phone/{theirs.phone}").status_code == 404
    assert client.post(f"/dev/phone/{theirs.phone}/send", data={"body": "TD"}).status_code == 404
    db.session.refresh(theirs)
    assert theirs.sms_opt_out is False
    assert client.get(f"/dev/phone/{mine.phone}").status_code == 200


def test_farmers_and_visitors_cannot_use_it(app, client):
    assert client.get("/dev/phone").status_code == 302  # to the log-in page


def test_there_is_no_simulator_with_a_real_gateway(app_config, make_staff):
    app = create_app({**app_config, "SMS_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
                      "TWILIO_AUTH_TOKEN": "t" * 32, "TWILIO_FROM": "+15005550006"})
    with app.app_context():
        user = make_staff(roles.ADMIN)
        client = app.test_client()
        client.post("/login", data={"phone": user.phone, "password": PASSWORD})
        assert client.get("/dev/phone").status_code == 404
