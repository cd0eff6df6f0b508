"""The SMS commands of the core: help, and leaving or re-joining broadcasts."""
from __future__ import annotations

from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ruralinfo.accounts import services as accounts
from ruralinfo.sms import commands


def help_text(_inbound: commands.Inbound, _rest: str) -> str:
    lines = commands.registry.summaries()
    if str(get_locale()).startswith("zh"):
        return _("You can send:") + "；".join(lines)  # Chinese text takes full-width punctuation
    return _("You can send:") + " " + "; ".join(lines)


def stop(inbound: commands.Inbound, _rest: str) -> str:
    accounts.set_sms_opt_out(inbound.user, True, actor=inbound.user, channel="sms", commit=False)
    return _("You will no longer receive notices by SMS. Replies to your own messages still reach you. "
             "To receive them again, send START.")


def start(inbound: commands.Inbound, _rest: str) -> str:
    accounts.set_sms_opt_out(inbound.user, False, actor=inbound.user, channel="sms", commit=False)
    return _("You will receive notices by SMS again. To stop them, send TD.")


def register() -> None:
    commands.register("帮助", "HELP", handler=help_text, name="help")
    commands.register("?", handler=help_text, name="help?", exact=True)
    commands.register("退订", "TD", "T", "R", "STOP", "UNSUBSCRIBE", handler=stop, name="stop", exact=True,
                      summary=_l("STOP or TD – stop notices"))
    commands.register("订阅", "START", "SUBSCRIBE", handler=start, name="start", exact=True,
                      summary=_l("START – notices again"))
