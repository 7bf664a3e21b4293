"""Signals that packages higher in the layers add to what a lower package's staff see.

A package low in the layers (authentication, disputes) must not import the packages built
on it (vision, trust), yet its reviewers should see what those compute about the listing
or case in front of them.  Each such package keeps a `Signals` registry; the composition
root (console.composition) registers the providers, and the workspace and the staff API
show whatever the providers return for the subject: plain JSON-ready dicts, keyed by the
signal's name.
"""
from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

Provider = Callable[[Session, int], list[dict]]


class Signals:
    """The providers of one kind of subject (a listing under review, a dispute case)."""

    def __init__(self, subject: str):
        self._subject = subject
        self._providers: dict[str, Provider] = {}

    def provide(self, name: str, fn: Provider) -> None:
        """Register `fn(s, subject_id) -> [dict, ...]` as the signal `name` (again: no
        change)."""
        if self._providers.get(name, fn) is not fn:
            raise ValueError(f"{self._subject} signal {name!r} is provided twice")
        self._providers[name] = fn

    def of(self, s: Session, subject_id: int) -> dict[str, list[dict]]:
        """Every registered signal for this subject (an empty list where there is none)."""
        return {name: fn(s, subject_id) for name, fn in sorted(self._providers.items())}
