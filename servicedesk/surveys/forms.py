"""The survey settings form (administrators; Flask-WTF carries the CSRF token)."""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    FloatField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, NumberRange, Optional, Regexp, ValidationError

CLOCK = r"^([01]\d|2[0-3]):[0-5]\d$"
_SENDER = re.compile(r"^(\+[1-9]\d{6,14}|[A-Za-z0-9 ]{1,11})$")


def _sender(_form: FlaskForm, field: StringField) -> None:
    value = (field.data or "").strip()
    if value and not _SENDER.match(value):
        raise ValidationError(
            _l("A number in international form (+46...) or at most 11 letters and digits.")
        )


class SurveySettingsForm(FlaskForm):
    phone_enabled = BooleanField(_l("Survey callers by SMS after answered calls"))
    email_enabled = BooleanField(_l("Survey senders by e-mail after answered e-mails"))
    share_percent = FloatField(
        _l("Share of contacts surveyed (%)"), validators=[NumberRange(min=0, max=100)]
    )
    min_days_between = IntegerField(
        _l("At most one survey per person in (days)"), validators=[NumberRange(min=0, max=3650)]
    )
    delay_minutes = IntegerField(
        _l("Wait after the contact (minutes)"), validators=[NumberRange(min=0, max=1440)]
    )
    quiet_start = StringField(_l("No SMS from (local time)"), validators=[Regexp(CLOCK)])
    quiet_end = StringField(_l("No SMS until (local time)"), validators=[Regexp(CLOCK)])
    sms_on_closed_days = BooleanField(_l("Send SMS on weekends and holidays too"))
    language = SelectField(_l("Language of the survey"))
    sender_name = StringField(_l("Name the citizen sees"), validators=[Length(max=80)])
    sms_provider = SelectField(_l("SMS provider"))
    sms_account = StringField(
        _l("API username (46elks) or Account SID (Twilio)"), validators=[Length(max=64)]
    )
    sms_secret = PasswordField(
        _l("API password (46elks) or Auth Token (Twilio)"), validators=[Length(max=200)]
    )
    sms_from = StringField(_l("SMS sender"), validators=[Length(max=16), _sender])
    sms_replies = BooleanField(
        _l("Ask the questions in the SMS itself, answered by replying a digit 1-5")
    )
    smtp_host = StringField(_l("Mail server"), validators=[Length(max=255)])
    smtp_port = IntegerField(_l("Port"), validators=[NumberRange(min=1, max=65535)])
    smtp_security = SelectField(_l("Encryption"))
    smtp_username = StringField(_l("User name"), validators=[Length(max=255)])
    smtp_password = PasswordField(_l("Password"), validators=[Length(max=200)])
    email_from = EmailField(_l("Sender address"), validators=[Optional(), Length(max=320)])
    wording_phone_ease = TextAreaField(_l("Phone: ease"), validators=[Length(max=300)])
    wording_phone_treatment = TextAreaField(_l("Phone: treatment"), validators=[Length(max=300)])
    wording_email_got_answer = TextAreaField(
        _l("E-mail: did you get an answer?"), validators=[Length(max=300)]
    )
    wording_email_ease = TextAreaField(_l("E-mail: ease"), validators=[Length(max=300)])
    wording_email_clarity = TextAreaField(_l("E-mail: clarity"), validators=[Length(max=300)])

    def validate_sms_replies(self, field: BooleanField) -> None:
        if field.data and not (self.sms_from.data or "").strip().startswith("+"):
            raise ValidationError(
                _l("Answers by reply need a number as SMS sender: nobody can reply to a name.")
            )

    def set_choices(self) -> None:
        self.language.choices = [
            SelectChoice("", str(_l("The organisation's (by country)"))),
            SelectChoice("sv", "Svenska"),
            SelectChoice("nb", "Norsk bokmål"),
            SelectChoice("en", "English"),
        ]
        self.sms_provider.choices = [
            SelectChoice("", str(_l("None"))),
            SelectChoice("46elks", "46elks"),
            SelectChoice("twilio", "Twilio"),
        ]
        self.smtp_security.choices = [
            SelectChoice("starttls", "STARTTLS (587)"),
            SelectChoice("tls", "TLS (465)"),
            SelectChoice("none", str(_l("None (local relay only)"))),
        ]
