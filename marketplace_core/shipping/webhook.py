"""The carrier's webhook: authenticate a signed tracking event, then record it.

PoshPost signs every request with the secret both sides share
(settings CARRIER_WEBHOOK_SECRET):

    X-PoshPost-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + raw body>

The timestamp is signed with the body, so an old event cannot be replayed under a
fresh time, and a signature older (or newer) than CARRIER_WEBHOOK_TOLERANCE_SECONDS is
refused.  Several v1 values may be sent while a secret is being rotated; one must
match.  Everything is checked before the database is touched, so a refused request
writes nothing.  The view and the simulated carrier's in-process delivery both call
`receive`, so both take exactly this path.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import datetime

from sqlalchemy.orm import Session

from foundation import clock
from foundation.config import current as settings
from foundation.errors import DomainError, NotAuthenticated, PayloadTooLarge, ValidationFailed
from foundation.schema import validate
from marketplace_core.shipping import schemas, tracking
from marketplace_core.shipping.models import CarrierStatus
from marketplace_core.shipping.tracking import CarrierEvent

SIGNATURE_HEADER = "X-PoshPost-Signature"
MAX_BODY_BYTES = 16 * 1024
MAX_HEADER_LENGTH = 1024
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_DIGEST = re.compile(r"[0-9a-f]{64}")


def sign(secret: str, body: bytes, timestamp: int) -> str:
    message = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    return f"t={timestamp},v1={sign(secret, body, timestamp)}"


def parse_signature_header(header: str) -> tuple[int, list[str]]:
    """(timestamp, candidate digests) from "t=...,v1=...[,v1=...]"; other schemes are
    ignored so that the carrier can add one without breaking us."""
    malformed = DomainError(f"{SIGNATURE_HEADER} must look like t=<unix seconds>,v1=<hex>.",
                            code="signature_malformed")
    if len(header) > MAX_HEADER_LENGTH:
        raise malformed
    timestamps, digests = [], []
    for part in header.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            raise malformed
        if key == "t":
            timestamps.append(value)
        elif key == "v1":
            digests.append(value.lower())
    if len(timestamps) != 1 or not _TIMESTAMP.fullmatch(timestamps[0]) or not digests \
            or not all(_DIGEST.fullmatch(d) for d in digests):
        raise malformed
    return int(timestamps[0]), digests


def verify(body: bytes, header: str | None, *, secret: str, now: datetime,
           tolerance_seconds: int) -> None:
    """Raise unless `header` signs exactly `body` with `secret`, recently enough."""
    if not header:
        raise NotAuthenticated(f"Sign the event and send {SIGNATURE_HEADER}.",
                               code="signature_missing")
    timestamp, candidates = parse_signature_header(header)
    expected = sign(secret, body, timestamp)
    if not any(hmac.compare_digest(expected, candidate) for candidate in candidates):
        raise NotAuthenticated("The signature does not match the event.",
                               code="signature_invalid")
    if abs(now.timestamp() - timestamp) > tolerance_seconds:
        raise NotAuthenticated("The signature is too old (or from the future); send the "
                               "event again with a fresh signature.", code="signature_stale")


def parse_event(body: bytes) -> CarrierEvent:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
    if not isinstance(data, dict):
        raise DomainError("The body must be a JSON object.", code="malformed_json")
    data = validate(schemas.CARRIER_EVENT, data)
    return CarrierEvent(event_id=data["id"], tracking_number=data["tracking_number"],
                        status=CarrierStatus(data["status"]),
                        occurred_at=_aware_time(data["occurred_at"]),
                        location=data.get("location", ""),
                        description=data.get("description", ""))


def _aware_time(raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise ValidationFailed("occurred_at must be an ISO 8601 time with a zone.",
                               code="bad_event_time",
                               fields={"occurred_at": "e.g. 2025-01-06T10:00:00+05:30"})
    return moment


def receive(s: Session, body: bytes, header: str | None) -> dict:
    """Authenticate, parse and record one carrier event; the JSON to answer with."""
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"An event is at most {MAX_BODY_BYTES} bytes.")
    config = settings()
    verify(body, header, secret=config.CARRIER_WEBHOOK_SECRET, now=clock.now(),
           tolerance_seconds=config.CARRIER_WEBHOOK_TOLERANCE_SECONDS)
    outcome = tracking.record_carrier_event(s, parse_event(body))
    return {"event_id": outcome.event_id, "duplicate": outcome.duplicate,
            "applied": outcome.applied, "shipment_status": outcome.shipment_status}
