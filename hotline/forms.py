"""Forms of the expert console, the farmers' question page and the published answers."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from hotline import topics
from hotline.answers import MAX_QUESTION as MAX_PUBLISHED_QUESTION
from hotline.models import SATISFIED, UNSATISFIED
from hotline.services import MAX_ANSWER, MAX_QUESTION
from mailbox.forms import printable


def _topic_field(label):
    return SelectField(label, choices=[], validators=[DataRequired()])


class WithTopics(FlaskForm):
    """A form with a ``topic`` select, filled with the topics in the page's language."""

    def __init__(self, *args, exclude: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.topic.choices = [(code, name) for code, name in topics.choices() if code != exclude]


class AskForm(WithTopics):
    """A farmer's question on the web."""

    topic = _topic_field(_l("What is it about?"))
    text = TextAreaField(_l("Your question"), validators=[DataRequired(), Length(max=MAX_QUESTION)],
                         filters=[printable], render_kw={"rows": 4, "maxlength": MAX_QUESTION})


class RateForm(FlaskForm):
    rating = RadioField(_l("Did the answer help you?"), coerce=int, validators=[DataRequired()],
                        choices=[(SATISFIED, _l("1 satisfied")), (UNSATISFIED, _l("2 not satisfied"))])


class AnswerForm(FlaskForm):
    text = TextAreaField(_l("Your answer"), validators=[DataRequired(), Length(max=MAX_ANSWER)],
                         filters=[printable], render_kw={"rows": 6, "maxlength": MAX_ANSWER})


class TransferForm(WithTopics):
    topic = _topic_field(_l("Move to the topic"))


class PublishForm(WithTopics):
    """An answer for everyone: the question rewritten (no names, no numbers), the answer."""

    topic = _topic_field(_l("Question topic"))
    question_zh = TextAreaField(_l("Question, in Chinese, as everyone should read it"),
                                validators=[DataRequired(), Length(max=MAX_PUBLISHED_QUESTION)], filters=[printable],
                                render_kw={"rows": 2, "maxlength": MAX_PUBLISHED_QUESTION})
    answer_zh = TextAreaField(_l("Answer, in Chinese"), validators=[DataRequired(), Length(max=MAX_ANSWER)],
                              filters=[printable], render_kw={"rows": 5, "maxlength": MAX_ANSWER})
    question_en = StringField(_l("Question in English (optional)"),
                              validators=[Optional(), Length(max=MAX_PUBLISHED_QUESTION)], filters=[printable],
                              render_kw={"maxlength": MAX_PUBLISHED_QUESTION})
    answer_en = TextAreaField(_l("Answer in English (optional)"), validators=[Optional(), Length(max=MAX_ANSWER)],
                              filters=[printable], render_kw={"rows": 3, "maxlength": MAX_ANSWER})

    def fields(self) -> dict[str, str]:
        return {name: getattr(self, name).data or "" for name in ("question_zh", "answer_zh", "question_en",
                                                                  "answer_en")}
