"""Rows read straight from the database in a fresh session, so that a test sees what was
committed and nothing its own session still holds."""
from __future__ import annotations

from sqlalchemy import func, select

from foundation import db


def count(model, *conditions) -> int:
    db.session.remove()
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(model).where(*conditions)) or 0


def row(model, key):
    db.session.remove()
    with db.unit_of_work() as s:
        found = s.get(model, key)
        if found is not None:
            s.expunge(found)
        return found
