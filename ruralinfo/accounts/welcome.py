"""The one welcome text a farmer gets when registered (one by one or imported):
what they can send, the hotline, how to stop notices — in their language,
through the normal outbox, held during the quiet hours."""
from __future__ import annotations

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from ruralinfo.accounts.models import User
from ruralinfo.sms import services as sms
from ruralinfo.sms.models import NOTICE


def text_for(user: User) -> str:
    with force_locale(user.language or "zh"):
        return _("Welcome to the farmers' mailbox, %(name)s. Text SELL or BUY with what, how much and the "
                 "price to post (e.g. SELL potatoes 500 jin 1.5 yuan/jin), MY for your posts and letters, HELP "
                 "for all commands. Any other text goes to your village liaison point. Hotline: %(hotline)s. "
                 "To stop notices, text TD.", name=user.name, hotline=current_app.config["HOTLINE_NUMBER"])


def queue(user: User) -> None:
    """Queue the welcome text for ``user`` (once: the cause names the account). Not committed."""
    sms.queue_sms(user.phone, text_for(user), kind=NOTICE, cause=f"welcome:{user.id}", user=user, routine=True)
