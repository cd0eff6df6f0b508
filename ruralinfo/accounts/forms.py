"""Forms for logging in."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired


class LoginForm(FlaskForm):
    phone = StringField(_l("Mobile number"), validators=[DataRequired()],
                        render_kw={"autocomplete": "username", "inputmode": "tel"})
    password = PasswordField(_l("Password"), validators=[DataRequired()],
                             render_kw={"autocomplete": "current-password"})
