"""``flask --app wsgi doctor``: one line a check (ok, warning or PROBLEM, the name, what to do),
exit status 1 on a PROBLEM, every check run even when one fails, and never a secret — against
the real database, Redis, the fake Twilio API driven by the real client, and a real Kannel."""
from __future__ import annotations

import json
import os
import re
import time
import urllib.request

import pytest
from sqlalchemy import text

from ruralinfo import create_app, doctor
from ruralinfo.config import DEV_SECRET_KEY
from ruralinfo.extensions import db
from tests.fakes.twilio_api import FakeTwilio
from tests.kannel.harness import KannelHarness, free_port, require_kannel

REDIS = os.environ.get("TEST_REDIS_URL")
NAMES = ["configuration", "secrets", "database", "redis", "SMS gateway", "public address"]
LINE = re.compile(r"^(ok|warning|PROBLEM) +(.+?): (.*)$")

ACCOUNT_SID = "AC" + "d0c7" * 8
AUTH_TOKEN = "twilio-auth-token-d0c7or-5ecret"
KANNEL_SECRET = "kannel-doctor-secret-0123456789"


def run_doctor(config: dict, *args: str):
    """The command as an operator runs it, on an app made from ``config``."""
    app = create_app(dict(config))
    with app.app_context():  # this app's, not another a fixture has pushed
        try:
            return app.test_cli_runner().invoke(args=["doctor", *args])
        finally:
            db.engine.dispose()


def report(result) -> dict[str, tuple[str, str]]:
    """name → (level, message) of every check line (the summary line aside)."""
    found = {}
    for line in result.output.splitlines():
        match = LINE.match(line)
        if match:
            found[match[2]] = (match[1], match[3])
    return found


def assert_absent(output: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in output, f"a secret was printed: {secret[:3]}…"


# --- the configuration and the secrets ---------------------------------------------------------

def test_a_healthy_configuration_exits_0_with_only_the_expected_warnings(app_config, live_server):
    config = {**app_config, "PUBLIC_BASE_URL": live_server.url, "REDIS_URL": REDIS or ""}
    result = run_doctor(config)
    assert result.exit_code == 0, result.output
    found = report(result)
    assert list(found) == NAMES
    level, message = found["configuration"]
    assert level == "warning"
    assert "texts are kept on this machine, nobody receives them" in message
    assert "an address only this machine reaches" in message
    assert found["secrets"] == ("ok", "long enough.")
    assert found["database"][0] == "ok" and "schema is up to date" in found["database"][1]
    if REDIS:  # a warning when no worker is running, as in this test
        level, message = found["redis"]
        assert (level, message.endswith("running.")) == ("ok", True) or (level == "warning" and message.endswith(
            "answers, but no worker is running: background jobs wait until one runs; start `flask --app wsgi worker`."))
    else:
        assert found["redis"] == ("ok", "not used (jobs run inline).")
    assert found["SMS gateway"] == ("ok", "outbox: nothing to connect to.")
    assert found["public address"] == ("ok", f"{live_server.url}/healthz answers.")
    warnings = [name for name, (level, _) in found.items() if level == "warning"]
    assert set(warnings) <= {"configuration", "redis"}
    assert result.output.splitlines()[-1] == f"0 problems, {len(warnings)} warning{'s' * (len(warnings) > 1)}."
    assert_absent(result.output, config["SECRET_KEY"], config["IDENTITY_KEY"])


def test_the_development_secret_key_is_a_problem_and_exit_1(app_config):
    config = {**app_config, "SECRET_KEY": DEV_SECRET_KEY, "IDENTITY_KEY": "too-short-identity-key"}
    result = run_doctor(config)
    assert result.exit_code == 1
    found = report(result)
    assert list(found) == NAMES  # the other checks ran
    level, message = found["configuration"]
    assert level == "PROBLEM" and "SECRET_KEY is the development default: set a long random value" in message
    assert found["secrets"][0] == "PROBLEM" and "IDENTITY_KEY is shorter than 32 characters" in found["secrets"][1]
    assert found["database"][0] == "ok"
    assert_absent(result.output, DEV_SECRET_KEY, "too-short-identity-key")


def test_the_public_address_is_judged_for_who_must_reach_it(app_config):
    def configuration(**keys) -> tuple[str, str]:
        app = create_app({**app_config, **keys})
        with app.app_context():
            (finding,) = doctor.run_all([doctor.check_configuration])
            db.engine.dispose()
        return finding.level, finding.message

    kannel = {"SMS_BACKEND": "kannel", "KANNEL_USERNAME": "ruralinfo", "KANNEL_PASSWORD": "pass-word-42",
              "KANNEL_SECRET": KANNEL_SECRET}
    assert configuration(SMS_BACKEND="twilio", TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN,
                         TWILIO_FROM="+15005550006", PUBLIC_BASE_URL="https://nongmin.example.cn") == \
        ("ok", "SMS_BACKEND is twilio.")
    level, message = configuration(PUBLIC_BASE_URL="http://nongmin.example.cn", **kannel,
                                   KANNEL_SEND_URL="http://10.0.0.5:13013/cgi-bin/sendsms")
    assert level == "warning" and "not https" in message
    # Kannel on this machine reaches the app at 127.0.0.1: nothing to say
    assert configuration(**kannel, KANNEL_SEND_URL="http://127.0.0.1:13013/cgi-bin/sendsms") == \
        ("ok", "SMS_BACKEND is kannel.")
    level, message = configuration(**kannel, KANNEL_SEND_URL="http://10.0.0.5:13013/cgi-bin/sendsms")
    assert level == "warning" and "an address only this machine reaches" in message


def test_a_setting_lost_after_start_is_named_by_the_configuration_and_the_gateway(app_config):
    app = create_app({**app_config, "SMS_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
                      "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_FROM": "+15005550006"})
    app.config["TWILIO_FROM"] = ""  # the start-up check would have refused it missing
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["doctor"])
        db.engine.dispose()
    assert result.exit_code == 1
    found = report(result)
    level, message = found["configuration"]
    assert level == "PROBLEM" and message.startswith("SMS_BACKEND is twilio but TWILIO_FROM not set.")
    assert found["SMS gateway"][0] == "PROBLEM" and "needs TWILIO_ACCOUNT_SID" in found["SMS gateway"][1]
    assert_absent(result.output, AUTH_TOKEN)


