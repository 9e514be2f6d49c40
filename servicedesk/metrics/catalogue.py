"""The one figure catalogue: every figure of the report by its path, with its label, unit, which
way is better, whether an organisation may set a target for it and which contacts are behind it;
and the survey questions (which channel asks what, in SKR's order).

The pages' cards, the targets in Settings, the exports' headers, the print view, the charts, the
Kolada comparison and the survey's own pages all read this table; nothing else lists figures.
A plain data module (foundation layer): it imports only flask_babel's lazy strings, so any tier
may read it. Labels are lazy: they are translated (sv, nb, en) where they are shown, so a module
constant serves every language (``with force_locale("sv"): str(fig.label)`` outside a request).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from flask_babel import lazy_gettext as _l

#: How a figure is written: a count, a percentage 0-100, seconds, working hours, an index 0-100.
Unit = Literal["count", "pct", "secs", "hours", "index"]
#: Which way is better: "higher", "lower", or None (a volume: neither).
Direction = Literal["higher", "lower"] | None

#: The filter of ``servicedesk.formatting`` (and the templates) that writes each unit.
FORMATS: Mapping[Unit, str] = MappingProxyType(
    {"count": "num", "pct": "pct", "secs": "secs", "hours": "hours", "index": "index"}
)
#: The range a target of each unit may take.
TARGET_RANGES: Mapping[Unit, tuple[float, float]] = MappingProxyType(
    {"pct": (0, 100), "index": (0, 100), "secs": (0, 86_400), "hours": (0, 240), "count": (0, 1e9)}
)

#: SKR's e-mail survey asks first "Har du fått återkoppling eller svar på din fråga?"; a contact
#: whose citizen said no has none of its scores counted. Answered yes or no, not scored.
FILTER_QUESTION = "got_answer"


@dataclass(frozen=True, slots=True)
class Figure:
    """One figure of the report."""

    #: The dotted path in the report JSON ("phone.wait_seconds.median"); the figure's key.
    path: str
    #: What the pages, exports and Settings call it (lazy: translated where shown).
    label: Any
    unit: Unit
    better: Direction = None
    #: Whether an organisation may set a target for it (Settings, the cards' colours).
    target: bool = False
    #: The contacts behind it (the drill-down's query parameters), or None.
    drill: Mapping[str, str] | None = None
    #: A short qualifier shown after the label ("of offered calls (KKiK)").
    note: Any = ""
    #: The channel a survey figure is about ("phone", "email"), else "".
    channel: str = ""

    @property
    def key(self) -> str:
        """The figure's key: its path (what targets and Kolada comparisons store)."""
        return self.path

    @property
    def section(self) -> str:
        """The report section it belongs to (phone, email, survey, survey_headline)."""
        return self.path.split(".", 1)[0]

    @property
    def parent(self) -> str:
        """The path of what the figure is part of ("survey_headline.phone_ease" for its index)."""
        return self.path.rsplit(".", 1)[0]

    @property
    def is_survey(self) -> bool:
        """A survey index, shown with its responses, interval and small-sample flag."""
        return self.section == "survey_headline" and self.path.endswith(".index")

    @property
    def fmt(self) -> str:
        """The formatting filter that writes it (num, pct, secs, hours, index)."""
        return FORMATS[self.unit]

    @property
    def higher_is_better(self) -> bool | None:
        return None if self.better is None else self.better == "higher"

    @property
    def target_range(self) -> tuple[float, float]:
        return TARGET_RANGES[self.unit]

    def judge(self, value: float | None, target: float | None) -> str:
        """ "good", "bad" or "neutral": the figure against its target."""
        if not self.target or self.better is None or value is None or target is None:
            return "neutral"
        met = value >= target if self.better == "higher" else value <= target
        return "good" if met else "bad"


@dataclass(frozen=True, slots=True)
class Question:
    """A survey question: its key (the ``survey.response`` question) and short label."""

    key: str
    label: Any
    #: The channels whose survey asks it, in the order of each channel's survey.
    channels: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Headline:
    """One of SKR's four Servicemätning figures: a question about one channel."""

    key: str
    channel: str
    question: str
    label: Any
    #: The contacts behind it.
    drill: Mapping[str, str] = field(default_factory=dict)


def _drill(**params: str) -> Mapping[str, str]:
    return MappingProxyType(params)


