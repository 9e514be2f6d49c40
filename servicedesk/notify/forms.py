"""The form of Settings → Report by e-mail."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from servicedesk.notify.mail import valid_address

#: The report's languages, each named in its own language (as a language picker shows them).
LANGUAGE_NAMES = {"sv": "Svenska", "nb": "Norsk bokmål", "en": "English"}


class RecipientForm(FlaskForm):
    address = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    language = SelectField(
        _l("The report's language"),
        choices=[SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()],
    )

    def validate_address(self, field: EmailField) -> None:
        if not valid_address(field.data or ""):
            raise ValidationError(_l("Write one address, like name@kommun.se."))