def test_a_check_that_breaks_is_a_problem_naming_its_error_and_the_others_run(app):
    def broken():
        return 1 / 0

    def tells_the_token():
        return doctor.Finding("chatty", doctor.WARNING, f"token {app.config['SECRET_KEY']} and more")

    findings = doctor.run_all([broken, doctor.check_secrets, tells_the_token])
    assert findings[0] == doctor.Finding("broken", doctor.PROBLEM, "the check itself failed (ZeroDivisionError); "
                                                                   "the other checks ran. Please report this.")
    assert findings[1].name == "secrets" and findings[1].level == doctor.OK
    assert findings[2].message == "token *** and more"


def test_json_lists_the_findings_and_keeps_the_exit_status(app_config):
    result = run_doctor({**app_config, "SECRET_KEY": DEV_SECRET_KEY}, "--json")
    assert result.exit_code == 1
    findings = json.loads(result.output)
    assert [f["name"] for f in findings] == NAMES
    assert set(findings[0]) == {"name", "level", "message"} and findings[0]["level"] == "PROBLEM"
    assert_absent(result.output, DEV_SECRET_KEY, app_config["IDENTITY_KEY"])


# --- the database and Redis ----------------------------------------------------------------------

def test_a_schema_behind_the_migrations_is_a_problem_saying_to_upgrade(app_config):
    app = create_app(dict(app_config))
    with app.app_context():
        from alembic.script import ScriptDirectory

        script = ScriptDirectory(app.extensions["migrate"].directory)
        head = script.get_current_head()
        older = script.get_revision(head).down_revision
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :older"), {"older": older})
        try:
            result = app.test_cli_runner().invoke(args=["doctor"])
            with db.engine.begin() as connection:  # a revision this version does not know: a later version's
                connection.execute(text("UPDATE alembic_version SET version_num = 'f0f0f0f0f0f0'"))
            newer = app.test_cli_runner().invoke(args=["doctor"])
        finally:
            with db.engine.begin() as connection:  # the PostgreSQL schema is shared by the session
                connection.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
            db.engine.dispose()
    assert result.exit_code == 1
    level, message = report(result)["database"]
    assert level == "PROBLEM"
    assert f"the database's schema is behind (it is at {older}, this version needs {head})" in message
    assert "run `flask --app wsgi db upgrade`" in message
    assert newer.exit_code == 1
    assert report(newer)["database"] == ("PROBLEM", "the database's schema (f0f0f0f0f0f0) is newer than this version "
                                                    "of ruralinfo knows: run the version that upgraded it.")