#: The scored questions, in the report's order, and the channels that ask each.
QUESTIONS: tuple[Question, ...] = (
    Question("treatment", _l("Treatment"), ("phone",)),
    Question("ease", _l("Ease"), ("phone", "email")),
    Question("clarity", _l("Clarity"), ("email",)),
)
QUESTION_KEYS: tuple[str, ...] = tuple(q.key for q in QUESTIONS)
QUESTION_LABELS: Mapping[str, Any] = MappingProxyType({q.key: q.label for q in QUESTIONS})
CHANNELS = ("phone", "email")

#: Each channel's survey, in the order asked (SKR's order): the filter question first by e-mail.
SURVEY_ORDER: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "phone": ("ease", "treatment"),
        "email": (FILTER_QUESTION, "ease", "clarity"),
    }
)

#: SKR's four headline figures, in SKR's order (ease by phone, treatment by phone, ease by
#: e-mail, clarity of the e-mail answer).
HEADLINES: tuple[Headline, ...] = (
    Headline(
        "phone_ease",
        "phone",
        "ease",
        _l("Ease by phone"),
        _drill(channel="phone", question="ease"),
    ),
    Headline(
        "phone_treatment",
        "phone",
        "treatment",
        _l("Treatment by phone"),
        _drill(channel="phone", question="treatment"),
    ),
    Headline(
        "email_ease",
        "email",
        "ease",
        _l("Ease by e-mail"),
        _drill(channel="email", question="ease"),
    ),
    Headline(
        "email_clarity",
        "email",
        "clarity",
        _l("Clarity of e-mail answers"),
        _drill(channel="email", question="clarity"),
    ),
)
HEADLINE_KEYS: tuple[str, ...] = tuple(h.key for h in HEADLINES)


def _phone() -> list[Figure]:
    phone = _drill(channel="phone")
    return [
        Figure("phone.offered", _l("Calls offered"), "count", drill=phone),
        Figure(
            "phone.answered",
            _l("Calls answered"),
            "count",
            drill=_drill(**phone, outcome="answered"),
        ),
        Figure(
            "phone.abandoned",
            _l("Calls abandoned"),
            "count",
            drill=_drill(**phone, outcome="abandoned"),
        ),
        Figure(
            "phone.direct_answers",
            _l("Calls answered directly"),
            "count",
            drill=_drill(**phone, outcome="direct"),
        ),
        Figure(
            "phone.direct_answer_rate",
            _l("Direct answers"),
            "pct",
            "higher",
            True,
            _drill(**phone, outcome="direct"),
            _l("of offered calls (KKiK)"),
        ),
        Figure(
            "phone.service_level",
            _l("Service level"),
            "pct",
            "higher",
            True,
            _drill(**phone, deadline="met"),
        ),
        Figure("phone.service_level_seconds", _l("Service-level threshold"), "secs", None, False),
        Figure(
            "phone.abandon_rate",
            _l("Abandoned calls"),
            "pct",
            "lower",
            True,
            _drill(**phone, outcome="abandoned"),
        ),
        Figure(
            "phone.wait_seconds.mean",
            _l("Mean wait"),
            "secs",
            "lower",
            False,
            _drill(**phone, outcome="answered"),
        ),
        Figure(
            "phone.wait_seconds.median",
            _l("Median wait"),
            "secs",
            "lower",
            True,
            _drill(**phone, outcome="answered"),
        ),
        Figure(
            "phone.wait_seconds.p90",
            _l("90th percentile wait"),
            "secs",
            "lower",
            True,
            _drill(**phone, outcome="answered"),
        ),
        Figure(
            "phone.survey_response_rate",
            _l("Survey response rate, phone"),
            "pct",
            "higher",
        ),
    ]


def _email() -> list[Figure]:
    email = _drill(channel="email")
    return [
        Figure("email.received", _l("E-mails received"), "count", drill=email),
        Figure(
            "email.answered",
            _l("E-mails answered"),
            "count",
            drill=_drill(**email, outcome="answered"),
        ),
        Figure(
            "email.within_1_working_day",
            _l("Answered within 1 working day"),
            "pct",
            "higher",
            True,
            _drill(**email, deadline="met", days="1"),
            _l("KKiK"),
        ),
        Figure(
            "email.within_2_working_days",
            _l("Answered within 2 working days"),
            "pct",
            "higher",
            True,
            _drill(**email, deadline="met", days="2"),
        ),
        Figure(
            "email.median_working_hours",
            _l("Median answer time"),
            "hours",
            "lower",
            True,
            _drill(**email, outcome="answered"),
            _l("hours of working days"),
        ),
        Figure(
            "email.survey_response_rate",
            _l("Survey response rate, e-mail"),
            "pct",
            "higher",
        ),
    ]


