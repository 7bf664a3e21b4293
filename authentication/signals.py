"""Risk signals that packages above authentication add to what reviewers see.

Vision builds on authentication (it learns from verdicts and raises risk scores), so
authentication must not import vision. Instead the composition root (console.composition)
registers each package's provider here (`foundation.signals`), and the workspace and the
staff API show whatever the providers return for the listing under review.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from foundation.signals import Provider, Signals

__all__ = ["Provider", "for_listing", "provide"]

_LISTING = Signals("listing")
provide = _LISTING.provide


def for_listing(s: Session, listing_id: int) -> dict[str, list[dict]]:
    """Every registered signal for this listing (an empty list where there is none)."""
    return _LISTING.of(s, listing_id)
