"""Opaque keyset cursors: base64 of a JSON list of typed values.

Every social list pages by a key that ends in a unique id, so a page boundary never
skips or repeats a row, however many rows arrive between two requests.
"""
from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from foundation.errors import ValidationFailed


def encode(*values: Any) -> str:
    plain = [v.astimezone(UTC).isoformat() if isinstance(v, datetime) else v for v in values]
    raw = json.dumps(plain).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, *kinds: type) -> tuple[Any, ...]:
    """The cursor's values, checked against `kinds` (int or datetime), or a 422."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(kinds):
            raise ValueError
        return tuple(_typed(value, kind) for value, kind in zip(values, kinds, strict=True))
    except (ValueError, TypeError, OverflowError):
        raise ValidationFailed("That page cursor is not valid; start from the first page.",
                               fields={"cursor": "invalid"}) from None


def _typed(value: Any, kind: type) -> Any:
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**63:
            raise ValueError
        return value
    if kind is datetime:
        if not isinstance(value, str):
            raise ValueError
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            raise ValueError
        return moment.astimezone(UTC)
    raise TypeError(kind)
