"""Every text in Swedish, Norwegian Bokmål and English; the language follows the user."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.web.conftest import post_form

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "servicedesk" / "translations"
KEYWORDS = {"_": None, "gettext": None, "lazy_gettext": None, "_l": None, "ngettext": (1, 2)}


def _extracted() -> set[str]:
    found = set()
    for directory, method in ((ROOT / "servicedesk", "python"), (ROOT / "templates", "jinja2")):
        pattern = "**.py" if method == "python" else "**.html"
        for _file, _line, message, _comments, _context in extract_from_dir(
            str(directory), method_map=[(pattern, method)], keywords=KEYWORDS
        ):
            found.add(message if isinstance(message, str) else message[0])
    return found


def _key(value):
    """A message id or string comparable between .po and .mo (plural forms as a tuple)."""
    return tuple(value) if isinstance(value, list | tuple) else value


@pytest.mark.parametrize("locale", ["sv", "nb", "en"])
def test_every_text_is_translated_and_compiled(locale):
    po_path = TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"
    with po_path.open("rb") as fh:
        po = {m.id: m.string for m in read_po(fh, locale=locale) if m.id}
    # A plural message is keyed by its singular; it is translated when every form is.
    singular = {k[0] if isinstance(k, tuple) else k: v for k, v in po.items()}
    missing = sorted(
        m
        for m in _extracted()
        if not (all(singular[m]) if isinstance(singular.get(m), tuple) else singular.get(m))
    )
    assert not missing, f"{locale}: untranslated (run `make translations`): {missing[:5]}"
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo").open("rb") as fh:
        mo = {_key(m.id): _key(m.string) for m in read_mo(fh) if m.id}
    assert mo == {
        _key(k): _key(v) for k, v in po.items() if v and (not isinstance(v, tuple) or all(v))
    }, f"{locale}: messages.mo is stale"


def test_language_follows_the_organisation_and_the_switch(client, make_org, signed_in):
    oslo = make_org(slug="oslo", name="Oslo kommune", country="NO")
    signed_in(oslo, "quality")
    assert "Logg ut" in client.get("/month").get_data(as_text=True)
    response = post_form(client, "/language", {"locale": "en", "next": "/month"}, page="/month")
    assert response.status_code == 303 and response.headers["Location"] == "/month"
    html = client.get("/month").get_data(as_text=True)
    assert "Sign out" in html and 'lang="en"' in html
    post_form(client, "/language", {"locale": "sv", "next": "/"}, page="/")
    assert "Logga ut" in client.get("/").get_data(as_text=True)


def test_swedish_by_default_and_the_sign_in_page_switches_too(client, org):
    assert "Logga in" in client.get("/login").get_data(as_text=True)
    post_form(client, "/language", {"locale": "nb", "next": "/login"}, page="/login")
    assert "Logg inn" in client.get("/login").get_data(as_text=True)


def test_numbers_follow_the_locale(app):
    from flask_babel import force_locale

    from servicedesk.formatting import num, pct

    with app.test_request_context():
        with force_locale("sv"):
            assert pct(83.26) == "83,3\xa0%" and num(12345) == "12\xa0345"
        with force_locale("en"):
            assert pct(83.26) == "83.3%" and num(12345) == "12,345"


class _AnyValue(dict):
    """A mapping that has every key: what a message needs from its keyword arguments."""

    def __missing__(self, key):
        return ""


def _template_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT / "templates"), method_map=[("**.html", "jinja2")], keywords=KEYWORDS
    ):
        found.update([message] if isinstance(message, str) else message)
    return found


@pytest.mark.parametrize("locale", ["sv", "nb", "en"])
def test_template_messages_survive_jinja_formatting(locale):
    """Jinja's new-style gettext %-formats every message of a template, with or without
    arguments, so a bare "%" (Swedish "95 % konfidensintervall") makes the page answer 500."""
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        po = {m.id: m.string for m in read_po(fh, locale=locale) if m.id}
    broken = []
    for message in sorted(_template_messages()):
        translated = po.get(message)
        forms = [message, *(translated if isinstance(translated, tuple) else [translated])]
        for text in filter(None, forms):
            try:
                text % _AnyValue()
            except (ValueError, TypeError, KeyError):
                broken.append(text)
    assert not broken, f"{locale}: write %% for a per cent sign in templates: {broken[:5]}"
