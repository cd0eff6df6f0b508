"""Forms of the farmers' mailbox and the liaison's letter pages."""
import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from mailbox.models import BUY, SELL
from mailbox.services import MAX_LETTER, MAX_POST

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # PostgreSQL refuses NUL in text


def printable(text: str | None) -> str | None:
    """Typed text without control characters (line breaks, as ``\\n``, and tabs stay)."""
    return CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")) if text is not None else None


class LetterForm(FlaskForm):
    """A letter or a reply."""

    body = TextAreaField(_l("Your letter"), validators=[DataRequired(), Length(max=MAX_LETTER)],
                         filters=[printable], render_kw={"rows": 5, "maxlength": MAX_LETTER})


class PostForm(FlaskForm):
    kind = RadioField(_l("I want to"), choices=[(SELL, _l("sell (卖)")), (BUY, _l("buy (买)"))], default=SELL,
                      validators=[DataRequired()])
    text = TextAreaField(_l("What, how much, price"), validators=[DataRequired(), Length(max=MAX_POST)],
                         filters=[printable], render_kw={"rows": 3, "maxlength": MAX_POST})


class CloseForm(FlaskForm):
    """Close a letter to the point without an answer."""

    reason = StringField(_l("Why no answer is needed"), validators=[DataRequired(), Length(max=200)],
                         filters=[printable], render_kw={"maxlength": 200})
