"""The Month page marks a comparison whose month has data for part of it, and the running
month (docs/metrics.md, "Coverage")."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import time_machine

from tests.reports.test_coverage import _year_of_calls


def test_the_month_page_marks_the_partial_comparison_and_the_running_month(
    client, db, org, signed_in
):
    _year_of_calls(db, org)
    db.commit()
    with time_machine.travel(datetime(2026, 11, 4, 12, tzinfo=ZoneInfo("Europe/Stockholm"))):
        signed_in(org, "quality")
        october = client.get("/month?month=2026-10").get_data(as_text=True)
        november = client.get("/month?month=2026-11").get_data(as_text=True)
    assert "Oktober 2025: data bara från 15 oktober till 31 oktober (del av månaden)." in october
    assert '<sup class="partial"' in october
    assert "okt. 25 *" in october  # the trend's label, explained in its caption
    assert "* = bara en del av månaden" in october
    assert "November 2026 pågår: data till och med 4 november." in november
