"""The WSGI entry point: ``flask --app wsgi …`` and ``gunicorn wsgi:app``.

Run from the repository root so that our ``mailbox`` package comes before the
standard library's module of the same name.
"""
import sys

from ruralinfo import create_app
from ruralinfo.config import ConfigError

try:
    app = create_app()
except ConfigError:
    from ruralinfo import doctor

    if not doctor.requested(sys.argv):
        raise
    # `flask --app wsgi doctor` is how an operator finds out what is wrong with a
    # configuration the app refuses: it runs on it, and says so in plain words.
    app = create_app(checked=False)