def test_an_empty_or_missing_database_is_a_problem_saying_to_upgrade(app_config, tmp_path):
    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    result = run_doctor({**app_config, "DATABASE_URL": f"sqlite:///{empty}"})
    assert result.exit_code == 1
    assert report(result)["database"] == ("PROBLEM", f"the database at sqlite:///{empty} has no tables yet: "
                                                     "run `flask --app wsgi db upgrade`.")
    missing = tmp_path / "missing.sqlite3"
    result = run_doctor({**app_config, "DATABASE_URL": f"sqlite:///{missing}"})
    assert report(result)["database"] == ("PROBLEM", f"the database file {missing} does not exist yet: "
                                                     "run `flask --app wsgi db upgrade`.")
    assert not missing.exists()  # doctor made no empty file


def test_a_database_that_does_not_answer_is_a_problem_without_its_password(app_config):
    result = run_doctor({**app_config, "DATABASE_URL": "postgresql://nobody:db-pass-word-42@127.0.0.1:1/none"})
    assert result.exit_code == 1
    found = report(result)
    assert list(found) == NAMES
    level, message = found["database"]
    assert level == "PROBLEM"
    assert message.startswith("the database at postgresql://nobody:***@127.0.0.1:1/none does not answer (")
    assert message.endswith("): start it, or correct DATABASE_URL.")
    assert_absent(result.output, "db-pass-word-42")


def test_redis_that_does_not_answer_is_a_problem_and_the_other_checks_still_run(app_config):
    result = run_doctor({**app_config, "REDIS_URL": "redis://:redis-pass-word-42@127.0.0.1:1"})
    assert result.exit_code == 1
    found = report(result)
    assert list(found) == NAMES
    assert found["redis"] == ("PROBLEM", "Redis at 127.0.0.1:1 does not answer (ConnectionError): "
                                         "start Redis, or correct REDIS_URL.")
    assert found["database"][0] == "ok" and found["SMS gateway"][0] == "ok"
    assert_absent(result.output, "redis-pass-word-42")


# --- Twilio, through the fake API driven by the real client ---------------------------------------

@pytest.fixture
def fake_twilio():
    with FakeTwilio(ACCOUNT_SID, AUTH_TOKEN) as fake:
        yield fake


@pytest.fixture
def twilio_config(app_config, fake_twilio):
    return {**app_config, "SMS_BACKEND": "twilio", "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN, "TWILIO_FROM": "+15005550006", "TWILIO_API_BASE": fake_twilio.url,
            "HOTLINE_NUMBER": "+15005550007", "PUBLIC_BASE_URL": f"http://127.0.0.1:{free_port()}"}


def test_a_twilio_account_that_exists_is_ok_and_its_token_is_never_shown(twilio_config, fake_twilio):
    result = run_doctor(twilio_config)
    assert result.exit_code == 0, result.output
    found = report(result)
    assert found["SMS gateway"] == ("ok", "Twilio account 'ruralinfo test account' is active.")
    assert found["hotline call-back"] == ("ok", "has a number to call from.")
    assert ("GET", f"/2010-04-01/Accounts/{ACCOUNT_SID}.json") in fake_twilio.requests
    assert_absent(result.output, AUTH_TOKEN)  # Twilio's answer carries it


def test_a_wrong_twilio_token_is_a_problem(twilio_config):
    result = run_doctor({**twilio_config, "TWILIO_AUTH_TOKEN": "not-the-right-token-42"})
    assert result.exit_code == 1
    assert report(result)["SMS gateway"] == ("PROBLEM", "Twilio refused TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN "
                                                        "(HTTP 401): copy both again from the Twilio console.")
    assert_absent(result.output, "not-the-right-token-42")


def test_a_trial_twilio_warns_a_suspended_or_unreachable_one_is_a_problem(twilio_config, fake_twilio):
    fake_twilio.account_type = "Trial"
    level, message = report(run_doctor(twilio_config))["SMS gateway"]
    assert level == "warning" and message.startswith("the Twilio account is a trial: it texts only verified numbers")
    fake_twilio.account_status = "suspended"
    level, message = report(run_doctor(twilio_config))["SMS gateway"]
    assert level == "PROBLEM" and message.startswith("the Twilio account is suspended: no text goes out")
    fake_twilio.stop()
    level, message = report(run_doctor(twilio_config))["SMS gateway"]
    assert level == "PROBLEM" and message.startswith("Twilio cannot be reached (ConnectionError)")


