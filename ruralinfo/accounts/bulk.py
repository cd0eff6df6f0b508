"""Registering many farmers at once from a spreadsheet: the service behind
``flask --app wsgi users import`` and the liaison console's import job
(``accounts.tasks``).

Every field is checked by the same code as the registration form
(``services.clean_farmer``); this module adds what only a file has — several
rows about one person, and rows about people already registered — and does it
for thousands of rows with a handful of queries.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ruralinfo import exports
from ruralinfo.accounts import identity, importing, welcome
from ruralinfo.accounts import services as accounts
from ruralinfo.accounts.models import User
from ruralinfo.audit import services as audit
from ruralinfo.extensions import db
from ruralinfo.liaison import rules
from ruralinfo.liaison.models import DONE, RUNNING, ImportBatch
from ruralinfo.sms import services as sms
from ruralinfo.timeutil import now_utc

CHUNK = 500  # values per IN (...): far below every database's parameter limit
UPLOADER_INACTIVE = _l("The account that uploaded this file is deactivated: nobody was registered.")
SKIPPED = _l("skipped: already registered, nothing changed")
RECORD_DIFFERS = _l("The name or phone number on record is different: "
                    "change the account in the liaison console, not by import.")


@dataclass(frozen=True)
class Claim:
    """A batch a job has claimed: ``attempt`` tells this run from a later one that
    took the batch over after this one was thought dead."""

    batch_id: int
    attempt: int


class ClaimLost(RuntimeError):
    """Another run has taken the batch over: this run's work was rolled back."""


@dataclass
class Rejected:
    line: int
    reason: str
    row: dict[str, str]  # the row as read, for the rejects file


@dataclass
class ImportReport:
    """What happened to each row. ``columns`` are the file's (key, header) pairs."""

    filename: str = ""
    columns: list[tuple[str, str]] = field(default_factory=list)
    registered: list[tuple[int, int]] = field(default_factory=list)  # (line, user id)
    skipped: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)
    rejected: list[Rejected] = field(default_factory=list)
    batch_id: int | None = None

    def lines(self) -> list[str]:
        """``line N: reason`` for every skipped or rejected row, in file order (the
        command line's contract: scripts read it, so "line" is never translated)."""
        return [f"line {line}: {reason}" for line, reason in self._entries()]

    @property
    def text(self) -> str:
        """The report as the liaison reads it, wholly in the current language
        (the reasons are already): ``第4行：…`` or ``line 4: …``."""
        return "\n".join(str(_l("line %(n)s: %(reason)s", n=line, reason=reason))
                         for line, reason in self._entries())

    def _entries(self) -> list[tuple[int, str]]:
        return sorted(self.skipped + [(item.line, item.reason) for item in self.rejected])


@dataclass
class _Checked:
    row: importing.Row
    clean: accounts.CleanFarmer
    digest: str


def import_file(data: bytes, filename: str, *, actor: User | None, channel: str, scope: list[str] | None,
                consent_method: str = "import", limits: importing.Limits = importing.LIMITS,
                claim: Claim | None = None) -> ImportReport:
    """Read a CSV or XLSX file within ``limits`` and import it (raises
    ``importing.ImportFileError``, and ``ClaimLost`` as ``import_farmers``)."""
    rules.check_may_write(actor)  # a suspended point's liaison registers nobody, by any way
    if actor is not None and not actor.active:
        raise importing.ImportFileError(str(UPLOADER_INACTIVE))
    table = importing.read_table(data, filename, limits)
    report = import_farmers(table.rows, actor=actor, channel=channel, scope=scope, consent_method=consent_method,
                            filename=filename, columns=table.columns, claim=claim)
    sms.dispatch_pending()  # the welcome texts (those not held for the quiet hours)
    return report


def import_farmers(rows: Iterable[importing.Row], *, actor: User | None, channel: str, scope: list[str] | None,
                   consent_method: str = "import", filename: str = "",
                   columns: Sequence[tuple[str, str]] | None = None, claim: Claim | None = None) -> ImportReport:
    """Register every good row, record the batch and commit; report every other row.
    Each new farmer's welcome text is queued (``import_file`` hands them to the sender).

    ``scope`` lists the region codes ``actor`` may register into (``ALL_REGIONS``
    for everywhere). Reasons are rendered in the current locale. With a ``claim``
    the outcome goes into that batch, in the same commit as the new accounts, or
    nothing is written and ``ClaimLost`` is raised.
    """
    rows = list(rows)
    if columns is None:
        columns = [(key, key) for key in dict.fromkeys(key for row in rows for key in row.values)]
    options = dict(actor=actor, channel=channel, scope=scope, consent_method=consent_method,
                   filename=filename, columns=list(columns), claim=claim)
    try:
        return _import(rows, **options)
    except IntegrityError:
        # Someone registered one of these people after we looked: look again, once.
        db.session.rollback()
        return _import(rows, **options)