def _survey() -> list[Figure]:
    """The all-channel question figures (kept; the per-channel headline figures lead)."""
    out = []
    for q in QUESTIONS:
        channel = q.channels[0] if len(q.channels) == 1 else ""
        drill = _drill(channel=q.channels[0], question=q.key)
        out += [
            Figure(
                f"survey.{q.key}.index",
                q.label,
                "index",
                "higher",
                False,
                drill,
                _l("index 0–100, all channels"),
                channel,
            ),
            Figure(
                f"survey.{q.key}.responses",
                _l("%(question)s: responses", question=q.label),
                "count",
                channel=channel,
            ),
            Figure(
                f"survey.{q.key}.good_share",
                _l("%(question)s: share of 4 and 5", question=q.label),
                "pct",
                "higher",
                channel=channel,
            ),
        ]
    return out


#: What each headline figure carries besides its index: (path part, label, unit, better).
_HEADLINE_PARTS: tuple[tuple[str, Callable[[Any], Any], Unit, Direction], ...] = (
    ("responses", lambda f: _l("%(figure)s: responses", figure=f), "count", None),
    ("response_rate", lambda f: _l("%(figure)s: response rate", figure=f), "pct", "higher"),
    ("good_share", lambda f: _l("%(figure)s: share of 4 and 5", figure=f), "pct", "higher"),
    ("ci95.low", lambda f: _l("%(figure)s: 95 %% interval, low", figure=f), "index", None),
    ("ci95.high", lambda f: _l("%(figure)s: 95 %% interval, high", figure=f), "index", None),
)


def _headline() -> list[Figure]:
    out = []
    for h in HEADLINES:
        base = f"survey_headline.{h.key}"
        out += [
            Figure(
                f"{base}.index",
                h.label,
                "index",
                "higher",
                True,
                h.drill,
                _l("index 0–100"),
                h.channel,
            ),
            *(
                Figure(f"{base}.{part}", label(h.label), unit, better, channel=h.channel)
                for part, label, unit, better in _HEADLINE_PARTS
            ),
        ]
    out.append(
        Figure(
            f"survey_headline.email_{FILTER_QUESTION}.responses",
            _l("Got an answer (e-mail): responses"),
            "count",
            channel="email",
        )
    )
    out.append(
        Figure(
            f"survey_headline.email_{FILTER_QUESTION}.yes_share",
            _l("Got an answer (e-mail)"),
            "pct",
            "higher",
            note=_l("share who said yes"),
            channel="email",
        )
    )
    return out


#: Every figure, in the report's order.
FIGURES: tuple[Figure, ...] = (*_phone(), *_email(), *_headline(), *_survey())
BY_PATH: Mapping[str, Figure] = MappingProxyType({f.path: f for f in FIGURES})
#: The figures an organisation may set a target for.
TARGETS: tuple[Figure, ...] = tuple(f for f in FIGURES if f.target)
#: Targets stored under the all-channel question figures before the headline figures led
#: (2026.2): each applies to the per-channel figures of its question that have none of their own.
LEGACY_TARGETS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        f"survey.{q.key}.index": tuple(
            f"survey_headline.{h.key}.index" for h in HEADLINES if h.question == q.key
        )
        for q in QUESTIONS
    }
)


def figure(path: str) -> Figure:
    """The figure at ``path`` (KeyError when the catalogue has none)."""
    return BY_PATH[path]


def judge(path: str, value: float | None, target: float | None) -> str:
    """ "good", "bad" or "neutral": the figure at ``path`` against its target."""
    fig = BY_PATH.get(path)
    return "neutral" if fig is None else fig.judge(value, target)


def _paths(*paths: str) -> tuple[Figure, ...]:
    return tuple(BY_PATH[p] for p in paths)


#: What each report section is called.
SECTION_LABELS: Mapping[str, Any] = MappingProxyType(
    {
        "phone": _l("Phone"),
        "email": _l("E-mail"),
        "survey_headline": _l("Citizens' ratings (SKR Servicemätning)"),
        "survey": _l("Citizens' ratings, all channels"),
        "coverage": _l("Data coverage"),
    }
)

