"""A digest of every row of every table: equal digests before and after a request mean the
request changed nothing in the database."""
from __future__ import annotations

import hashlib

from sqlalchemy import select

from foundation import db
from foundation.model_registry import load_all_models


def database_digest() -> dict[str, str]:
    """Per table: its row count and a hash of all its rows in primary-key order."""
    digests = {}
    with db.unit_of_work() as s:
        for table in load_all_models().sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows = s.execute(select(table).order_by(*order)).all()
            content = hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()
            digests[table.name] = f"{len(rows)} rows, {content[:16]}"
    return digests