def update_claimed(claim: Claim, **values) -> bool:
    """Change a running batch (in the current transaction) if it is still this claim's."""
    result = db.session.execute(
        update(ImportBatch)
        .where(ImportBatch.id == claim.batch_id, ImportBatch.status == RUNNING,
               ImportBatch.attempts == claim.attempt)
        .values(**values)
        .execution_options(synchronize_session=False))
    return result.rowcount == 1


def finish_batch(claim: Claim, status: str = DONE, **values) -> bool:
    """Record the outcome on a claimed batch, unless another run has taken it
    over; the uploaded file is dropped with it."""
    return update_claimed(claim, status=status, finished_at=now_utc(), upload_cipher=None, **values)


def rejects_csv(report: ImportReport) -> bytes:
    """The rejected rows with the file's columns plus ``reason``, as CSV in UTF-8
    with a BOM so that Excel opens it. It holds ID numbers: keep it encrypted."""
    columns = [(key, label) for key, label in report.columns
               if key.strip().lower() != importing.REASON_COLUMN]  # an earlier rejects file's reasons
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([exports.safe_cell(label) for _key, label in columns] + [importing.REASON_COLUMN])
    for item in report.rejected:
        writer.writerow([_excel_text(key, item.row.get(key, "")) for key, _label in columns]
                        + [exports.safe_cell(item.reason)])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _excel_text(key: str, value: str) -> str:
    """A cell as Excel will keep it: never a formula (``exports.safe_cell``), and long
    digit strings as text. Excel turns 18 digits into 3.30282E+17 and drops the last
    three when the file is saved again, and a mobile number into a number; a leading
    tab makes it keep the cell as text. Reading strips the tab."""
    if key in importing.DIGIT_FIELDS and value.isdigit() and len(value) >= 11:
        return "\t" + value
    return exports.safe_cell(value)


# --- the steps --------------------------------------------------------------------------------

def _import(rows: list[importing.Row], *, actor: User | None, channel: str, scope: list[str] | None,
            consent_method: str, filename: str, columns: list[tuple[str, str]], claim: Claim | None) -> ImportReport:
    report = ImportReport(filename=filename, columns=columns)
    labels = dict(columns)
    checked = _check_rows(rows, scope, labels, report)
    accepted = _sort_out(checked, _existing(checked), labels, report)
    report.rejected.sort(key=lambda item: item.line)
    _save(accepted, report, actor=actor, channel=channel, consent_method=consent_method, claim=claim)
    return report


def _check_rows(rows: list[importing.Row], scope: list[str] | None, labels: dict[str, str],
                report: ImportReport) -> list[_Checked]:
    """Every field of every row, with the form's checks; the rows that pass."""
    catalogue = accounts.active_groups()
    region_cache: dict = {}
    vault = identity.vault()
    checked = []
    for row in rows:
        errors: dict[str, str] = {}
        try:
            clean = accounts.clean_farmer(_farmer_data(row), scope=scope, catalogue=catalogue,
                                          check_duplicates=False, region_cache=region_cache)
        except accounts.RegistrationError as err:
            errors = dict(err.errors)
        errors.update(row.problems)  # a number Excel shortened may still pass the check digit
        if errors:
            _reject(report, row, _field_reasons(errors, labels))
        else:
            checked.append(_Checked(row, clean, vault.digest(clean.id_number)))
    return checked


def _farmer_data(row: importing.Row) -> accounts.FarmerData:
    values = row.values
    return accounts.FarmerData(name=values.get("name", ""), id_number=values.get("id_number", ""),
                               phone=values.get("phone", ""), region_code=values.get("region_code", ""),
                               groups=importing.split_groups(values.get("groups", "")),
                               language=values.get("language", "") or "zh")


def _field_reasons(errors: dict[str, str], labels: dict[str, str]) -> str:
    order = {name: index for index, name in enumerate(importing.FIELDS)}
    keys = sorted(errors, key=lambda key: order.get(key, len(order)))
    chinese = str(get_locale()).startswith("zh")  # Chinese text takes full-width punctuation
    colon, sep = ("：", "；") if chinese else (": ", "; ")
    return sep.join(f"{labels.get(key, key)}{colon}{errors[key]}" for key in keys)


