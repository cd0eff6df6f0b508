"""Fixtures shared by the whole suite.

Every test gets a fresh app and a freshly migrated database. Database tests run
on SQLite, and again on PostgreSQL when ``TEST_DATABASE_URL`` is set: the schema
is made once per session by the real migrations; SQLite tests then copy the
migrated file, PostgreSQL tests truncate what they wrote.
"""
from __future__ import annotations

import os
import shutil
from datetime import date
from itertools import count

import pytest
from flask import g, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import delete, text

from ruralinfo import create_app
from ruralinfo.accounts import identity, roles
from ruralinfo.accounts import services as accounts
from ruralinfo.accounts.defaults import DEFAULT_GROUPS
from ruralinfo.accounts.models import InterestGroup, User
from ruralinfo.extensions import db
from ruralinfo.liaison.models import LiaisonPoint
from ruralinfo.regions import services as regions
from ruralinfo.regions.models import Region

BACKENDS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])
PASSWORD = "correct-horse-42"
ZHANGQI = "330282104"           # 掌起镇, the township whose villages ship with the project
CHANGXI = "330282104201"        # 长溪村
WUXINGDIAN = "330282104202"     # 五姓点村
BALI = "330282104203"           # 巴里村
OTHER_TOWNSHIP = "330282107"    # 观海卫镇 (no villages loaded)

BASE_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-0123456789",
    "IDENTITY_KEY": "test-identity-key-0123456789-abcdefghijklmnop",
    "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",  # fast in tests; production uses scrypt
    "WTF_CSRF_ENABLED": False,
    "RATELIMIT_ENABLED": False,
    "DEV_SIMULATORS": True,  # the phone simulator; tests/ruralinfo/dev checks it is off by default
    "WORKER_NICE": 0,  # a worker run inside pytest leaves its priority alone; tests/ruralinfo/test_jobs.py checks both
    "SERVER_NAME": None,
    # Tests read messages in English; tests/ruralinfo/test_i18n.py checks the Chinese default.
    "BABEL_DEFAULT_LOCALE": "en",
}


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app({**BASE_CONFIG, "DATABASE_URL": url})
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_url():
    url = os.environ["TEST_DATABASE_URL"]
    app = create_app({**BASE_CONFIG, "DATABASE_URL": url})
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        db.engine.dispose()
    _migrate(url)
    return url


def _reset_postgres(url: str) -> None:
    """Empty what tests write, keep the migrated schema and the shipped regions."""
    from sqlalchemy import create_engine

    keep = {"alembic_version", "regions", "product_categories", "products", "product_words",
            "broadcast_topics", "broadcast_templates",
            "hotline_menu_versions", "hotline_menu_nodes"}  # shipped data (a test that edits it puts it back)
    tables = [t.name for t in db.metadata.sorted_tables if t.name not in keep]
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        conn.execute(delete(Region).where(Region.level == 5, ~Region.code.startswith(ZHANGQI)))
        conn.execute(InterestGroup.__table__.insert(),
                     [{"name_zh": zh, "name_en": en, "active": True} for zh, en in DEFAULT_GROUPS])
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("postgres_url")
        yield url
        _reset_postgres(url)  # after every app of the test (fixtures tear down in reverse order)


@pytest.fixture
def app_config(database_url):
    """Override keys here (``app_config["X"] = …``) before ``app`` is first used."""
    return {**BASE_CONFIG, "DATABASE_URL": database_url}


class FreshGlobalsClient(FlaskClient):
    """Requests made while a test holds the app context share its ``g``; in
    production each request has its own. Empty ``g`` (Flask-Login's user,
    Flask-Babel's locale) before every request, as a real server would."""

    def open(self, *args, **kwargs):
        if has_app_context():
            for key in list(g):
                g.pop(key)
        return super().open(*args, **kwargs)


@pytest.fixture
def app(app_config):
    app = create_app(dict(app_config))
    app.test_client_class = FreshGlobalsClient
    with app.app_context():
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    """A browser session that has chosen English (tests read English messages)."""
    client = app.test_client()
    client.get("/lang/en")
    return client


_phones = count(1)
_sequence = count(1)


def next_phone() -> str:
    return f"+86138{next(_phones) + 10_000_000:08d}"[:14]


