"""The version of the metric definitions every report carries, and the constants of those
definitions that more than one feature reads (docs/metrics.md). Imports nothing of the app."""

from datetime import time

from servicedesk.metrics.catalogue import CHANNELS, FILTER_QUESTION, HEADLINES, QUESTION_KEYS

__all__ = [
    "CHANNELS",
    "DEFINITIONS_VERSION",
    "FIGURE_DEFINITIONS",
    "FILTER_QUESTION",
    "HEADLINE",
    "ONE_WORKING_DAY",
    "QUESTIONS",
    "RECHECK_MONTHS",
    "REPORT_HOUR",
    "REPORT_WORKING_DAY",
    "TWO_WORKING_DAYS",
]

#: Changes whenever a rule in docs/metrics.md changes; figures are comparable within one version.
DEFINITIONS_VERSION = "servicedesk-metrics/2026.3"

#: Working-time limits of the e-mail figures, in seconds (a working day counts 24 hours).
ONE_WORKING_DAY = 86_400
TWO_WORKING_DAYS = 2 * ONE_WORKING_DAY

#: Month M is reported at this local hour on this working day of month M + 1 (docs/metrics.md,
#: "Reports"); the scheduler and the due dates on the pages read these.
REPORT_HOUR = time(6, 0)
REPORT_WORKING_DAY = 3
#: When a new month is reported, the months before it are checked again for late events this far
#: back (a new version where figures changed). Retention keeps contact-level rows longer than
#: this, or a recheck would re-version a month whose contacts were purged.
RECHECK_MONTHS = 12

#: The survey questions, the channels, the filter question and SKR's four headline figures
#: ((key, channel, question), in SKR's order): read from the figure catalogue, the one table.
QUESTIONS = QUESTION_KEYS
HEADLINE = tuple((h.key, h.channel, h.question) for h in HEADLINES)

#: (section, figure, what it is, denominator) for every figure: the spreadsheet's Definitions
#: sheet and the API documentation. docs/metrics.md has the full text and a worked example.
FIGURE_DEFINITIONS: list[tuple[str, str, str, str]] = [
    ("phone", "offered", "Calls started in the period (local date of call.queued)", ""),
    ("phone", "answered", "Offered calls with a call.answered event", ""),
    ("phone", "abandoned", "offered - answered", ""),
    ("phone", "direct_answers", "Calls whose call.ended said direct_answer=true", ""),
    ("phone", "direct_answer_rate", "100 x direct_answers / offered (KKiK)", "offered"),
    ("phone", "abandon_rate", "100 x abandoned / offered", "offered"),
    ("phone", "service_level", "100 x calls answered within the threshold / offered", "offered"),
    ("phone", "service_level_seconds", "The organisation's service-level threshold (s)", ""),
    ("phone", "wait_seconds.mean", "Mean of answered_at - queued_at, real seconds", "answered"),
    ("phone", "wait_seconds.median", "Median wait, linear interpolation", "answered"),
    ("phone", "wait_seconds.p90", "90th percentile wait, linear interpolation", "answered"),
    (
        "phone",
        "survey_response_rate",
        "100 x answered calls with a survey response / answered",
        "answered",
    ),
    ("email", "received", "E-mail threads started in the period (email.received)", ""),
    ("email", "answered", "Received e-mails with an email.replied after receipt", ""),
    (
        "email",
        "within_1_working_day",
        "100 x e-mails answered within 24 working hours / received (unanswered: not within)",
        "received",
    ),
    (
        "email",
        "within_2_working_days",
        "100 x e-mails answered within 48 working hours / received",
        "received",
    ),
    (
        "email",
        "median_working_hours",
        "Median working time to the answer; working days count 24 h, other days nothing",
        "answered",
    ),
    (
        "email",
        "survey_response_rate",
        "100 x answered e-mails with a survey response / answered",
        "answered",
    ),
    ("survey", "<question>.responses", "Responses to the question about the period's contacts", ""),
    (
        "survey",
        "<question>.index",
        "Mean of (score - 1) x 25: 5=100, 4=75, 3=50, 2=25, 1=0",
        "responses",
    ),
    ("survey", "<question>.good_share", "100 x scores of 4 or 5 / responses", "responses"),
    (
        "survey_headline",
        "<figure>.index",
        "SKR headline figure (phone_ease, phone_treatment, email_ease, email_clarity): index",
        "responses",
    ),
    (
        "survey_headline",
        "<figure>.ci95",
        "95 % t-interval of the index (mean +- t(0.975, n-1) s / sqrt n), cut to 0-100",
        "responses",
    ),
    (
        "survey_headline",
        "<figure>.small_sample",
        "true when fewer than 30 responses",
        "",
    ),
    (
        "survey_headline",
        "<figure>.response_rate",
        "100 x answered contacts of the channel with a response / answered contacts",
        "answered",
    ),
    (
        "survey_headline",
        "email_got_answer.yes_share",
        "100 x 'yes' to 'did you get an answer?' / answers to it (the others are not scored)",
        "responses",
    ),
]
