"""``flask --app wsgi doctor``: the configuration and the connections checked, in plain words.

Each check is a small function returning a ``Finding`` (or None when it does not apply);
``run_all`` runs them all, one check's failure never stopping the others. The command
prints one line a check — ``ok``, ``warning`` or ``PROBLEM``, its name and, when not ok,
what is wrong and what to do — and exits with 1 when any check is a PROBLEM.

Nothing secret is printed: addresses are shown with their passwords and query values
masked, and every message is scrubbed of the configured secrets before it is shown.
"""
from __future__ import annotations

import json
import os
import urllib.parse
from collections.abc import Callable
from dataclasses import asdict

import click
from flask import current_app
from flask.cli import with_appcontext

from ruralinfo.doctor import gateway, public, settings, storage  # noqa: F401  (they register their checks)
from ruralinfo.doctor.findings import CHECKS, OK, PROBLEM, WARNING, Finding, count
from ruralinfo.doctor.settings import check_configuration, check_secrets

# The order the operator reads them in: what the rest depends on first.
ORDER = ("configuration", "secrets", "database", "redis", "SMS gateway", "operator rules", "hotline call-back",
         "public address")
CHECKS.sort(key=lambda func: ORDER.index(func.check_name))

__all__ = ["CHECKS", "OK", "PROBLEM", "WARNING", "Finding", "check_configuration", "check_secrets", "doctor",
           "format_line", "requested", "run_all"]


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
        click.echo(f"{count(problems, 'problem')}, {count(warnings, 'warning')}." if problems or warnings
                   else "All is well.")
    if problems:
        click.get_current_context().exit(1)