#: The cards of the Month page and the print view, in groups: (heading, figures).
CARD_GROUPS: tuple[tuple[Any, tuple[Figure, ...]], ...] = (
    (
        SECTION_LABELS["phone"],
        _paths(
            "phone.offered",
            "phone.direct_answer_rate",
            "phone.service_level",
            "phone.abandon_rate",
            "phone.wait_seconds.median",
            "phone.wait_seconds.p90",
        ),
    ),
    (
        SECTION_LABELS["email"],
        _paths(
            "email.received",
            "email.within_1_working_day",
            "email.within_2_working_days",
            "email.median_working_hours",
        ),
    ),
    (
        SECTION_LABELS["survey_headline"],
        _paths(*(f"survey_headline.{h.key}.index" for h in HEADLINES)),
    ),
)

#: The columns of the by-queue tables (pages and print view).
QUEUE_COLUMNS: tuple[Figure, ...] = _paths(
    "phone.offered",
    "phone.direct_answer_rate",
    "phone.service_level",
    "phone.abandon_rate",
    "phone.wait_seconds.median",
    "email.received",
    "email.within_1_working_day",
    "email.within_2_working_days",
    *(f"survey_headline.{h.key}.index" for h in HEADLINES),
)


def iter_paths(section: str) -> Iterator[Figure]:
    """The figures of one report section, in order."""
    return (f for f in FIGURES if f.section == section)


# ---------------------------------------------------------------------------------------------
# what each figure means (the exports' Definitions sheet, in the reader's language)

#: The definition of each phone and e-mail figure (docs/metrics.md has the full rules).
DEFINITIONS: Mapping[str, Any] = MappingProxyType(
    {
        "phone.offered": _l("Calls started in the period (local date of call.queued)."),
        "phone.answered": _l("Offered calls that were answered."),
        "phone.abandoned": _l("Offered calls that were not answered."),
        "phone.direct_answers": _l(
            "Calls where the question was answered in the call, without transfer or call-back."
        ),
        "phone.direct_answer_rate": _l("Direct answers as a share of offered calls (KKiK)."),
        "phone.service_level": _l(
            "Calls answered within the service-level threshold as a share of offered calls."
        ),
        "phone.service_level_seconds": _l("The organisation's service-level threshold."),
        "phone.abandon_rate": _l("Abandoned calls as a share of offered calls."),
        "phone.wait_seconds.mean": _l("Mean wait of answered calls, from queue to answer."),
        "phone.wait_seconds.median": _l("Median wait of answered calls."),
        "phone.wait_seconds.p90": _l("Nine in ten answered calls waited at most this long."),
        "phone.survey_response_rate": _l(
            "Answered calls with a survey answer as a share of answered calls."
        ),
        "email.received": _l("E-mail threads started in the period."),
        "email.answered": _l("Received e-mails that got an answer."),
        "email.within_1_working_day": _l(
            "E-mails answered within 1 working day as a share of received e-mails (KKiK); "
            "unanswered ones count as not within."
        ),
        "email.within_2_working_days": _l(
            "E-mails answered within 2 working days as a share of received e-mails."
        ),
        "email.median_working_hours": _l(
            "Median time to the answer, in hours of working days: a working day counts "
            "24 hours, weekends, holidays and closed days nothing."
        ),
        "email.survey_response_rate": _l(
            "Answered e-mails with a survey answer as a share of answered e-mails."
        ),
    }
)
#: The definition of each part of a survey figure.
SURVEY_PART_DEFINITIONS: Mapping[str, Any] = MappingProxyType(
    {
        "index": _l("Mean of (grade − 1) × 25: grade 5 = 100, 4 = 75, 3 = 50, 2 = 25, 1 = 0."),
        "responses": _l("Answers about the period's contacts."),
        "good_share": _l("Grades 4 and 5 as a share of the answers."),
        "response_rate": _l(
            "Answered contacts of the channel with a survey answer as a share of its answered "
            "contacts."
        ),
        "low": _l("Lower bound of the 95 % t-interval of the index (none under 2 answers)."),
        "high": _l("Upper bound of the 95 % t-interval of the index (none under 2 answers)."),
        "small_sample": _l("True when the figure rests on fewer than 30 answers."),
        "yes": _l("Answers “yes” to “did you get an answer?”."),
        "yes_share": _l(
            "“Yes” as a share of the answers to “did you get an answer?”; only they are scored."
        ),
    }
)
_PART_LABELS: Mapping[str, Any] = MappingProxyType(
    {
        "index": _l("index"),
        "responses": _l("responses"),
        "good_share": _l("share of 4 and 5"),
        "response_rate": _l("response rate"),
        "low": _l("95 % interval, low"),
        "high": _l("95 % interval, high"),
        "small_sample": _l("few answers"),
        "yes": _l("yes"),
        "yes_share": _l("share who said yes"),
        "first_day": _l("data from"),
        "last_day": _l("data up to"),
        "days": _l("days with data"),
        "partial": _l("part of the month only"),
        "running": _l("month still running"),
    }
)
_CHANNEL_LABELS: Mapping[str, Any] = MappingProxyType({"phone": _l("phone"), "email": _l("e-mail")})


