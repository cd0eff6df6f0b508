"""``flask --app wsgi doctor``: the configuration and the connections checked, in plain words.

Each check is a small function returning a ``Finding`` (or None when it does not apply);
``run_all`` runs them all, one check's failure never stopping the others. The command
prints one line a check — ``ok``, ``warning`` or ``PROBLEM``, its name and, when not ok,
what is wrong and what to do — and exits with 1 when any check is a PROBLEM.

Nothing secret is printed: addresses are shown with their passwords and query values
masked, and every message is scrubbed of the configured secrets before it is shown.
"""
from __future__ import annotations

import http.client
import ipaddress
import json
import os
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from xml.etree import ElementTree

import click
from flask import current_app
from flask.cli import with_appcontext

OK, WARNING, PROBLEM = "ok", "warning", "PROBLEM"
_RANK = {OK: 0, WARNING: 1, PROBLEM: 2}
TIMEOUT = 5  # seconds for each HTTP request
UPGRADE = "run `flask --app wsgi db upgrade`"
NEW_KEY = "python -c \"import secrets; print(secrets.token_urlsafe(32))\""


@dataclass(frozen=True)
class Finding:
    """What one check found: ``level`` is ok, warning or PROBLEM."""

    name: str
    level: str
    message: str


CHECKS: list[Callable[[], Finding | None]] = []


def check(name: str):
    """Register a check under the name the operator reads."""
    def register(func):
        func.check_name = name
        CHECKS.append(func)
        return func
    return register


def _finding(name: str, issues: list[tuple[str, str]], fine: str = "") -> Finding:
    """One finding from a check's (level, words): the worst level; the words of what is
    not ok, or of everything (or ``fine``) when all is ok."""
    bad = [(level, words) for level, words in issues if level != OK]
    if not bad:
        return Finding(name, OK, " ".join(words for _, words in issues) or fine)
    return Finding(name, max((level for level, _ in bad), key=_RANK.__getitem__), " ".join(w for _, w in bad))


# --- configuration --------------------------------------------------------------------------

@check("configuration")
def check_configuration() -> Finding:
    """The start-up validation without debug's leniency, the development keys, the public
    address and the outbox backend."""
    from ruralinfo import config as settings

    cfg = current_app.config
    issues = []
    if cfg["SECRET_KEY"] == settings.DEV_SECRET_KEY:
        issues.append((PROBLEM, f"SECRET_KEY is the development default: set a long random value ({NEW_KEY})."))
    if cfg["IDENTITY_KEY"] == settings.DEV_IDENTITY_KEY:
        issues.append((PROBLEM, "IDENTITY_KEY is the development default: set a long random value before anyone "
                                "is registered, and back it up (ID numbers encrypted with one key cannot be read "
                                "with another)."))
    try:  # the keys are judged above and by the secrets check: stand-ins let validate judge the rest
        settings.validate({**cfg, "SECRET_KEY": "-" * 32, "IDENTITY_KEY": "-" * 32}, debug=False)
    except settings.ConfigError as err:
        issues.append((PROBLEM, str(err)))
    issues += _public_url_issues(cfg)
    if cfg["SMS_BACKEND"] == "outbox":
        issues.append((WARNING, "SMS_BACKEND is outbox: texts are kept on this machine, nobody receives them "
                                "(fine for a demo; set twilio or kannel to send texts)."))
    return _finding("configuration", issues, f"SMS_BACKEND is {cfg['SMS_BACKEND']}.")


