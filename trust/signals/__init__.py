"""Seller trust and item risk: computed from every package's signals, stored with history.

`scoring` is pure (counts in, scores out); `services` reads what is stored for the feed and
the console.
"""
from .services import current_weights, load_sellers, load_trust

__all__ = ["current_weights", "load_sellers", "load_trust"]
