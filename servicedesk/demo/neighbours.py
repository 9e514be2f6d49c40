"""The demo's neighbouring municipalities: made-up names, smaller and each a little better or
worse at something, all sharing their figures, so the Comparison page has something to show."""

from __future__ import annotations

from dataclasses import dataclass

from servicedesk.demo.traffic import DemoShape


@dataclass(frozen=True)
class Neighbour:
    slug: str
    name: str
    #: SKR's municipality group (made up for the demo), "" for none.
    group: str
    anonymous: bool
    shape: DemoShape


def _shape(calls: int, emails: int, direct: float, same_day: float, mood: float) -> DemoShape:
    return DemoShape(
        calls_per_day=calls,
        emails_per_day=emails,
        direct_shift=direct,
        same_day_shift=same_day,
        mood_shift=mood,
    )


#: Per country: (slug, name, group, anonymous, calls a day, e-mails a day, and how much better
#: or worse at direct answers, same-day e-mail answers and the citizens' grades).
NEIGHBOURS = {
    "SE": [
        Neighbour("grannby", "Grannby kommun", "B5", False, _shape(60, 18, 0.12, 0.10, 0.10)),
        Neighbour("sjovik", "Sjöviks kommun", "B5", False, _shape(45, 14, -0.08, 0.20, -0.05)),
        Neighbour("bergsaker", "Bergsåkers kommun", "C8", True, _shape(30, 9, 0.03, -0.15, 0.2)),
        Neighbour("ekeberga", "Ekeberga kommun", "B6", False, _shape(50, 15, -0.15, -0.05, -0.2)),
        Neighbour("norrmyra", "Norrmyra kommun", "C8", False, _shape(35, 10, 0.20, 0.05, 0.0)),
    ],
    "NO": [
        Neighbour("grannvik", "Grannvik kommune", "", False, _shape(60, 18, 0.12, 0.10, 0.10)),
        Neighbour("sjovik", "Sjøvik kommune", "", False, _shape(45, 14, -0.08, 0.20, -0.05)),
        Neighbour("bergset", "Bergset kommune", "", True, _shape(30, 9, 0.03, -0.15, 0.2)),
        Neighbour("eikeberg", "Eikeberg kommune", "", False, _shape(50, 15, -0.15, -0.05, -0.2)),
        Neighbour("nordmyra", "Nordmyra kommune", "", False, _shape(35, 10, 0.20, 0.05, 0.0)),
    ],
}
