"""Forms of the admin view's broadcast topics and templates. They only carry the
fields: the service (``ruralinfo.broadcasts.catalog``) checks them, all problems at once."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField

from ruralinfo.broadcasts.catalog import TEMPLATE_LIMITS, TOPIC_LIMITS
from ruralinfo.broadcasts.services import MAX_BODY


def topic_id(value):
    """A topic's id, or None for no choice or a tampered one (the service says "Choose a topic.")."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class TopicNamesForm(FlaskForm):
    name_zh = StringField(_l("Chinese name"), render_kw={"maxlength": TOPIC_LIMITS["name_zh"]})
    name_en = StringField(_l("English name"), render_kw={"maxlength": TOPIC_LIMITS["name_en"]})


class TopicForm(TopicNamesForm):
    key = StringField(_l("Key"), render_kw={"maxlength": 32, "autocapitalize": "none", "spellcheck": "false"})


class TemplateForm(FlaskForm):
    name_zh = StringField(_l("Chinese name"), render_kw={"maxlength": TEMPLATE_LIMITS["name_zh"]})
    name_en = StringField(_l("English name"), render_kw={"maxlength": TEMPLATE_LIMITS["name_en"]})
    topic_id = SelectField(_l("Topic"), coerce=topic_id, validate_choice=False)
    body = TextAreaField(_l("Notice in Chinese"), render_kw={"rows": 4, "maxlength": MAX_BODY})
    body_en = TextAreaField(_l("Notice in English (optional)"), render_kw={"rows": 4, "maxlength": MAX_BODY})
    urgent = BooleanField(_l("Urgent alert (goes at once, day or night)"))
    reply_options = TextAreaField(_l("Answers offered (optional), one per line"), render_kw={"rows": 3})
