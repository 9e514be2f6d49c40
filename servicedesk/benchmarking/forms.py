"""The sharing choice in Settings (Flask-WTF: it carries its CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from servicedesk.benchmarking.sharing import GROUP_MAX


class SharingForm(FlaskForm):
    figures = SelectMultipleField(
        _l("Figures to share"),
        choices=[],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validators=[DataRequired(_l("Choose at least one figure to share."))],
    )
    anonymous = BooleanField(_l("Show us to the others as an anonymous municipality"))
    group = StringField(
        _l("Municipality group (for example SKR's B5), if you want it shown"),
        validators=[Length(max=GROUP_MAX)],
    )
