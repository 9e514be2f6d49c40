"""The version of the metric definitions every report carries (docs/metrics.md)."""

#: Changes whenever a rule in docs/metrics.md changes; figures are comparable within one version.
DEFINITIONS_VERSION = "servicedesk-metrics/2026.1"

#: Working-time limits of the e-mail figures, in seconds (a working day counts 24 hours).
ONE_WORKING_DAY = 86_400
TWO_WORKING_DAYS = 2 * ONE_WORKING_DAY

#: The survey questions and the channel(s) each is asked about.
QUESTIONS = ("treatment", "ease", "clarity")
CHANNELS = ("phone", "email")
