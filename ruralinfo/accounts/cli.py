"""``flask --app wsgi users …``: farmer accounts from the command line."""
from __future__ import annotations

import os

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from flask_babel import gettext as _

users_cli = AppGroup("users", help="Farmer accounts.")

EXIT_OK, EXIT_SOME_REJECTED = 0, 2  # an unreadable file exits with 1, as every ClickException


@users_cli.command("import")
@click.argument("file", type=click.Path())  # not exists=True: click's usage errors exit with 2
def import_command(file: str) -> None:
    """Register the farmers in FILE (CSV or XLSX: name, id_number, phone,
    region_code, optional groups and language). Rejected rows go to
    FILE.rejected.csv; exit status 2 when there are any, 1 when FILE can't be read
    or is over the limits of the upload form (20,000 rows, 10 MB)."""
    from ruralinfo.accounts import bulk, importing
    from ruralinfo.accounts import services as accounts
    from ruralinfo.audit import services as audit

    # There is no request to choose a language from: speak the installation's default.
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        try:
            with open(file, "rb") as fh:
                data = fh.read(importing.MAX_FILE_BYTES + 1)  # one byte more tells a file that is too big
        except OSError as err:
            raise click.ClickException(_("Can't read %(file)s: %(error)s", file=file, error=err.strerror)) from None
        try:
            report = bulk.import_file(data, os.path.basename(file), actor=None, channel=audit.CLI,
                                      scope=accounts.ALL_REGIONS, consent_method="import")
        except importing.ImportFileError as err:
            raise click.ClickException(f"{file}: {err}") from None
        for line in report.lines():
            click.echo(line)
        click.echo(_("%(registered)d registered, %(skipped)d already registered, %(rejected)d rejected.",
                     registered=len(report.registered), skipped=len(report.skipped),
                     rejected=len(report.rejected)))
        if report.rejected:
            _write_rejects(file + ".rejected.csv", bulk.rejects_csv(report))
    click.get_current_context().exit(EXIT_SOME_REJECTED if report.rejected else EXIT_OK)


def _write_rejects(path: str, data: bytes) -> None:
    try:
        with open(path, "wb") as fh:
            fh.write(data)
    except OSError as err:
        # The good rows are registered already: say so, but keep exit status 2, not 1.
        click.echo(_("Can't write %(file)s: %(error)s", file=path, error=err.strerror), err=True)
        return
    click.echo(_("The rejected rows, with the reasons, are in %(file)s.", file=path))


@users_cli.command("import-sweep")
def import_sweep_command() -> None:
    """Run the liaisons' imports that wait: those the job queue could not take,
    and those whose worker stopped. Safe to run from cron."""
    from ruralinfo.accounts import tasks

    report = tasks.sweep()
    click.echo(f"{report.dispatched} waiting import(s) run (or handed to the workers), "
               f"{report.restarted} stopped import(s) set to run again, {report.failed} given up.")
