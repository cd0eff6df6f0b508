"""The command line: create-staff and the demo county."""
from sqlalchemy import func, select

from ruralinfo.accounts import identity, login, phones, roles
from ruralinfo.accounts import services as accounts
from ruralinfo.accounts.models import User
from ruralinfo.extensions import db
from ruralinfo.liaison.models import LiaisonPoint


def test_create_staff_with_options(app):
    result = app.test_cli_runner().invoke(args=[
        "create-staff", "--name", "赵管理", "--phone", "139 1234 5678", "--role", "admin", "--role", "staff",
        "--password", "a-long-password"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.phone == "+8613912345678"))
    assert user.roles == {"admin", "staff"}
    assert login.authenticate("13912345678", "a-long-password").user == user


def test_create_staff_asks_and_explains_bad_input(app):
    result = app.test_cli_runner().invoke(args=["create-staff"],
                                          input="赵管理\n12345\nshort\nshort\nadmin\n")
    assert result.exit_code == 1
    assert "not a valid phone number" in result.output and "at least 8 characters" in result.output
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_demo_county_is_believable_and_valid(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "13900000001" in result.output and "demo-2026" in result.output
    farmers = db.session.scalars(accounts.farmers(None)).all()
    assert 190 <= len(farmers) <= 200
    for farmer in farmers:
        number = identity.vault().decrypt(farmer.id_cipher)
        assert accounts.clean_id_number(number) == number           # passes the same checks as real data
        assert phones.normalize(farmer.phone) == farmer.phone
        assert farmer.region_code.startswith("330282") and farmer.groups and farmer.consent_at
    villages = {f.region_code for f in farmers}
    assert len(villages) >= 15
    points = db.session.scalars(select(LiaisonPoint)).all()
    assert len(points) == 16 and all(p.liaisons for p in points)
    everyone = db.session.scalars(select(User)).all()
    for role in (roles.ADMIN, roles.STAFF, roles.APPROVER, roles.EXPERT, roles.LIAISON):
        assert any(u.has_role(role) for u in everyone), role
    from mailbox.models import Letter, Post

    assert db.session.scalar(select(func.count(Post.id))) == 8  # the mailbox has something to show
    assert db.session.scalar(select(func.count(Letter.id))) >= 2
    again = runner.invoke(args=["demo", "--if-empty"])
    assert "already has accounts" in again.output
    assert db.session.scalar(select(func.count(User.id))) == len(everyone)


def test_the_sweep_command_sends_texts_held_until_now(app, database_url):
    """`flask --app wsgi sweep`, which `make run` starts beside the web server."""
    import os
    import pathlib
    import signal
    import subprocess
    import sys
    import time

    from ruralinfo.sms import services as sms
    from ruralinfo.sms.models import OutboundMessage

    message = sms.queue_sms("+8613800138000", "早上好", kind="notice")
    db.session.commit()  # queued and never dispatched, as a text held for the night
    root = pathlib.Path(__file__).resolve().parents[2]
    env = {**os.environ, "DATABASE_URL": database_url, "FLASK_DEBUG": "1"}
    env.pop("REDIS_URL", None)
    process = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "sweep", "--every", "1"], cwd=root,
                               env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(60):
            db.session.expire_all()
            if db.session.get(OutboundMessage, message.id).status == "sent":
                break
            time.sleep(0.25)
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)
    assert db.session.get(OutboundMessage, message.id).status == "sent"
