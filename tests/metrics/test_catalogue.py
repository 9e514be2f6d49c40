"""The figure catalogue is the report's: every path it names is in a real report, every figure
of the report is in it, its labels exist in sv, nb and en, and targets judge by its direction."""

from __future__ import annotations

from datetime import date

from flask_babel import force_locale

from servicedesk.dashboard.models import Target
from servicedesk.dashboard.targets import org_targets, set_targets
from servicedesk.metrics import catalogue
from servicedesk.metrics.catalogue import BY_PATH, CARD_GROUPS, FIGURES, HEADLINES, judge
from servicedesk.metrics.queries import empty_figures, figures
from servicedesk.reports.formats import flatten
from servicedesk.surveys import catalogue as survey_catalogue
from tests.helpers import event, ingest


def _leaves(doc: dict) -> set[str]:
    return {path for path, _ in flatten(doc)}


def test_every_figure_of_the_report_is_in_the_catalogue_and_back(org, db):
    ingest(
        db,
        org,
        event("call.queued", "c1", "2026-06-02T09:00:00+02:00", queue="Bygglov"),
        event("call.answered", "c1", "2026-06-02T09:00:40+02:00"),
        event("survey.response", "c1", "2026-06-02T10:00:00+02:00", question="ease", score=4),
    )
    doc = figures(db, org, date(2026, 6, 1), date(2026, 6, 30))
    leaves = _leaves(doc) | _leaves(empty_figures(org))
    for fig in FIGURES:
        # An interval is null (one leaf) until a figure has two responses.
        assert fig.path in leaves or fig.path.rsplit(".", 1)[0] in leaves, fig.path
    shown = {
        p
        for p in leaves
        if p.split(".")[0] in ("phone", "email", "survey_headline")
        and not p.endswith((".channel", ".question", ".yes", ".ci95", ".small_sample"))
        and ".by_channel." not in p
    }
    assert shown - set(BY_PATH) == set()


def test_labels_in_three_languages(app):
    with app.app_context():
        for locale in ("sv", "nb", "en"):
            with force_locale(locale):
                labels = {str(f.label) for f in FIGURES}
                assert len(labels) == len(FIGURES), "two figures share a label"
        with force_locale("sv"):
            assert str(BY_PATH["survey_headline.phone_ease.index"].label) == "Enkelhet via telefon"
            assert str(BY_PATH["phone.direct_answer_rate"].label) == "Direkta svar"
        with force_locale("nb"):
            assert str(BY_PATH["email.received"].label) != "E-mails received"


def test_directions_targets_and_cards():
    assert judge("phone.abandon_rate", 5.0, 8.0) == "good"
    assert judge("phone.abandon_rate", 9.0, 8.0) == "bad"
    assert judge("phone.service_level", 79.9, 80.0) == "bad"
    assert judge("phone.offered", 100, 10) == "neutral"  # a volume takes no target
    assert judge("nonsense", 1, 1) == "neutral"
    assert all(f.better is not None for f in catalogue.TARGETS)
    cards = [f.path for _, figs in CARD_GROUPS for f in figs]
    assert cards[-4:] == [f"survey_headline.{h.key}.index" for h in HEADLINES]
    assert all(f.drill for f in catalogue.TARGETS)


def test_the_survey_questions_are_the_catalogues():
    asked = {ch: [q.key for q in qs] for ch, qs in survey_catalogue.QUESTIONS.items()}
    assert asked == {"phone": ["ease", "treatment"], "email": ["got_answer", "ease", "clarity"]}
    for h in HEADLINES:
        assert h.question in asked[h.channel]


def test_a_target_of_the_all_channel_figure_carries_over_until_replaced(org, db):
    db.add(Target(organisation_id=org.id, metric="survey.ease.index", value=70.0))
    db.flush()
    assert org_targets(db, org) == {
        "survey_headline.phone_ease.index": 70.0,
        "survey_headline.email_ease.index": 70.0,
    }
    set_targets(db, org, {"survey_headline.phone_ease.index": 75.0})
    set_targets(db, org, {"survey_headline.email_ease.index": None})
    assert org_targets(db, org) == {"survey_headline.phone_ease.index": 75.0}
