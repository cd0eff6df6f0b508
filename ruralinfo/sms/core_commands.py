"""The SMS commands of the core: help, and leaving or re-joining broadcasts."""
from __future__ import annotations

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ruralinfo.accounts import services as accounts
from ruralinfo.sms import commands, segments, services


def help_text(_inbound: commands.Inbound, _rest: str) -> str:
    """Every command, the most used first — whole: in two texts when one would be too long."""
    chinese = str(get_locale()).startswith("zh")
    head, sep, space = (_("You can send:"), "；", "") if chinese else (_("You can send:"), "; ", " ")
    limit = int(current_app.config["SMS_MAX_SEGMENTS"])
    texts, current = [], []
    for line in commands.registry.summaries():
        candidate = head + space + sep.join([*current, line])
        if current and not segments.fits(candidate, limit, services.signature()):
            texts.append(head + space + sep.join(current))
            current, head = [], _("More:")
        current.append(line)
    texts.append(head + space + sep.join(current))
    return commands.PART_BREAK.join(texts)


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
                      summary=_l("STOP or TD: stop notices"))
    commands.register("订阅", "START", "SUBSCRIBE", handler=start, name="start", exact=True,
                      summary=_l("START: notices again"))