def test_a_messaging_service_with_a_short_hotline_number_warns_about_the_call_back(twilio_config):
    result = run_doctor({**twilio_config, "TWILIO_FROM": "MG" + "0" * 32, "HOTLINE_NUMBER": "12316"})
    assert result.exit_code == 0, result.output
    level, message = report(result)["hotline call-back"]
    assert level == "warning"
    assert ("the hotline's call-back has no number to call from; set HOTLINE_NUMBER to the Twilio voice number"
            in message)


# --- Kannel, a real one ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def kannel():
    """A running Kannel (bearerbox, smsbox, the fake SMSC) for this module; skips when not installed."""
    require_kannel()
    harness = KannelHarness(secret=KANNEL_SECRET).start()
    yield harness
    harness.stop()


def kannel_config(app_config: dict, harness, **keys) -> dict:
    return {**app_config, "SMS_BACKEND": "kannel", "KANNEL_SEND_URL": harness.send_url,
            "KANNEL_USERNAME": harness.username, "KANNEL_PASSWORD": harness.password,
            "KANNEL_SECRET": KANNEL_SECRET, "KANNEL_STATUS_URL": harness.status_url,
            "SMS_OPTOUT_HINT": "拒收请回复R", "KANNEL_FROM": "1069012316", "PUBLIC_BASE_URL": f"http://127.0.0.1:{free_port()}", **keys}


def kannel_secrets(harness) -> tuple[str, ...]:
    return harness.password, harness.admin_password, KANNEL_SECRET


@pytest.mark.parametrize("page", ["status.txt", "status.xml"])
def test_kannel_with_its_smsc_online_is_ok(app_config, kannel, page):
    config = kannel_config(app_config, kannel, KANNEL_STATUS_URL=kannel.status_url.replace("status.txt", page))
    result = run_doctor(config)
    assert result.exit_code == 0, result.output
    found = report(result)
    assert found["SMS gateway"] == ("ok", "smsbox answers. SMSC link online: fake.")
    assert found["configuration"] == ("ok", "SMS_BACKEND is kannel.")  # 127.0.0.1 is right for Kannel here
    assert found["operator rules"] == ("ok", "signature, opt-out hint and sender set.")
    assert_absent(result.output, *kannel_secrets(kannel))


def test_kannel_not_reachable_is_a_problem_without_its_passwords(app_config, kannel):
    closed = free_port()
    status_url = f"http://127.0.0.1:{closed}/status.xml?password={kannel.admin_password}"
    result = run_doctor(kannel_config(app_config, kannel, KANNEL_STATUS_URL=status_url))
    assert result.exit_code == 1
    assert report(result)["SMS gateway"] == (
        "PROBLEM", f"bearerbox's status page http://127.0.0.1:{closed}/status.xml?password=*** cannot be reached "
                   "(connection refused): start Kannel, or correct KANNEL_STATUS_URL (from another machine: add it "
                   "to admin-allow-ip).")
    send_url = f"http://127.0.0.1:{closed}/cgi-bin/sendsms"
    result = run_doctor(kannel_config(app_config, kannel, KANNEL_SEND_URL=send_url, KANNEL_STATUS_URL=""))
    assert result.exit_code == 1
    level, message = report(result)["SMS gateway"]
    assert level == "PROBLEM"
    assert message.startswith(f"smsbox not reachable at {send_url} (connection refused): start Kannel")
    assert "KANNEL_STATUS_URL is not set, so the link to the operator (SMPP) cannot be checked" in message
    assert_absent(result.output, *kannel_secrets(kannel))


def test_kannel_refusing_our_passwords_is_a_problem(app_config, kannel):
    result = run_doctor(kannel_config(app_config, kannel, KANNEL_PASSWORD="wrong-sendsms-pass",
                                      KANNEL_STATUS_URL=kannel.status_url.replace(kannel.admin_password,
                                                                                  "wrong-status-pass")))
    assert result.exit_code == 1
    level, message = report(result)["SMS gateway"]
    assert level == "PROBLEM"
    assert "smsbox refused KANNEL_USERNAME and KANNEL_PASSWORD" in message
    assert "bearerbox refused the password in KANNEL_STATUS_URL" in message
    assert_absent(result.output, "wrong-sendsms-pass", "wrong-status-pass", *kannel_secrets(kannel))


