"""The upload form of Settings → Call lists (Flask-WTF: it carries its CSRF token)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import SelectField, TextAreaField
from wtforms.validators import Length, Optional

from servicedesk.callimport.mapping import MAX_MAPPING_BYTES, presets

#: The choice that takes the mapping from the text box.
CUSTOM = "custom"


def mapping_choices(last_used: bool) -> list[tuple[str, str]]:
    choices = [(name, m.title) for name, m in sorted(presets().items())]
    if last_used:
        choices.append(("last", str(_l("The mapping of the last import"))))
    choices.append((CUSTOM, str(_l("My own mapping (the text below)"))))
    return choices


class UploadForm(FlaskForm):
    file = FileField(_l("Call list (CSV or XLSX)"), validators=[FileRequired()])
    mapping = SelectField(_l("Mapping"))
    mapping_text = TextAreaField(
        _l("Mapping text (TOML)"), validators=[Optional(), Length(max=MAX_MAPPING_BYTES)]
    )
