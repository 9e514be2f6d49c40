"""Forms of the settings pages (Flask-WTF: each carries its CSRF token)."""

from __future__ import annotations

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    FloatField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from servicedesk.auth.operations import MIN_PASSWORD
from servicedesk.dashboard.targets import TARGETS
from servicedesk.ingest.models import INGEST, REPORTS_READ


def role_choices() -> list[SelectChoice]:
    return [
        SelectChoice("team_leader", str(_l("Team leader"))),
        SelectChoice("quality", str(_l("Quality staff"))),
        SelectChoice("admin", str(_l("Administrator"))),
    ]


def choices(pairs: list[tuple[object, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class OrganisationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    service_level_seconds = IntegerField(
        _l("Service level: answered within (seconds)"),
        validators=[DataRequired(), NumberRange(min=1, max=3600)],
    )


class LocaleFloatField(FloatField):
    """A number typed the local way: "80,5" in Swedish and Norwegian, "80.5" in English."""

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        if self.data is None:
            return ""
        text = format(self.data, "g")
        return text.replace(".", ",") if str(get_locale()) in ("sv", "nb") else text

    def process_formdata(self, valuelist: list[str]) -> None:
        if valuelist:
            valuelist = [
                v.replace("\u00a0", "").replace(" ", "").replace(",", ".") for v in valuelist
            ]
        super().process_formdata(valuelist)


def targets_form_class() -> type[FlaskForm]:
    """One optional number per figure with a target."""

    class TargetsForm(FlaskForm):
        pass

    for spec in TARGETS:
        setattr(
            TargetsForm,
            spec.key.replace(".", "__"),
            LocaleFloatField(spec.label, validators=[Optional(), NumberRange(*spec.target_range)]),
        )
    return TargetsForm


class ClosedDayForm(FlaskForm):
    day = DateField(_l("Date"), validators=[DataRequired()])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=200)])


class QueueForm(FlaskForm):
    name = StringField(_l("Queue name"), validators=[DataRequired(), Length(max=128)])


#: What each token scope may do, as the Settings page names it.
SCOPE_NAMES = {
    INGEST: _l("Send events (telephony, e-mail)"),
    REPORTS_READ: _l("Read reports (reports API)"),
}


class TokenForm(FlaskForm):
    label = StringField(_l("What the token is for"), validators=[Optional(), Length(max=200)])
    scope = SelectField(_l("Use"), choices=choices(list(SCOPE_NAMES.items())), default=INGEST)
    signing = BooleanField(_l("Require signed requests (Standard Webhooks)"))

    def validate_signing(self, field: BooleanField) -> None:
        if field.data and self.scope.data != INGEST:
            raise ValidationError(_l("Only tokens that send events sign their requests."))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class UserForm(FlaskForm):
    email = EmailField(_l("E-mail address"), validators=[DataRequired(), Length(max=254)])
    role = SelectField(_l("Role"), choices=[])
    password = PasswordField(
        _l("Password (at least %(n)s characters)", n=MIN_PASSWORD),
        validators=[DataRequired(), Length(min=MIN_PASSWORD, max=1024)],
    )
    queues = MultiCheckboxField(_l("Limit to queues (team leaders; none: all)"), coerce=int)


class EditUserForm(FlaskForm):
    role = SelectField(_l("Role"), choices=[])
    queues = MultiCheckboxField(_l("Limit to queues (team leaders; none: all)"), coerce=int)
    active = BooleanField(_l("May sign in"))
    password = PasswordField(
        _l("New password (leave empty to keep)"),
        validators=[Optional(), Length(min=MIN_PASSWORD, max=1024)],
    )
