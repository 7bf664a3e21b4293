"""What packages above disputes add to what support staff see of a case.

Vision compares the buyer's photos with the listing's as sold, but vision builds on
disputes, so disputes must not import it: the composition root (console.composition)
registers the provider here (`foundation.signals`), and the staff API's case view shows
whatever the providers return for the case.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from foundation.signals import Provider, Signals

__all__ = ["Provider", "for_case", "provide"]

_CASE = Signals("case")
provide = _CASE.provide


def for_case(s: Session, case_id: int) -> dict[str, list[dict]]:
    """Every registered signal for this case (an empty list where there is none)."""
    return _CASE.of(s, case_id)
