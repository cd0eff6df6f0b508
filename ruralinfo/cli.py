"""Command-line entry points (``flask --app wsgi …``)."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from ruralinfo.accounts import roles

regions_cli = AppGroup("regions", help="The region tree.")


@regions_cli.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def regions_load(file: str) -> None:
    """Add a county's village rows (code,name,streetCode,… as in the NBS table)."""
    from ruralinfo.regions import services

    with open(file, "rb") as fh:
        data = fh.read()
    try:
        added, unchanged = services.load_villages(data, source=file)
    except services.RegionFileError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"{added} villages added, {unchanged} already loaded.")


@click.command("create-staff")
@click.option("--name", prompt="Name")
@click.option("--phone", prompt="Mobile number")
@click.option("--role", "role_names", multiple=True, type=click.Choice(roles.STAFF_ROLES),
              help="Repeat for several roles; asked for when not given.")
@click.option("--point", "point_id", type=int, help="Liaison point id (for the liaison role).")
@click.password_option(prompt="Password", help="Asked for twice when not given.")
def create_staff(name: str, phone: str, role_names: tuple[str, ...], point_id: int | None, password: str) -> None:
    """Create a staff account (liaison, expert, staff, approver, admin)."""
    from ruralinfo.accounts import services
    from ruralinfo.audit import services as audit

    if not role_names:
        answer = click.prompt(f"Roles, comma-separated ({', '.join(roles.STAFF_ROLES)})", default=roles.ADMIN)
        role_names = tuple(part.strip() for part in answer.split(",") if part.strip())
    try:
        user = services.create_staff(name=name, phone=phone, password=password, role_names=list(role_names),
                                     actor=None, channel=audit.CLI, liaison_point_id=point_id)
    except services.RegistrationError as err:
        raise click.ClickException("; ".join(f"{k}: {v}" for k, v in err.errors.items())) from None
    click.echo(f"Created {user.name} ({user.phone}) with roles {', '.join(sorted(user.roles))}.")


@click.command("demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has accounts.")
def demo(if_empty: bool) -> None:
    """Load the 慈溪市 demo county and print the demo logins."""
    from ruralinfo import demo as demo_data

    if if_empty and demo_data.has_accounts():
        click.echo("The database already has accounts: demo not loaded.")
        click.echo(demo_data.logins_text())
        return
    summary = demo_data.load()
    click.echo(summary)
    click.echo(demo_data.logins_text())


@click.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
def worker(burst: bool) -> None:
    """Run an RQ worker with the app context (needs REDIS_URL)."""
    from ruralinfo import jobs

    jobs.run_worker(burst=burst)


@click.command("sweep")
@click.option("--every", default=60, show_default=True, type=click.IntRange(min=1),
              help="Seconds between two sweeps.")
def sweep(every: int) -> None:
    """Sweep texts and imports every so often, without Redis (``make run`` starts it):
    texts held for the quiet hours or a retry, received texts left unhandled, imports
    that wait, rejected-row files older than a week. Stop it with Ctrl-C."""
    import time

    from ruralinfo import jobs

    stop = jobs.start_sweeper(every)
    try:
        while not stop.is_set():
            time.sleep(1)
    except KeyboardInterrupt:
        stop.set()


def init_app(app: Flask) -> None:
    from ruralinfo.accounts.cli import users_cli
    from ruralinfo.doctor import doctor
    from ruralinfo.sms.cli import outbox_command, sms_cli

    for command in (regions_cli, users_cli, create_staff, demo, worker, sweep, outbox_command, sms_cli, doctor):
        app.cli.add_command(command)
