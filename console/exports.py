"""CSV exports for analysts: duplicate flags, the review queues, their decisions and the
audit trail, for a period.

Each export needs its own permission, writes an audit record, refuses a period with more
than EXPORT_MAX_ROWS rows (a truncated file would be mistaken for the whole), neutralises
cells a spreadsheet would run as a formula, and withholds members' personal data (free
text they wrote, addresses and e-mails in the audit trail) from roles without
`members.personal_data`.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from authentication.models import AuthenticationRequest, ReviewDecision
from disputes.models import CaseDecision, DisputeCase
from foundation import clock
from foundation.audit.models import AuditEvent
from foundation.audit.services import record
from foundation.errors import PermissionDenied, ValidationFailed
from foundation.staff.models import StaffUser
from foundation.staff.permissions import Permission
from vision.models import DuplicateFlag

# A spreadsheet treats a cell starting with one of these as a formula (OWASP's list).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
WITHHELD = "[withheld]"


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], Any]
    personal: bool = False


@dataclass(frozen=True)
class Export:
    name: str
    title: str
    permission: Permission
    model: type
    timestamp: Any
    columns: Sequence[Column]


def _attr(name: str) -> Callable[[Any], Any]:
    return lambda row: getattr(row, name)


def _plain(*names: str) -> list[Column]:
    return [Column(name, _attr(name)) for name in names]


def _json(name: str) -> Callable[[Any], Any]:
    return lambda row: None if getattr(row, name) is None else json.dumps(
        getattr(row, name), sort_keys=True, default=str, ensure_ascii=False)


EXPORTS: dict[str, Export] = {export.name: export for export in (
    Export("duplicate_flags", "Duplicate flags", Permission.VISION_VIEW, DuplicateFlag,
           DuplicateFlag.created_at, _plain(
               "id", "created_at", "kind", "status", "listing_id", "photo_id",
               "matched_listing_id", "matched_photo_id", "group_id", "score", "reviewed_by",
               "reviewed_at", "review_note")),
    Export("authentication_queue", "Authentication requests", Permission.AUTHENTICATION_METRICS,
           AuthenticationRequest, AuthenticationRequest.created_at, _plain(
               "id", "created_at", "listing_id", "seller_id", "reason", "price_paise",
               "brand", "category", "state", "priority", "risk_score", "sla_due_at",
               "sla_breached_at", "first_reviewer_id", "first_verdict",
               "second_reviewer_id", "second_verdict", "closed_at")),
    Export("authentication_decisions", "Authentication decisions",
           Permission.AUTHENTICATION_METRICS, ReviewDecision, ReviewDecision.created_at,
           [*_plain("id", "created_at", "request_id", "reviewer_id", "stage", "verdict",
                    "reason_code", "note"), Column("checklist", _json("checklist"))]),
    Export("dispute_cases", "Dispute cases", Permission.DISPUTES_METRICS, DisputeCase,
           DisputeCase.opened_at, [
               *_plain("id", "opened_at", "order_id", "buyer_id", "seller_id", "listing_id",
                       "reason", "state", "amount_paise", "outcome", "refund_paise",
                       "decided_by", "sla_due_at", "sla_breached_at", "closed_at"),
               Column("description", _attr("description"), personal=True)]),
    Export("dispute_decisions", "Dispute decisions", Permission.DISPUTES_METRICS, CaseDecision,
           CaseDecision.created_at, _plain(
               "id", "created_at", "case_id", "staff_id", "outcome", "refund_paise",
               "reason_code", "note", "status", "approver_id", "approved_at")),
    Export("audit_trail", "Audit trail", Permission.AUDIT_EXPORT, AuditEvent,
           AuditEvent.occurred_at, [
               *_plain("id", "occurred_at", "actor_id", "action", "object_type", "object_id",
                       "request_id", "job_id"),
               Column("actor_label", _attr("actor_label"), personal=True),
               Column("before", _json("before"), personal=True),
               Column("after", _json("after"), personal=True),
               Column("ip", _attr("ip"), personal=True),
               Column("user_agent", _attr("user_agent"), personal=True)]),
)}


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    @classmethod
    def parse(cls, start: str | None, end: str | None) -> Period:
        today = clock.now().date()
        try:
            last = date.fromisoformat(end) if end else today
            first = date.fromisoformat(start) if start else last - timedelta(days=30)
        except ValueError:
            raise ValidationFailed("Dates are YYYY-MM-DD.", fields={"from": "YYYY-MM-DD"}) \
                from None
        if first > last:
            raise ValidationFailed("The period ends before it starts.",
                                   fields={"from": "on or before 'to'"})
        return cls(first, last)

    def bounds(self) -> tuple[datetime, datetime]:
        tz = clock.now().tzinfo
        return (datetime.combine(self.start, time.min, tz),
                datetime.combine(self.end + timedelta(days=1), time.min, tz))


def available_to(staff: StaffUser) -> list[Export]:
    return [export for export in EXPORTS.values() if staff.can(export.permission)]


def safe_cell(value: Any) -> Any:
    """The value as a spreadsheet should show it: text that would start a formula is
    prefixed with a quote, so it is shown, never evaluated."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def export_csv(s: Session, staff: StaffUser, name: str, period: Period,
               max_rows: int) -> tuple[str, int]:
    """The export's CSV text for the period and its row count; audited."""
    export = EXPORTS[name]
    if not staff.can(export.permission):
        raise PermissionDenied(f"Your role lacks the {export.permission.value} permission.")
    start, end = period.bounds()
    in_period = (export.timestamp >= start, export.timestamp < end)
    count = s.scalar(select(func.count()).select_from(export.model).where(*in_period))
    if count > max_rows:
        raise ValidationFailed(
            f"{count} rows in this period, more than the {max_rows} one export may hold; "
            "choose a shorter period.", code="export_too_large")
    personal = staff.can(Permission.MEMBERS_PERSONAL_DATA)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([column.header for column in export.columns])
    rows = s.scalars(select(export.model).where(*in_period).order_by(export.timestamp,
                                                                     export.model.id))
    for row in rows:
        writer.writerow([safe_cell(column.value(row)) if personal or not column.personal
                         else WITHHELD for column in export.columns])
    record(s, staff, "export.csv", "export", name,
           after={"from": period.start.isoformat(), "to": period.end.isoformat(),
                  "rows": count, "personal_data": personal})
    return out.getvalue(), count
