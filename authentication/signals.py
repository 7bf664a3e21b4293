"""Risk signals that packages above authentication add to what reviewers see.

Vision builds on authentication (it learns from verdicts and raises risk scores), so
authentication must not import vision. Instead the composition root (console.composition)
registers each package's provider here, and the workspace and the staff API show whatever
the providers return for the listing under review: plain JSON-ready dicts, keyed by the
signal's name.
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

Provider = Callable[[Session, int], list[dict]]

_PROVIDERS: dict[str, Provider] = {}


def provide(name: str, fn: Provider) -> None:
    """Register `fn(s, listing_id) -> [dict, ...]` as the signal `name` (again: no change)."""
    if _PROVIDERS.get(name, fn) is not fn:
        raise ValueError(f"listing signal {name!r} is provided twice")
    _PROVIDERS[name] = fn


def for_listing(s: Session, listing_id: int) -> dict[str, list[dict]]:
    """Every registered signal for this listing (an empty list where there is none)."""
    return {name: fn(s, listing_id) for name, fn in sorted(_PROVIDERS.items())}
