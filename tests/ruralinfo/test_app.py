"""The app factory, configuration, security headers, CSRF and log-in."""
import pytest
from sqlalchemy import select

from ruralinfo import create_app
from ruralinfo.accounts import roles
from ruralinfo.audit.models import AuditEntry
from ruralinfo.config import ConfigError
from ruralinfo.extensions import db
from tests.conftest import BASE_CONFIG, PASSWORD


@pytest.mark.parametrize("key", ["SECRET_KEY", "IDENTITY_KEY"])
def test_refuses_default_secrets_outside_debug_and_testing(monkeypatch, tmp_path, key):
    monkeypatch.chdir(tmp_path)
    config = {"SECRET_KEY": "s" * 40, "IDENTITY_KEY": "i" * 40, "DATABASE_URL": "sqlite://"}
    config.pop(key)
    with pytest.raises(ConfigError, match=key):
        create_app(config)
    create_app({**config, "TESTING": True})  # testing may use the development defaults


def test_environment_configures_the_app(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("IDENTITY_KEY", "i" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db.example/rural")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://rural.example.cn")
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/rural"
    assert app.config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("key", ["SMS_RATE", "BROADCAST_MAX_HOURS"])
def test_a_rate_or_a_time_of_nothing_is_refused(app_config, key):
    from ruralinfo.config import ConfigError

    with pytest.raises(ConfigError, match=key):
        create_app({**app_config, key: 0})


def test_the_broadcast_settings_come_from_the_environment_as_numbers(monkeypatch):
    for key, value in (("SECRET_KEY", "s" * 40), ("IDENTITY_KEY", "i" * 40), ("SMS_RATE", "12.5"),
                       ("SMS_PRICE", "0.05"), ("SMS_CURRENCY", "CNY"), ("BROADCAST_DAILY_CAP", "3"),
                       ("BROADCAST_APPROVAL_THRESHOLD", "800"), ("BROADCAST_MAX_HOURS", "2.5")):
        monkeypatch.setenv(key, value)
    config = create_app().config
    assert (config["SMS_RATE"], config["SMS_PRICE"], config["BROADCAST_DAILY_CAP"],
            config["BROADCAST_APPROVAL_THRESHOLD"], config["BROADCAST_MAX_HOURS"]) == (12.5, "0.05", 3, 800, 2.5)


@pytest.mark.parametrize(("value", "read"), [("idle", "idle"), (" IDLE ", "idle"), ("12", 12), ("0", 0)])
def test_the_worker_priority_comes_from_the_environment(monkeypatch, value, read):
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("IDENTITY_KEY", "i" * 40)
    monkeypatch.setenv("WORKER_NICE", value)
    assert create_app().config["WORKER_NICE"] == read


@pytest.mark.parametrize("value", ["low", "20", "-5"])
def test_a_worker_priority_that_means_nothing_is_refused_with_what_is_allowed(monkeypatch, value):
    from ruralinfo.config import ConfigError

    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("IDENTITY_KEY", "i" * 40)
    monkeypatch.setenv("WORKER_NICE", value)
    with pytest.raises(ConfigError, match="WORKER_NICE must be 'idle' or a number from 0 to 19"):
        create_app()


def test_security_headers_and_cookie_flags(client, make_staff):
    user = make_staff(roles.ADMIN)
    response = client.post("/login", data={"phone": user.phone, "password": PASSWORD})
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    session_cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie


def test_forms_need_the_csrf_token(app_config, make_staff):
    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    with app.app_context():
        user = make_staff(roles.ADMIN)
        client = app.test_client()
        response = client.post("/login", data={"phone": user.phone, "password": PASSWORD})
        assert response.status_code == 400
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        response = client.post("/login", data={"phone": user.phone, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302


def test_staff_log_in_lands_in_their_area(client, make_staff):
    liaison = make_staff(roles.LIAISON)
    response = client.post("/login", data={"phone": liaison.phone.replace("+86", ""), "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"].endswith("/liaison/")
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "login")).actor_id == liaison.id


def test_wrong_passwords_lock_the_account_with_a_clear_message(client, make_staff):
    user = make_staff(roles.ADMIN)
    for _ in range(4):
        page = client.post("/login", data={"phone": user.phone, "password": "wrong"}).get_data(as_text=True)
        assert "Wrong mobile number or password" in page
    page = client.post("/login", data={"phone": user.phone, "password": "wrong"}).get_data(as_text=True)
    assert "locked until" in page
    page = client.post("/login", data={"phone": user.phone, "password": PASSWORD}).get_data(as_text=True)
    assert "locked until" in page  # even the right password waits for the lock to end
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "login.locked")) is not None


def test_an_unknown_number_gets_the_same_message_as_a_wrong_password(client):
    page = client.post("/login", data={"phone": "13912345678", "password": "x"}).get_data(as_text=True)
    assert "Wrong mobile number or password" in page


def test_deactivated_staff_cannot_log_in(client, make_staff):
    user = make_staff(roles.ADMIN)
    user.active = False
    db.session.commit()
    page = client.post("/login", data={"phone": user.phone, "password": PASSWORD}).get_data(as_text=True)
    assert "deactivated" in page


def test_log_in_is_rate_limited_per_address(app_config):
    app = create_app({**app_config, "RATELIMIT_ENABLED": True})
    client = app.test_client()
    codes = [client.post("/login", data={"phone": "13912345678", "password": "x"}).status_code
             for _ in range(25)]
    assert codes[:20] == [200] * 20 and codes[-1] == 429
    assert "Too many attempts" in client.post("/login", data={}).get_data(as_text=True)


def test_the_next_parameter_cannot_send_people_elsewhere(client, make_staff):
    user = make_staff(roles.ADMIN)
    response = client.post("/login?next=//evil.example/x", data={"phone": user.phone, "password": PASSWORD})
    assert "evil.example" not in response.headers["Location"]


def test_the_favicon_is_served(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    assert 'rel="icon"' in client.get("/login").get_data(as_text=True)


def test_make_run_says_which_port_is_taken():
    import socket
    import subprocess
    import sys

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        port = busy.getsockname()[1]
        result = subprocess.run([sys.executable, "scripts/port_free.py", str(port)], capture_output=True, text=True)
    assert result.returncode != 0 and f"Port {port} is already in use" in result.stderr
    assert f"make run PORT={port + 1}" in result.stderr


def test_the_access_log_never_writes_a_query_string():
    """Kannel puts its secret, the sender's number and the text in the query string."""
    import runpy
    from datetime import timedelta
    from pathlib import Path
    from types import SimpleNamespace

    from gunicorn.config import Config
    from gunicorn.glogging import Logger

    settings = runpy.run_path(str(Path(__file__).resolve().parents[2] / "gunicorn.conf.py"))
    config = Config()
    config.set("access_log_format", settings["access_log_format"])
    query = "secret=kannel-secret-0123456789&from=8613800138000&text=%E5%8D%96"
    environ = {"REQUEST_METHOD": "POST", "RAW_URI": f"/kannel/sms?{query}", "PATH_INFO": "/kannel/sms",
               "QUERY_STRING": query, "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1"}
    response = SimpleNamespace(status="200 OK", headers=[], sent=0)
    line = settings["access_log_format"] % Logger(config).atoms(response, [], environ, timedelta(milliseconds=12))
    assert line.startswith('127.0.0.1 "POST /kannel/sms" 200')
    assert "secret" not in line and "13800138000" not in line and "text" not in line