def test_an_smsc_link_not_online_is_a_problem_naming_it(app_config):
    require_kannel()
    with KannelHarness(secret=KANNEL_SECRET) as harness:
        harness.stop_smsc()  # the operator's end goes away
        for _ in range(100):  # until bearerbox notices
            with urllib.request.urlopen(harness.status_url, timeout=5) as response:
                if "FAKE" in (status := response.read().decode()) and "(online" not in status:
                    break
            time.sleep(0.1)
        result = run_doctor(kannel_config(app_config, harness))
    assert result.exit_code == 1
    level, message = report(result)["SMS gateway"]
    assert level == "PROBLEM"
    assert re.match(r"SMSC link not online: fake \([a-z-]+\)\. No SMSC link is online: no text can go out\.",
                    message), message
    assert_absent(result.output, *kannel_secrets(harness))


def test_kannel_needs_a_signature_an_opt_out_hint_and_a_long_secret(app_config):
    closed = free_port()  # no Kannel needed: what is judged is the configuration
    result = run_doctor({**app_config, "SMS_BACKEND": "kannel", "KANNEL_USERNAME": "ruralinfo",
                         "KANNEL_PASSWORD": "pass-word-42", "KANNEL_SECRET": "short-secret",
                         "KANNEL_SEND_URL": f"http://127.0.0.1:{closed}/cgi-bin/sendsms",
                         "SMS_SIGNATURE": "", "SMS_OPTOUT_HINT": ""})
    assert result.exit_code == 1
    found = report(result)
    assert found["operator rules"] == (
        "PROBLEM", "SMS_SIGNATURE is empty: operators refuse texts without a registered 【signature】; set it to "
                   "the bureau's registered one. SMS_OPTOUT_HINT is empty: Chinese operators require an opt-out "
                   "hint such as 拒收请回复R on notices. KANNEL_FROM is empty: unless kannel.conf's sendsms-user "
                   "has a default-sender, Kannel refuses every text (\"Sender missing\"); set it to the long "
                   "number or short code.")
    assert found["secrets"][0] == "PROBLEM" and "KANNEL_SECRET is shorter than 16 characters" in found["secrets"][1]
    assert_absent(result.output, "short-secret", "pass-word-42")


def test_doctor_runs_on_a_configuration_the_app_refuses_to_start_with(tmp_path):
    """Outside debug the app will not start on the development keys; doctor must still say why."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLASK_", "SMS_", "KANNEL_", "TWILIO_"))}
    env.update(SECRET_KEY=DEV_SECRET_KEY, DATABASE_URL=f"sqlite:///{tmp_path}/empty.sqlite3",
               SMS_BACKEND="kannel", REDIS_URL="")  # and the Kannel settings missing
    served = subprocess.run([sys.executable, "-c", "import wsgi"], cwd=root, env=env, capture_output=True,
                            text=True, timeout=60)
    assert served.returncode != 0 and "ConfigError" in served.stderr  # serving still refuses
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "doctor"], cwd=root, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    assert re.search(r"^PROBLEM +configuration: .*SECRET_KEY is the development default", result.stdout, re.M)
    assert re.search(r"^PROBLEM +SMS gateway: .*KANNEL_SEND_URL", result.stdout, re.M)


@pytest.mark.parametrize("argv, wanted", [
    (["/srv/ruralinfo/.venv/bin/flask", "--app", "wsgi", "doctor"], True),
    (["/srv/ruralinfo/.venv/bin/flask", "--app", "wsgi", "doctor", "--json"], True),
    (["/usr/lib/python3/site-packages/flask/__main__.py", "-A", "wsgi", "--debug", "doctor"], True),
    (["/srv/ruralinfo/.venv/bin/flask", "--app", "wsgi", "users", "import", "doctor"], False),  # a file named doctor
    (["/srv/ruralinfo/.venv/bin/flask", "--app", "doctor", "run"], False),
    (["/srv/ruralinfo/.venv/bin/gunicorn", "-n", "doctor", "wsgi:app"], False),
])
def test_only_the_doctor_command_runs_on_a_refused_configuration(argv, wanted):
    assert doctor.requested(argv) is wanted
