"""Forms of the admin view. Filters are GET forms without a CSRF token; every
form that changes something is a POST form with one."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (DateField, IntegerField, PasswordField, SearchField, SelectField, SelectMultipleField,
                     StringField, SubmitField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ruralinfo.accounts import roles


QUIET_DAYS = 60  # "points with no registrations lately": the default window


class FilterForm(FlaskForm):
    """A search form sent with GET: bookmarkable, no CSRF token in the URL."""

    class Meta:
        csrf = False


class CheckboxesField(SelectMultipleField):
    """A multi-select shown as checkboxes: easier than ctrl-click on an old PC or a phone."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def optional_int(value):
    return int(value) if value not in (None, "", "None") else None


# --- liaison points ----------------------------------------------------------------------------

class PointFilterForm(FilterForm):
    q = SearchField(_l("Name"))
    region = SelectField(_l("Region"), validate_choice=False)
    status = SelectField(_l("Status"), choices=[("", _l("Any status")), ("active", _l("Active")),
                                                ("suspended", _l("Suspended"))], validate_choice=False)


class QuietForm(FilterForm):
    days = IntegerField(_l("No registration in the last … days"), default=QUIET_DAYS,
                        validators=[Optional(), NumberRange(min=1, max=3650)])


class PointForm(FlaskForm):
    """The service checks the fields (all problems at once); the form only carries them."""

    name = StringField(_l("Name"), render_kw={"maxlength": 100, "required": True})
    address = StringField(_l("Address"), render_kw={"maxlength": 200})
    phone = StringField(_l("Telephone"), render_kw={"maxlength": 30, "inputmode": "tel"})
    opening_hours = StringField(_l("Opening hours"), render_kw={"maxlength": 100})
    township = SelectField(_l("Township"), validate_choice=False)
    region_codes = CheckboxesField(_l("Tick the villages"), validate_choice=False)
    more_codes = TextAreaField(_l("Other region codes"), validators=[Optional(), Length(max=2000)],
                               render_kw={"rows": 2})
    show_township = SubmitField(_l("Show its villages"))
    save = SubmitField(_l("Save"))


class AssignLiaisonForm(FlaskForm):
    user_id = SelectField(_l("Existing liaison account"), coerce=optional_int,
                          validators=[InputRequired(message=_l("Choose a liaison."))])


class NewLiaisonForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired()])
    phone = StringField(_l("Mobile number"), validators=[DataRequired()], render_kw={"inputmode": "tel"})
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(min=8)],
                             render_kw={"autocomplete": "new-password"})


# --- accounts ----------------------------------------------------------------------------------

def role_choices(names=roles.STAFF_ROLES):
    return [(name, roles.LABELS[name]) for name in names]


class AccountFilterForm(FilterForm):
    q = SearchField(_l("Name or mobile number"))
    role = SelectField(_l("Role"), validate_choice=False)
    active = SelectField(_l("Status"), choices=[("", _l("Any status")), ("1", _l("Active")),
                                                ("0", _l("Deactivated"))], validate_choice=False)


class RolesForm(FlaskForm):
    roles = CheckboxesField(_l("Roles"), choices=role_choices())
    liaison_point = SelectField(_l("Liaison point (for a village liaison)"), coerce=optional_int,
                                validate_choice=False)


class StaffForm(RolesForm):
    name = StringField(_l("Name"), validators=[DataRequired()])
    phone = StringField(_l("Mobile number"), validators=[DataRequired()], render_kw={"inputmode": "tel"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(min=8)],
                             render_kw={"autocomplete": "new-password"})


class PasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8)],
                             render_kw={"autocomplete": "new-password"})


# --- interest groups ---------------------------------------------------------------------------

class GroupForm(FlaskForm):
    name_zh = StringField(_l("Chinese name"), validators=[DataRequired(), Length(max=40)])
    name_en = StringField(_l("English name"), validators=[DataRequired(), Length(max=60)])


# --- audit log ---------------------------------------------------------------------------------

class AuditFilterForm(FilterForm):
    action = SelectField(_l("Action"), validate_choice=False)
    channel = SelectField(_l("Channel"), validate_choice=False)
    actor = StringField(_l("By (name or mobile number)"))
    target_type = SelectField(_l("Target type"), validate_choice=False)
    target_id = IntegerField(_l("Target number"), validators=[Optional()])
    since = DateField(_l("From"), validators=[Optional()])
    until = DateField(_l("To"), validators=[Optional()])
