"""Forms of the liaison console. The checks themselves live in the account
services, so the form, the bulk import and SMS registration agree."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField
from wtforms.validators import InputRequired
from wtforms.widgets import CheckboxInput, ListWidget


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class FarmerForm(FlaskForm):
    name = StringField(_l("Real name (as on the ID card)"), render_kw={"autocomplete": "off"})
    id_number = StringField(_l("ID card number"),
                            render_kw={"autocomplete": "off", "maxlength": 24, "spellcheck": "false",
                                       "data-check": "id_number"})
    phone = StringField(_l("Mobile number"),
                        render_kw={"inputmode": "tel", "autocomplete": "off", "data-check": "phone"})
    region_code = SelectField(_l("Village"), choices=[])
    groups = MultiCheckboxField(_l("Interest groups"), choices=[])
    language = SelectField(_l("Language for SMS"), choices=[("zh", "中文"), ("en", "English")], default="zh")


class RegisterForm(FarmerForm):
    consent = BooleanField(_l("The farmer agreed separately that the bureau processes their ID number "
                              "to confirm their real name (stored encrypted, shown only masked)."))


class ImportForm(FlaskForm):
    file = FileField(_l("Spreadsheet (CSV or XLSX)"),
                     validators=[FileRequired(_l("Choose a file.")),
                                 FileAllowed(["csv", "xlsx"], _l("Only CSV or XLSX files."))])
    consent = BooleanField(_l("Every person in this file agreed separately to the processing of their ID "
                              "number, and I keep their signed consent forms."),
                           validators=[InputRequired(_l("Confirm the consent of everyone in the file."))])