def _existing(checked: list[_Checked]) -> tuple[dict, dict]:
    """Accounts that already hold one of the file's ID numbers or phones, found
    with a few chunked queries instead of two per row."""
    found: tuple[dict, dict] = ({}, {})
    wanted = (sorted({item.digest for item in checked}), sorted({item.clean.phone for item in checked}))
    for column, values, into in zip((User.id_digest, User.phone), wanted, found):
        for start in range(0, len(values), CHUNK):
            stmt = select(User.id, User.name, User.phone, User.id_digest).where(
                column.in_(values[start:start + CHUNK]))
            for owner in db.session.execute(stmt):
                into[getattr(owner, column.key)] = owner
    return found


def _sort_out(checked: list[_Checked], existing: tuple[dict, dict], labels: dict[str, str],
              report: ImportReport) -> list[_Checked]:
    """Rows repeating an earlier line, rows about people already registered; the rest."""
    by_digest, by_phone = existing
    first_person: dict[str, int] = {}
    first_phone: dict[str, int] = {}
    accepted = []
    for item in checked:
        line, clean = item.row.line, item.clean
        person_line = first_person.setdefault(item.digest, line)
        phone_line = first_phone.setdefault(clean.phone, line)
        owner = by_digest.get(item.digest)
        if person_line != line:
            _reject(report, item.row, str(_l("same person as line %(line)s", line=person_line)))
        elif phone_line != line:
            _reject(report, item.row, str(_l("same phone number as line %(line)s", line=phone_line)))
        elif owner is not None and (owner.name, owner.phone) == (clean.name, clean.phone):
            report.skipped.append((line, str(SKIPPED)))
        elif owner is not None:
            # the services' own wording: one more query, only for a row that conflicts
            taken = accounts.duplicate_errors(None, clean.id_number)["id_number"]
            _reject(report, item.row, f"{labels.get('id_number', 'id_number')}: {taken} {RECORD_DIFFERS}")
        # no message means the owner changed number since the look-up: the number is free
        elif clean.phone in by_phone and (taken := accounts.duplicate_errors(clean.phone, None).get("phone")):
            _reject(report, item.row, f"{labels.get('phone', 'phone')}: {taken}")
        else:
            accepted.append(item)
    return accepted


def _reject(report: ImportReport, row: importing.Row, reason: str) -> None:
    report.rejected.append(Rejected(line=row.line, reason=reason, row=row.values))


def _save(accepted: list[_Checked], report: ImportReport, *, actor: User | None, channel: str,
          consent_method: str, claim: Claim | None) -> None:
    """One flush for the new accounts and the batch, their audit entries, one commit."""
    users = [accounts.new_farmer(item.clean, actor=actor, channel=channel, consent_method=consent_method)
             for item in accepted]
    counts = {"registered": len(users), "skipped": len(report.skipped), "rejected": len(report.rejected)}
    outcome = dict(report=report.text, **counts,
                   rejects_cipher=identity.vault().encrypt_bytes(rejects_csv(report)) if report.rejected else None)
    if claim is None:
        batch = ImportBatch(actor_id=getattr(actor, "id", None), point_id=getattr(actor, "liaison_point_id", None),
                            filename=report.filename[:200], status=DONE, finished_at=now_utc(), **outcome)
        db.session.add(batch)
    elif not finish_batch(claim, **outcome):  # first: on PostgreSQL it also locks the row until the commit
        db.session.rollback()
        raise ClaimLost(f"import batch {claim.batch_id} was taken over")
    db.session.add_all(users)
    db.session.flush()
    report.batch_id = batch.id if claim is None else claim.batch_id
    for item, user in zip(accepted, users):
        report.registered.append((item.row.line, user.id))
        audit.record("farmer.register", user, actor=actor, channel=channel, after=accounts.snapshot(user),
                     details={"batch": report.batch_id})
    audit.record("farmers.import", ("import_batches", report.batch_id), actor=actor, channel=channel,
                 details={"filename": report.filename, **counts})
    for user in users:
        welcome.queue(user)  # through the outbox like any text: held during the quiet hours
    db.session.commit()
    current_app.logger.info("import batch %s (%s): %d registered, %d skipped, %d rejected",
                            report.batch_id, report.filename, *counts.values())
