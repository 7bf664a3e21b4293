"""Driving dispute cases through the disputes services and APIs, and reading them back in a
fresh session (the delivered orders and cases themselves come from tests.builders.cases)."""
from __future__ import annotations

import contextlib
import dataclasses
import itertools

from sqlalchemy import func, select

from disputes import decisions, evidence, responses
from disputes.evidence import Upload
from disputes.models import CaseEvent, DisputeCase
from foundation import config, db, jobs
from foundation.staff.models import StaffUser
from marketplace_core.ledger.models import LedgerTransaction
from marketplace_core.shipping.models import Direction
from tests.builders.cases import Delivered, as_member
from tests.builders.photos import photo, photo_parts
from tests.builders.shipping import carrier
from tests.builders.staff import QueueStaff

_keys = itertools.count(1)


def decide(staff_id: int, case_id: int, token: str | None, outcome: str, reason: str,
           **extra) -> decisions.DecisionResult:
    body = {"outcome": outcome, "reason": reason, "note": extra.pop("note", "Checked."),
            "idempotency_key": extra.pop("key", f"key-{next(_keys)}"), **extra}
    with db.unit_of_work() as s:
        result = decisions.decide(s, s.get(StaffUser, staff_id), case_id,
                                  decisions.parse_decision(body), token)
        s.flush()
        return result


# --- reading a case back (fresh sessions) ---------------------------------------------------

def case_row(case_id: int) -> DisputeCase:
    s = db.session()
    try:
        case = s.get(DisputeCase, case_id)
        s.expunge(case)
        return case
    finally:
        db.session.remove()


def state_of(case_id: int) -> str:
    return case_row(case_id).state


def case_ids() -> list[int]:
    with db.unit_of_work() as s:
        return list(s.scalars(select(DisputeCase.id).order_by(DisputeCase.id)))


def messages(case_id: int, *, include_staff_notes: bool = True) -> list:
    with db.unit_of_work() as s:
        rows = evidence.messages_of(s, case_id, include_staff_notes=include_staff_notes)
        s.expunge_all()
        return rows


def photos(case_id: int) -> list:
    with db.unit_of_work() as s:
        rows = evidence.photos_of(s, case_id)
        s.expunge_all()
        return rows


def case_events(case_id: int) -> list[tuple[str | None, str, str]]:
    """(from_state, to_state, reason) of every event of the case, in order."""
    with db.unit_of_work() as s:
        return [(e.from_state, e.to_state, e.reason) for e in s.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id))]


def case_money_moves(order_id: int) -> dict[str, int]:
    """How many ledger transactions of each closing kind the order has."""
    with db.unit_of_work() as s:
        rows = s.execute(select(LedgerTransaction.kind, func.count(LedgerTransaction.id))
                         .where(LedgerTransaction.order_id == order_id,
                                LedgerTransaction.kind.in_(CLOSING_KINDS))
                         .group_by(LedgerTransaction.kind)).all()
        return {kind: count for kind, count in rows}


CLOSING_KINDS = ("release", "refund", "split")


# --- driving a case -----------------------------------------------------------------------

def respond(member_id: int, case_id: int, body: str = "Here is more.",
            photos: list[Upload] | None = None) -> str:
    return as_member(responses.respond, member_id, case_id, body=body, photos=photos or [])


def withdraw(order: Delivered, case_id: int) -> str:
    return as_member(responses.withdraw, order.buyer_id, case_id)


def accept_return(order: Delivered, case_id: int) -> str:
    return as_member(responses.accept_return, order.seller_id, case_id)


def inspect(order: Delivered, case_id: int, accept: bool, body: str | None = None,
            photos: list[Upload] | None = None) -> str:
    if not accept and photos is None:
        photos = [photo()]
    return as_member(responses.inspect, order.seller_id, case_id, accept=accept,
                     body=body if body is not None or accept else "Not the item I sent.",
                     photos=photos or [])


def return_scan(order_id: int, to: str) -> None:
    """The carrier scans the buyer's return parcel up to `to` (in_transit, delivered)."""
    carrier().advance(order_id, to, direction=Direction.RETURN)


def approve(lead_id: int, case_id: int, token: str, approve: bool = True,
            note: str | None = None) -> decisions.DecisionResult:
    with db.unit_of_work() as s:
        return decisions.review_approval(s, s.get(StaffUser, lead_id), case_id,
                                         approve=approve, note=note, lease_token=token)


def sweep() -> dict[str, int]:
    """The disputes sweep runs once in the job wrapper (as the beat's worker runs it) and
    the worker then runs the timer jobs it enqueued; returns the sweep's counts."""
    counts = jobs.execute("disputes.tasks.sweep_disputes", [], {})
    jobs.run_pending()
    return counts


def failed_jobs() -> list[str]:
    """The errors of the jobs that failed, for good or on a try RQ will retry (a test that
    runs jobs expects none)."""
    health = jobs.health()
    return [job["error"] for job in health["failed_jobs"] + health["retrying_jobs"]]


@contextlib.contextmanager
def settings_changed(**changes):
    """Run with some settings changed (config.install), restored afterwards."""
    before = config.current()
    config.install(dataclasses.replace(before, **changes))
    try:
        yield
    finally:
        config.install(before)


# --- through the HTTP APIs (test_member_api.py, test_staff_api.py) --------------------------

def case_form(reason: str = "not_as_described",
              description: str = "The saree has a tear along the pallu.", photos: int = 1,
              **extra) -> dict:
    """The multipart fields of POST /api/v1/orders/<id>/cases."""
    form = {"reason": reason, "description": description, **extra}
    if photos:
        form["photos"] = photo_parts(photos)
    return form


def post_form(client, path: str, headers: dict, form: dict):
    return client.post(path, data=form, headers=headers, content_type="multipart/form-data")


class StaffApi(QueueStaff):
    """A staff member on the disputes staff API."""

    BASE = "/api/v1/staff/disputes"

    def get(self, path: str, **query):
        return self.client.get(f"{self.BASE}{path}", query_string=query, headers=self.headers)

    def decide(self, claim: dict, outcome: str, reason: str, **extra):
        body = {"outcome": outcome, "reason": reason, "note": extra.pop("note", "Checked."),
                "idempotency_key": extra.pop("key", f"api-key-{next(_keys)}"),
                "lease_token": claim["lease_token"], **extra}
        return self.post(claim["case"]["id"], "decision", **body)


def assert_api_error(response, status: int, code: str) -> dict:
    """A JSON error with this status and code, and a message that says something."""
    assert response.status_code == status, (response.status_code, response.data)
    error = response.json["error"]
    assert error["code"] == code, error
    assert error["message"].strip(), error
    return error
