"""The sharing choice in Settings (Flask-WTF: it carries its CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, SelectMultipleField, StringField
from wtforms.validators import Length, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from servicedesk.benchmarking.sharing import GROUP_MAX


def _at_least_one(_form: FlaskForm, field: Field) -> None:
    """Server-side only: a browser's ``required`` on a group of checkboxes would demand that
    every box be ticked."""
    if not field.data:
        raise ValidationError(str(_l("Choose at least one figure to share.")))


class SharingForm(FlaskForm):
    figures = SelectMultipleField(
        _l("Figures to share"),
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[_at_least_one],
    )
    anonymous = BooleanField(_l("Show us to the others as an anonymous municipality"))
    group = StringField(
        _l("Municipality group (for example SKR's B5), if you want it shown"),
        validators=[Length(max=GROUP_MAX)],
    )
