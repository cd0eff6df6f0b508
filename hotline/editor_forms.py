"""Forms of the menu editor. They only carry the fields: ``hotline.editor`` checks every
value, all problems at once. Choices are filled by the view."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField

from hotline import topics
from hotline.editor import LIMITS, NodeData
from hotline.models import CONNECT, FAQ, INFO, MAILBOX, MARKET, MENU, NOTICES, QUESTION

# What a node does, as an administrator reads it.
ACTION_LABELS = {
    MENU: _l("Menu: its keys lead on"),
    INFO: _l("Reads a text"),
    NOTICES: _l("Reads the latest notices for the caller's village"),
    MARKET: _l("Reads market prices"),
    MAILBOX: _l("Reads the caller's letters"),
    QUESTION: _l("Records a question"),
    CONNECT: _l("Rings the experts on duty"),
    FAQ: _l("Reads the common questions (published answers)"),
}


def _id(value):
    """A node id, or None for no choice or a tampered one (the service says "Choose a menu")."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _area(limit: int) -> dict:
    return {"rows": 3, "maxlength": limit}


class NodeForm(FlaskForm):
    key = SelectField(_l("Phone key"), validate_choice=False)
    title_zh = StringField(_l("Title in Chinese"), render_kw={"maxlength": LIMITS["title_zh"]})
    title_en = StringField(_l("Title in English (optional)"), render_kw={"maxlength": LIMITS["title_en"]})
    action = SelectField(_l("What it does"), validate_choice=False)
    topic = SelectField(_l("Question topic"), validate_choice=False)
    prompt_zh = TextAreaField(_l("Said on arriving, in Chinese (optional)"), render_kw=_area(LIMITS["prompt_zh"]))
    prompt_en = TextAreaField(_l("Said on arriving, in English (optional)"), render_kw=_area(LIMITS["prompt_en"]))
    text_zh = TextAreaField(_l("Text read out, in Chinese"), render_kw=_area(LIMITS["text_zh"]))
    text_en = TextAreaField(_l("Text read out, in English (optional)"), render_kw=_area(LIMITS["text_en"]))

    def fill(self, keys: list[str]) -> NodeForm:
        """The choices: ``keys`` (empty for the main menu, which has none), every action, every topic."""
        self.key.choices = [(key, key) for key in keys]
        self.action.choices = [(code, str(label)) for code, label in ACTION_LABELS.items()]
        self.topic.choices = [("", str(_l("— none —")))] + topics.choices()
        return self

    def data_for_service(self) -> NodeData:
        return NodeData(**{name: getattr(self, name).data or "" for name in
                           ("title_zh", "title_en", "prompt_zh", "prompt_en", "text_zh", "text_en", "action",
                            "topic", "key")})


class MoveForm(FlaskForm):
    parent_id = SelectField(_l("Move under"), coerce=_id, validate_choice=False)
    key = SelectField(_l("On the phone key"), validate_choice=False)


class RecordingForm(FlaskForm):
    file = FileField(_l("Recording (MP3 or WAV, at most 5 MB)"), render_kw={"accept": "audio/mpeg,audio/wav,audio/ogg"})


class PublishForm(FlaskForm):
    note = StringField(_l("What changed (optional)"), render_kw={"maxlength": 200})
