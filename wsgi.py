"""The WSGI entry point: ``flask --app wsgi …`` and ``gunicorn wsgi:app``.

Run from the repository root so that our ``mailbox`` package comes before the
standard library's module of the same name.
"""
from ruralinfo import create_app

app = create_app()
