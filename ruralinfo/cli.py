"""Command-line entry points (``flask --app wsgi …``)."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

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


def init_app(app: Flask) -> None:
    app.cli.add_command(regions_cli)
