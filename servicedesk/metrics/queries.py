"""The metrics' public functions, in one place for their callers.

The figures are computed by channel (``phone``, ``email``, ``surveys``: each declares its
measures and how they become figures), summed per (queue, day) cell (``cells``), ranked for
percentiles (``percentiles``) and assembled for any grouping (``figures``). The package's
``__init__`` stays empty: the tables import ``metrics.definitions``, which must not pull the
queries (and the tables) in with it.
"""

from servicedesk.metrics.arithmetic import rate, rounded
from servicedesk.metrics.email import empty_email
from servicedesk.metrics.figures import (
    PARTS,
    email_figures,
    empty_figures,
    figures,
    figures_by,
    phone_figures,
    queue_names,
    survey_figures,
)
from servicedesk.metrics.groups import BY
from servicedesk.metrics.phone import empty_phone
from servicedesk.metrics.surveys import empty_headline, empty_survey

__all__ = [
    "BY",
    "PARTS",
    "email_figures",
    "empty_email",
    "empty_figures",
    "empty_headline",
    "empty_phone",
    "empty_survey",
    "figures",
    "figures_by",
    "phone_figures",
    "queue_names",
    "rate",
    "rounded",
    "survey_figures",
]