def _is_loopback(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        return host == "localhost" or host.endswith(".localhost") or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _public_url_issues(cfg) -> list[tuple[str, str]]:
    url = cfg["PUBLIC_BASE_URL"]
    if _is_loopback(url):
        if cfg["SMS_BACKEND"] == "kannel" and _is_loopback(cfg.get("KANNEL_SEND_URL") or ""):
            return []  # Kannel on this machine reaches the app there
        return [(WARNING, f"PUBLIC_BASE_URL is {mask(url)}, an address only this machine reaches: fine for a demo, "
                          "but Twilio or Kannel elsewhere cannot deliver texts and delivery reports to it; set it "
                          "to the public https:// address.")]
    if not url.startswith("https://"):
        return [(WARNING, f"PUBLIC_BASE_URL is {mask(url)}, not https: log-in cookies are not kept secure and "
                          "webhooks travel unencrypted; set it to the https:// address.")]
    return []


@check("secrets")
def check_secrets() -> Finding:
    """Keys long enough to be safe (their values are never shown)."""
    cfg = current_app.config
    issues = []
    if len(cfg["SECRET_KEY"]) < 16:
        issues.append((PROBLEM, f"SECRET_KEY is shorter than 16 characters: set a long random value ({NEW_KEY})."))
    if len(cfg["IDENTITY_KEY"]) < 32:
        issues.append((PROBLEM, "IDENTITY_KEY is shorter than 32 characters: set a long random value before anyone "
                                "is registered, and back it up (it encrypts ID numbers)."))
    if cfg["SMS_BACKEND"] == "kannel" and len(cfg.get("KANNEL_SECRET") or "") < 16:
        issues.append((PROBLEM, "KANNEL_SECRET is shorter than 16 characters: whoever guesses it can send the app "
                                "texts and delivery reports as if from Kannel; set a long random value, the same in "
                                "kannel.conf's sms-service post-url."))
    return _finding("secrets", issues, "long enough.")


# --- the database and Redis -----------------------------------------------------------------

@check("database")
def check_database() -> Finding:
    """The database answers and its schema is at the head of the project's migrations."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from ruralinfo.extensions import db

    where, path = mask(current_app.config["DATABASE_URL"]), db.engine.url.database
    if db.engine.url.get_backend_name() == "sqlite" and path not in (None, "", ":memory:") and not Path(path).exists():
        return Finding("database", PROBLEM, f"the database file {path} does not exist yet: {UPGRADE}.")
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            current = set(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as err:
        return Finding("database", PROBLEM, f"the database at {where} does not answer ({_db_reason(err)}): "
                                            "start it, or correct DATABASE_URL.")
    script = ScriptDirectory(current_app.extensions["migrate"].directory)
    heads = set(script.get_heads())
    if current == heads:
        return Finding("database", OK, f"{where} answers; its schema is up to date.")
    if not current:
        return Finding("database", PROBLEM, f"the database at {where} has no tables yet: {UPGRADE}.")
    at, needs = ", ".join(sorted(current)), ", ".join(sorted(heads))
    if current - {revision.revision for revision in script.walk_revisions()}:
        return Finding("database", PROBLEM, f"the database's schema ({at}) is newer than this version of ruralinfo "
                                            "knows: run the version that upgraded it.")
    return Finding("database", PROBLEM, f"the database's schema is behind (it is at {at}, this version needs "
                                        f"{needs}): back the database up, then {UPGRADE}.")


def _db_reason(err) -> str:
    """The driver's first line (it names the host, never the password), else the error's type."""
    lines = str(getattr(err, "orig", None) or "").strip().splitlines()
    return lines[0] if lines else type(err).__name__


@check("redis")
def check_redis() -> Finding:
    """Redis answers when REDIS_URL is set, and a worker takes the jobs."""
    if not current_app.config.get("REDIS_URL"):
        return Finding("redis", OK, "not used (jobs run inline).")
    from redis.exceptions import RedisError
    from rq import Worker

    from ruralinfo import jobs

    where = jobs.redis_address()
    try:
        connection = jobs.redis_connection()
        connection.ping()
        workers = Worker.count(connection=connection)
    except RedisError as err:
        return Finding("redis", PROBLEM, f"Redis at {where} does not answer ({type(err).__name__}): start Redis, "
                                         "or correct REDIS_URL.")
    if not workers:
        return Finding("redis", WARNING, f"Redis at {where} answers, but no worker is running: background jobs wait "
                                         "until one runs; start `flask --app wsgi worker`.")
    return Finding("redis", OK, f"{where} answers; {_count(workers, 'worker')} running.")


# --- the SMS gateway --------------------------------------------------------------------------

@check("SMS gateway")
def check_gateway() -> Finding:
    """The configured backend can be set up, and its provider answers."""
    from ruralinfo.sms import gateways

    backend = current_app.config["SMS_BACKEND"]
    try:
        gateway = gateways.current()
    except RuntimeError as err:  # a missing setting: the message names it, never a value
        return Finding("SMS gateway", PROBLEM, f"SMS_BACKEND {backend} cannot be set up: {err}.")
    if backend == "twilio":
        return _twilio(gateway)
    if backend == "kannel":
        return _kannel(current_app.config)
    return Finding("SMS gateway", OK, f"{backend}: nothing to connect to.")


def _twilio(gateway) -> Finding:
    """Fetch the account through the gateway's own client (which TWILIO_API_BASE points at a fake in tests)."""
    from requests.exceptions import RequestException
    from twilio.base.exceptions import TwilioRestException

    name = "SMS gateway"
    try:
        account = gateway.client.api.v2010.accounts(current_app.config["TWILIO_ACCOUNT_SID"]).fetch()
    except TwilioRestException as err:
        if err.status in (401, 403, 404):
            return Finding(name, PROBLEM, f"Twilio refused TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN (HTTP {err.status}): "
                                          "copy both again from the Twilio console.")
        return Finding(name, PROBLEM, f"Twilio answered HTTP {err.status} error {err.code}: {err.msg}")
    except RequestException as err:
        return Finding(name, PROBLEM, f"Twilio cannot be reached ({type(err).__name__}): check this machine's "
                                      "internet connection, firewall or proxy.")
    if account.status != "active":
        return Finding(name, PROBLEM, f"the Twilio account is {account.status}: no text goes out; see the Twilio "
                                      "console (billing) or Twilio support.")
    if account.type == "Trial":
        return Finding(name, WARNING, "the Twilio account is a trial: it texts only verified numbers, with a "
                                      "trial notice; upgrade it in the Twilio console.")
    return Finding(name, OK, f"Twilio account {account.friendly_name!r} is active.")


def _kannel(cfg) -> Finding:
    """smsbox takes requests; bearerbox's status (when KANNEL_STATUS_URL is set) shows every SMSC link online."""
    issues = [_sendsms(cfg)]
    if cfg.get("KANNEL_STATUS_URL"):
        issues.append(_bearerbox(cfg["KANNEL_STATUS_URL"]))
    else:
        issues.append((WARNING, "KANNEL_STATUS_URL is not set, so the link to the operator (SMPP) cannot be "
                                "checked: set it to bearerbox's status page with its password, e.g. "
                                "http://127.0.0.1:13000/status.xml?password=…"))
    return _finding("SMS gateway", issues)


def _sendsms(cfg) -> tuple[str, str]:
    """Ask sendsms with our account and no receiver: nothing is sent; 400 means the account is right."""
    url = cfg["KANNEL_SEND_URL"]
    account = urllib.parse.urlencode({"username": cfg["KANNEL_USERNAME"], "password": cfg["KANNEL_PASSWORD"]})
    try:
        status, _ = _get(f"{url}{'&' if '?' in url else '?'}{account}")
    except NoAnswer as err:
        return PROBLEM, f"smsbox not reachable at {mask(url)} ({err}): start Kannel, or correct KANNEL_SEND_URL."
    if status == 403:
        return PROBLEM, ("smsbox refused KANNEL_USERNAME and KANNEL_PASSWORD (or this machine is not in the "
                         "sendsms-user's user-allow-ip): make them match kannel.conf.")
    if status == 404:
        return PROBLEM, f"{mask(url)} answers, but not as sendsms (HTTP 404): it should end in /cgi-bin/sendsms."
    return OK, "smsbox answers."


def _bearerbox(url: str) -> tuple[str, str]:
    try:
        status, body = _get(url)
    except NoAnswer as err:
        return PROBLEM, (f"bearerbox's status page {mask(url)} cannot be reached ({err}): start Kannel, or "
                         "correct KANNEL_STATUS_URL (from another machine: add it to admin-allow-ip).")
    if body.strip() == "Denied":
        return PROBLEM, ("bearerbox refused the password in KANNEL_STATUS_URL: use the status-password (or "
                         "admin-password) of kannel.conf's core group.")
    parsed = parse_status(body) if status == 200 else None
    if parsed is None:
        return PROBLEM, (f"{mask(url)} does not show bearerbox's status (HTTP {status}): point KANNEL_STATUS_URL "
                         "at bearerbox's status.xml or status.txt.")
    state, links = parsed
    if state != "running":
        return PROBLEM, f"bearerbox is {state}, not running: no text goes out; restart or resume Kannel."
    if not links:
        return PROBLEM, "bearerbox has no SMSC link: add the operator's smsc group to kannel.conf."
    down = [f"{link} ({link_state})" for link, link_state in links if link_state != "online"]
    if down:
        none = " No SMSC link is online: no text can go out." if len(down) == len(links) else ""
        return PROBLEM, (f"SMSC link not online: {', '.join(down)}.{none} Check the smsc group's host, port, "
                         "username and password in kannel.conf, and ask the operator whether the account is open.")
    return OK, f"SMSC link online: {', '.join(link for link, _ in links)}."


_TXT_STATUS = re.compile(r"^Status: ([\w-]+)", re.M)
_TXT_SMSC = re.compile(r"^[ \t]+(?P<id>[^\s\[]+)\S*[ \t]+\S.*? \((?P<state>[a-z-]+)", re.M)


def parse_status(body: str) -> tuple[str, list[tuple[str, str]]] | None:
    """Bearerbox's state and each SMSC link's (id, state: online, connecting, re-connecting,
    disconnected, dead…), from its status.xml or status.txt; None when ``body`` is neither."""
    if body.lstrip().startswith("<"):
        try:
            root = ElementTree.fromstring(body)
        except ElementTree.ParseError:
            return None
        if root.tag != "gateway" or root.find("smscs") is None:
            return None
        links = [(smsc.findtext("admin-id") or smsc.findtext("id") or smsc.findtext("name") or "?",
                  (smsc.findtext("status") or "unknown").split()[0]) for smsc in root.iter("smsc")]
        return (root.findtext("status") or "").split(",")[0].strip(), links
    found = _TXT_STATUS.search(body)
    if not found or "SMSC connections:" not in body:
        return None
    section = body.split("SMSC connections:", 1)[1]
    return found[1], [(m["id"], m["state"]) for m in _TXT_SMSC.finditer(section)]


@check("operator rules")
def check_operator_rules() -> Finding | None:
    """With Kannel (an operator in China): the registered signature, the opt-out hint, a sender."""
    cfg = current_app.config
    if cfg["SMS_BACKEND"] != "kannel":
        return None
    issues = []
    if not cfg.get("SMS_SIGNATURE"):
        issues.append((PROBLEM, "SMS_SIGNATURE is empty: operators refuse texts without a registered 【signature】; "
                                "set it to the bureau's registered one."))
    if not cfg.get("SMS_OPTOUT_HINT"):
        issues.append((WARNING, "SMS_OPTOUT_HINT is empty: Chinese operators require an opt-out hint such as "
                                "拒收请回复R on notices."))
    if not cfg.get("KANNEL_FROM"):
        issues.append((WARNING, "KANNEL_FROM is empty: unless kannel.conf's sendsms-user has a default-sender, "
                                "Kannel refuses every text (\"Sender missing\"); set it to the long number or "
                                "short code."))
    return _finding("operator rules", issues, "signature, opt-out hint and sender set.")


@check("hotline call-back")
def check_hotline() -> Finding | None:
    """With Twilio credentials: the expert's call-back has a number of the account to call from."""
    cfg = current_app.config
    if not (cfg.get("TWILIO_ACCOUNT_SID") and cfg.get("TWILIO_AUTH_TOKEN")):
        return None
    sender, hotline = cfg.get("TWILIO_FROM") or "", cfg.get("HOTLINE_NUMBER") or ""
    if sender.startswith("MG") and len(re.sub(r"\D", "", hotline)) < 7:
        return Finding("hotline call-back", WARNING,
                       f"TWILIO_FROM is a Messaging Service and HOTLINE_NUMBER ({hotline}) a short number: the "
                       "hotline's call-back has no number to call from; set HOTLINE_NUMBER to the Twilio voice "
                       "number (+…).")
    return Finding("hotline call-back", OK, "has a number to call from.")


# --- the public address -----------------------------------------------------------------------

@check("public address")
def check_public_address() -> Finding:
    """PUBLIC_BASE_URL/healthz answers (only a warning: the public address may not be reachable from here)."""
    cfg = current_app.config
    url = cfg["PUBLIC_BASE_URL"].rstrip("/") + "/healthz"
    who = {"twilio": "Twilio", "kannel": "Kannel"}.get(cfg["SMS_BACKEND"])
    need = (f"{who} must reach this address to deliver texts and delivery reports" if who
            else "people must reach this address to use the site")
    try:
        status, _ = _get(url)
    except NoAnswer as err:
        return Finding("public address", WARNING,
                       f"{mask(url)} cannot be reached from this machine ({err}): {need}. Check that the web server "
                       "runs and PUBLIC_BASE_URL is its address (or try it from another machine).")
    if status == 200:
        return Finding("public address", OK, f"{mask(url)} answers.")
    return Finding("public address", WARNING, f"{mask(url)} answered HTTP {status}, not 200: {need}; the lines "
                                              "above say what may be wrong.")


# --- HTTP and masking -------------------------------------------------------------------------

class NoAnswer(Exception):
    """No HTTP answer came; the message says why, in plain words."""


def _get(url: str) -> tuple[int, str]:
    """GET ``url``: the status and body of any HTTP answer (4xx and 5xx too); NoAnswer when none came."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as response:
            return response.status, response.read(1_000_000).decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, err.read(1_000_000).decode("utf-8", "replace")
    except ValueError:
        raise NoAnswer("not a valid address") from None
    except (OSError, http.client.HTTPException) as err:
        reason = getattr(err, "reason", err)
        if isinstance(reason, ConnectionRefusedError):
            raise NoAnswer("connection refused") from None
        if isinstance(reason, TimeoutError):
            raise NoAnswer(f"no answer within {TIMEOUT} seconds") from None
        if isinstance(reason, socket.gaierror):
            raise NoAnswer("the host name is not known") from None
        if isinstance(reason, ConnectionResetError):
            raise NoAnswer("the connection was closed without an answer") from None
        raise NoAnswer(type(reason).__name__) from None


def mask(url: str) -> str:
    """``url`` with the password of its user part and every query value replaced by ***."""
    parts = urllib.parse.urlsplit(url)
    user = parts.netloc.rpartition("@")[0]
    if ":" in user:
        url = url.replace(f"{user}@", f"{user.split(':')[0]}:***@", 1)
    if parts.query:
        keys = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        url = url.split("?", 1)[0] + "?" + "&".join(f"{key}=***" for key, _ in keys)
    return url


def _secrets() -> list[str]:
    """Every configured secret value, longest first (what ``_scrub`` hides)."""
    cfg = current_app.config
    values = [cfg.get(key) for key in ("SECRET_KEY", "IDENTITY_KEY", "TWILIO_AUTH_TOKEN", "KANNEL_PASSWORD",
                                       "KANNEL_SECRET")]
    values += [urllib.parse.urlsplit(cfg.get(key) or "").password
               for key in ("DATABASE_URL", "REDIS_URL", "KANNEL_SEND_URL", "KANNEL_STATUS_URL")]
    values += [value for _, value in urllib.parse.parse_qsl(urllib.parse.urlsplit(cfg.get("KANNEL_STATUS_URL") or "").query)]
    return sorted({str(value) for value in values if value and len(str(value)) >= 4}, key=len, reverse=True)


def _scrub(finding: Finding, secrets: list[str]) -> Finding:
    message = finding.message
    for secret in secrets:
        message = message.replace(secret, "***")
    return Finding(finding.name, finding.level, message)


def run_all(checks: list[Callable[[], Finding | None]] | None = None) -> list[Finding]:
    """Run every check (in the app context); an unexpected error in one becomes a PROBLEM
    naming its type, and the others still run."""
    findings = []
    for func in CHECKS if checks is None else checks:
        name = getattr(func, "check_name", func.__name__)
        try:
            finding = func()
        except Exception as err:  # noqa: BLE001 - one broken check must not hide the others
            finding = Finding(name, PROBLEM, f"the check itself failed ({type(err).__name__}); the other checks "
                                             "ran. Please report this.")
        if finding is not None:
            findings.append(finding)
    try:
        secrets = _secrets()
    except ValueError:  # a setting that is not a URL: nothing more to hide than the masks did
        secrets = []
    return [_scrub(finding, secrets) for finding in findings]


def _count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"


def format_line(finding: Finding) -> str:
    """How a finding reads on the terminal: ``level  name: message``."""
    return f"{finding.level:<8} {finding.name}" + (f": {finding.message}" if finding.message else "")


_FLASK_OPTIONS_WITH_VALUES = ("--app", "-A", "--env-file", "-e")


def requested(argv: list[str]) -> bool:
    """Whether this process is ``flask … doctor`` (wsgi.py then builds the app even on a
    configuration it would refuse): the program is flask and its command — the first
    word after flask's own options — is doctor."""
    program = argv[0] if argv else ""
    if os.path.basename(program) != "flask" and not program.endswith(os.path.join("flask", "__main__.py")):
        return False
    words = iter(argv[1:])
    for word in words:
        if word in _FLASK_OPTIONS_WITH_VALUES:
            next(words, None)
        elif not word.startswith("-"):
            return word == "doctor"
    return False


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="A JSON list of the findings instead of lines.")
@with_appcontext
def doctor(as_json: bool) -> None:
    """Check the configuration and the connections (database, Redis, SMS gateway, public
    address) and say what to fix; exit status 1 when something must be fixed."""
    findings = run_all()
    problems = sum(f.level == PROBLEM for f in findings)
    if as_json:
        click.echo(json.dumps([asdict(f) for f in findings], ensure_ascii=False, indent=2))
    else:
        for finding in findings:
            click.echo(format_line(finding))
        warnings = sum(f.level == WARNING for f in findings)
        click.echo(f"{_count(problems, 'problem')}, {_count(warnings, 'warning')}." if problems or warnings
                   else "All is well.")
    if problems:
        click.get_current_context().exit(1)