def label_for(path: str) -> str:
    """A figure's label in the current language; for a part the catalogue does not list (the
    all-channel survey figures by channel, a flag) one made of its question, channel and part."""
    fig = BY_PATH.get(path)
    if fig is not None:
        return str(fig.label)
    parts = path.split(".")
    words: list[str] = []
    for part in parts[1:]:
        if part in QUESTION_LABELS:
            words.append(str(QUESTION_LABELS[part]))
        elif part in _CHANNEL_LABELS:
            words.append(str(_CHANNEL_LABELS[part]))
        elif part in _PART_LABELS:
            words.append(str(_PART_LABELS[part]))
        elif (head := f"{parts[0]}.{part}.index") in BY_PATH:
            words.append(str(BY_PATH[head].label))
        elif (head := f"{parts[0]}.{part}.yes_share") in BY_PATH:
            words.append(str(BY_PATH[head].label))
    return ", ".join(words) if words else path


def definition_for(path: str) -> str:
    """What the figure at ``path`` means, in the current language ("" when not written)."""
    if path in DEFINITIONS:
        return str(DEFINITIONS[path])
    if path.split(".", 1)[0] in ("survey", "survey_headline"):
        last = path.rsplit(".", 1)[-1]
        if last in SURVEY_PART_DEFINITIONS:
            return str(SURVEY_PART_DEFINITIONS[last])
    return ""


# the team leaders' figures that are not in the frozen report (docs/metrics.md): computed for the
# pages, the periods of the reports API, the agents' table and the staffing advice.

#: Handle time: answered -> ended, phone (``servicedesk.metrics.handling``).
HANDLE_FIGURES: tuple[Figure, ...] = (
    Figure(
        "phone.handle_seconds.mean",
        _l("Mean handle time"),
        "secs",
        drill=_drill(channel="phone", outcome="answered"),
        note=_l("answered to ended"),
    ),
    Figure(
        "phone.handle_seconds.median",
        _l("Median handle time"),
        "secs",
        drill=_drill(channel="phone", outcome="answered"),
        note=_l("answered to ended"),
    ),
    Figure("phone.handle_seconds.calls", _l("Calls with a handle time"), "count"),
)
#: The per-agent figures of the Agents page (``servicedesk.metrics.agents``), by their key there.
AGENT_FIGURES: tuple[Figure, ...] = (
    Figure("agent.calls_answered", _l("Calls answered"), "count"),
    Figure("agent.handle_seconds.mean", _l("Mean handle time"), "secs"),
    Figure("agent.handle_seconds.median", _l("Median handle time"), "secs"),
    Figure("agent.direct_answer_rate", _l("Direct answers"), "pct", note=_l("of answered calls")),
    Figure("agent.emails_answered", _l("E-mails answered"), "count"),
    Figure("agent.survey_index", _l("Survey index"), "index", note=_l("all questions")),
    Figure("agent.survey_responses", _l("Survey answers"), "count"),
)
#: Every figure the pages know: the report's and the team leaders' (look-ups by path).
PAGE_FIGURES: Mapping[str, Figure] = MappingProxyType(
    {f.path: f for f in (*FIGURES, *HANDLE_FIGURES, *AGENT_FIGURES)}
)
#: The cards of the team leaders' Period and Month pages: the report's, and the handle time.
PAGE_CARD_GROUPS: tuple[tuple[Any, tuple[Figure, ...]], ...] = (
    (CARD_GROUPS[0][0], (*CARD_GROUPS[0][1], *HANDLE_FIGURES[:2])),
    *CARD_GROUPS[1:],
)