def next_id_number(region6: str = "330282", born: date = date(1975, 6, 1)) -> str:
    return identity.compose(region6, born, next(_sequence) % 1000)


@pytest.fixture
def make_point(app):
    def make(name="长溪村联络点", region_codes=(CHANGXI,), status="active") -> LiaisonPoint:
        point = LiaisonPoint(name=name, address="村委会", phone="0574-63000000", opening_hours="8:00-17:00",
                             status=status)
        point.regions = [db.session.get(Region, code) for code in region_codes]
        db.session.add(point)
        db.session.commit()
        return point
    return make


@pytest.fixture
def make_staff(app):
    def make(*role_names, point: LiaisonPoint | None = None, name="王建国", phone=None) -> User:
        return accounts.create_staff(name=name, phone=phone or next_phone(), password=PASSWORD,
                                     role_names=list(role_names) or [roles.STAFF], actor=None, channel="cli",
                                     liaison_point_id=point.id if point else None)
    return make


@pytest.fixture
def make_farmer(app):
    def make(region_code=CHANGXI, name="李秀英", phone=None, id_number=None, groups=("葡萄",)) -> User:
        data = accounts.FarmerData(name=name, id_number=id_number or next_id_number(), phone=phone or next_phone(),
                                   region_code=region_code, groups=list(groups))
        return accounts.register_farmer(data, actor=None, channel="cli", scope=None, consent=True)
    return make


@pytest.fixture
def login(client):
    def do(user: User, password: str = PASSWORD):
        response = client.post("/login", data={"phone": user.phone, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)
        return response
    return do


@pytest.fixture
def db_dump(app):
    """Every text and binary value in every table, as one string to search."""
    def dump() -> str:
        parts = []
        with db.engine.connect() as conn:
            for table in db.metadata.sorted_tables:
                if table.name == "regions":
                    continue
                for row in conn.execute(table.select()):
                    for value in row:
                        if isinstance(value, bytes):
                            parts.append(value.decode("latin-1"))
                        elif value is not None:
                            parts.append(str(value))
        return "\n".join(parts)
    return dump


# --- browser tests -------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (its own browser download does not work here)."""
    if not os.path.exists(CHROMIUM):
        pytest.fail("Chromium is missing: run `make browser-deps` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app_config):
    """The app served on a free port of 127.0.0.1 in a thread, with CSRF on, as in production."""
    import threading

    from werkzeug.serving import make_server

    app = create_app({**app_config, "WTF_CSRF_ENABLED": True})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with app.app_context():
        yield type("LiveServer", (), {"url": f"http://127.0.0.1:{server.server_port}", "app": app})
        server.shutdown()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(locale="zh-CN", viewport={"width": 1024, "height": 768})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


# --- SMS -------------------------------------------------------------------------------------

_sids = count(1)


@pytest.fixture
def signed_post(app, client):
    """POST form ``params`` to a webhook ``path`` with a real Twilio signature,
    computed for ``url`` (by default PUBLIC_BASE_URL + path, as Twilio does)."""
    from ruralinfo.sms.webhooks import sign

    def post(path: str, params: dict, url: str | None = None, signature: str | None = None):
        target = url or app.config["PUBLIC_BASE_URL"].rstrip("/") + path
        headers = {"X-Twilio-Signature": signature if signature is not None else sign(target, params)}
        return client.post(path, data=params, headers=headers)
    return post


@pytest.fixture
def text_in(signed_post):
    """A text from ``phone`` arriving at the inbound webhook; returns (response, the reply's
    texts joined by line breaks, or None)."""
    import xml.etree.ElementTree as ET

    def send(phone: str, body: str, sid: str | None = None):
        params = {"MessageSid": sid or f"SM{next(_sids):032x}", "From": phone, "To": "+8610690000",
                  "Body": body, "AccountSid": "AC" + "0" * 32, "NumMedia": "0"}
        response = signed_post("/twilio/sms", params)
        assert response.status_code == 200, response.get_data(as_text=True)
        root = ET.fromstring(response.get_data())
        assert root.tag == "Response"
        messages = root.findall("Message")  # an answer may take two texts
        return response, ("\n".join(message.text for message in messages) if messages else None)
    return send
