"""The farmer's "Notices I get" page: the topics of the bureau's notices they get,
and the stop of every notice, with since when each was left (the proof of consent)
and their latest changes, by SMS or on the web. The rules are the core's
(``ruralinfo.broadcasts.preferences``)."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField

from mailbox.views import bp
from ruralinfo.audit.services import WEB
from ruralinfo.broadcasts import preferences


class NoticesForm(FlaskForm):
    """Ticked topics (their ids) and the stop of everything; the page draws the boxes."""

    topics = SelectMultipleField(coerce=int, validate_choice=False)
    stop_all = BooleanField()


@bp.route("/notices", methods=["GET", "POST"])
def notices():
    form = NoticesForm()
    me = current_user._get_current_object()  # the audit log names its target's table
    if form.validate_on_submit():
        changed = preferences.save(me, wanted=set(form.topics.data or []), stop_all=form.stop_all.data,
                                   channel=WEB)
        flash(_l("Saved: your choice of notices holds from now on.") if changed else _l("Nothing was changed."),
              "success")
        return redirect(url_for(".notices"))
    if form.errors:
        flash(_l("Your choice could not be read. Please try again."), "error")
    return render_template("mailbox/notices.html", form=form, choices=preferences.choices_of(me),
                           history=preferences.history(me),
                           topic_names=preferences.topic_labels(str(get_locale())))
