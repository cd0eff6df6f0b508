"""``flask --app wsgi users …`` (the import command is being written)."""
from flask.cli import AppGroup

users_cli = AppGroup("users", help="Farmer accounts.")
