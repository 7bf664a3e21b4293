"""The support staff's disputes API through real HTTP: claims and leases, decisions and
their money (a refund with a return driven through the APIs and the carrier), one refund
per idempotency key, four eyes on large refunds, notes, the queue and the case view;
every refusal is a 4xx JSON error that changes nothing."""
from __future__ import annotations

from datetime import timedelta

import cv2
import numpy as np
import pytest
from sqlalchemy import func, select

from disputes.models import CaseDecision
from foundation import clock, db
from foundation.audit.models import AuditEvent
from tests.builders.cases import (
    DELIVERED,
    delivered_order,
    open_case,
    seller_responds,
    sold_and_delivered,
)
from tests.builders.members import headers_for
from tests.builders.orders import SHIPPING, TOTAL, assert_books_sound, money
from tests.builders.photos import photo_parts
from tests.disputes.support import (
    StaffApi,
    assert_api_error,
    case_money_moves,
    case_row,
    post_form,
    respond,
    state_of,
)

INSIDE = DELIVERED + timedelta(days=1)
LARGE = 3_000_000           # Rs 30,000: above the Rs 25,000 a support lead must approve


def answered_case(price: int | None = None, **kwargs):
    """A delivered order whose case the seller answered: it waits in the review queue."""
    order = sold_and_delivered(price, **kwargs) if price else delivered_order()
    clock.freeze(INSIDE)
    case_id = open_case(order)
    seller_responds(order, case_id)
    return order, case_id


def decisions_count(case_id: int) -> int:
    with db.unit_of_work() as s:
        return s.scalar(select(func.count(CaseDecision.id))
                        .where(CaseDecision.case_id == case_id))


def audit_actions(case_id: int) -> list[str]:
    with db.unit_of_work() as s:
        return list(s.scalars(select(AuditEvent.action).where(
            AuditEvent.object_type == "dispute_case", AuditEvent.object_id == str(case_id))
            .order_by(AuditEvent.id)))


def jpeg_from(response) -> np.ndarray:
    assert response.status_code == 200, response.data
    assert response.mimetype == "image/jpeg"
    image = cv2.imdecode(np.frombuffer(response.data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


# --- claims and leases --------------------------------------------------------------------

def test_claim_extend_release(client, staff):
    agent = StaffApi(client, staff, "support_agent")
    assert agent.claim().status_code == 204          # nothing to claim yet
    order, case_id = answered_case()

    claim = agent.claimed()
    assert claim["case"]["id"] == case_id
    assert (claim["case"]["state"], claim["case"]["claimed_by"]) == ("claimed", agent.id)
    assert claim["case"]["sla_seconds_left"] == 48 * 3600
    assert claim["lease_token"] and claim["lease_expires_at"] == \
        (INSIDE + timedelta(minutes=20)).isoformat()
    assert "lease_token" not in claim["case"]
    assert_api_error(agent.claim(), 409, "claim_limit")

    clock.freeze(INSIDE + timedelta(minutes=5))
    extended = agent.post(case_id, "extend", lease_token=claim["lease_token"])
    assert extended.status_code == 200, extended.json
    assert extended.json["lease_expires_at"] == \
        (INSIDE + timedelta(minutes=25)).isoformat()

    released = agent.post(case_id, "release", lease_token=claim["lease_token"])
    assert released.status_code == 200, released.json
    assert (released.json["case"]["state"], released.json["case"]["claimed_by"]) == \
        ("under_review", None)
    assert_api_error(agent.post(case_id, "release", lease_token=claim["lease_token"]),
                     409, "stale_lease")
    assert audit_actions(case_id) == ["disputes.claim", "disputes.extend", "disputes.release"]


def test_claim_and_lease_refusals(client, staff):
    order, case_id = answered_case()
    agent = StaffApi(client, staff, "support_agent")
    assert_api_error(agent.claim("approval"), 403, "wrong_role")
    assert_api_error(agent.claim("everything"), 422, "validation_failed")
    response = client.post(f"{StaffApi.BASE}/claim", data="queue=review",
                           headers=agent.headers, content_type="text/plain")
    assert_api_error(response, 400, "unsupported_media_type")
    authenticator = StaffApi(client, staff, "authenticator")
    assert_api_error(authenticator.claim(), 403, "forbidden")
    assert_api_error(client.post(f"{StaffApi.BASE}/claim", json={}), 401, "not_authenticated")
    # A member's token is not a staff token.
    assert_api_error(client.post(f"{StaffApi.BASE}/claim", json={},
                                 headers=headers_for(order.buyer_id)), 401, "not_authenticated")
    assert state_of(case_id) == "under_review"

    claim = agent.claimed()
    other = StaffApi(client, staff, "support_agent")
    assert_api_error(other.post(case_id, "extend", lease_token=claim["lease_token"]),
                     409, "stale_lease")
    assert_api_error(agent.post(case_id, "extend", lease_token="not-the-token"),
                     409, "stale_lease")
    assert_api_error(agent.post(case_id, "extend"), 422, "validation_failed")
    assert_api_error(agent.post(case_id + 100, "extend", lease_token=claim["lease_token"]),
                     404, "case_not_found")
    assert case_row(case_id).claimed_by == agent.id


# --- decisions and their money ------------------------------------------------------------

@pytest.mark.parametrize("outcome, reason, extra, state, refunded", [
    ("refund_without_return", "missing_item", {}, "closed_refunded", TOTAL),
    ("release_to_seller", "as_described", {}, "closed_released", 0),
    ("split", "minor_damage", {"refund_paise": 50_000}, "closed_split", 50_000),
])
def test_a_decision_closes_the_case_and_moves_exactly_the_held_money(
        client, staff, outcome, reason, extra, state, refunded):
    order, case_id = answered_case()
    agent = StaffApi(client, staff, "support_agent")
    response = agent.decide(agent.claimed(), outcome, reason, note="Photos are clear.", **extra)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["replayed"] is False
    assert (body["decision"]["outcome"], body["decision"]["status"],
            body["decision"]["reason"], body["decision"]["staff_id"]) == \
        (outcome, "applied", reason, agent.id)
    assert (body["case"]["state"], body["case"]["claimed_by"]) == (state, None)
    after = money(order.order_id)
    assert (after["held_paise"], after["refunded_paise"]) == (0, refunded)
    assert "disputes.decision" in audit_actions(case_id)
    # Both parties see the decision's note.
    seen = client.get(f"/api/v1/cases/{case_id}", headers=headers_for(order.buyer_id)).json
    assert seen["case"]["messages"][-1]["kind"] == "decision"
    assert_books_sound()


def test_refund_with_return_through_the_apis_and_the_carrier(client, staff, app):
    order, case_id = answered_case()
    agent = StaffApi(client, staff, "support_agent")
    response = agent.decide(agent.claimed(), "refund_with_return", "damage_confirmed")
    assert response.status_code == 200, response.json
    assert response.json["case"]["state"] == "awaiting_return"
    assert money(order.order_id)["held_paise"] == TOTAL       # nothing moves yet

    # The buyer has a prepaid return label, through the shipping API too.
    buyer = headers_for(order.buyer_id)
    parcel = client.get(f"/api/v1/cases/{case_id}", headers=buyer).json["case"]["return_parcel"]
    assert parcel["status"] == "label_created"
    shipment = client.get(parcel["tracking_url"], headers=buyer)
    assert shipment.status_code == 200, shipment.json
    assert shipment.json["shipment"]["tracking_number"] == parcel["tracking_number"]

    cli = app.test_cli_runner()
    result = cli.invoke(args=["carrier", "advance", str(order.order_id), "--to", "in_transit",
                              "--return"])
    assert result.exit_code == 0, result.output
    assert state_of(case_id) == "return_in_transit"
    assert_api_error(client.post(f"/api/v1/cases/{case_id}/withdraw", headers=buyer),
                     409, "return_in_progress")
    result = cli.invoke(args=["carrier", "advance", str(order.order_id), "--to", "delivered",
                              "--return"])
    assert result.exit_code == 0, result.output
    assert state_of(case_id) == "awaiting_inspection"

    inspected = post_form(client, f"/api/v1/cases/{case_id}/inspection",
                          headers_for(order.seller_id), {"accept": "true",
                                                         "body": "Back as sent."})
    assert inspected.status_code == 200, inspected.json
    assert inspected.json["case"]["state"] == "closed_refunded"
    assert money(order.order_id)["refunded_paise"] == TOTAL
    assert case_money_moves(order.order_id) == {"refund": 1}
    timeline = agent.get(f"/{case_id}").json["timeline"]
    assert {"return", "ledger", "case", "order", "shipment"} <= {t["source"] for t in timeline}
    assert_books_sound()


def test_request_info_waits_for_the_party_and_their_answer_requeues_the_case(client, staff):
    order, case_id = answered_case()
    agent = StaffApi(client, staff, "support_agent")
    claim = agent.claimed()
    assert_api_error(agent.decide(claim, "request_info", "need_buyer_photos",
                                  note="Show the label."), 422, "bad_info_from")
    response = agent.decide(claim, "request_info", "need_buyer_photos", info_from="buyer",
                            note="Please photograph the inside label.")
    assert response.status_code == 200, response.json
    case = response.json["case"]
    assert (case["state"], case["deadlines"]["info_requested_from"]) == ("awaiting_info",
                                                                         "buyer")
    answer = post_form(client, f"/api/v1/cases/{case_id}/responses",
                       headers_for(order.buyer_id),
                       {"body": "Here it is.", "photos": photo_parts()})
    assert answer.status_code == 200, answer.json
    assert answer.json["case"]["state"] == "under_review"
    assert agent.claimed()["case"]["priority"] >= 1      # back at the front of the queue


def test_the_same_decision_twice_refunds_once(client, staff):
    order, case_id = answered_case()
    agent = StaffApi(client, staff, "support_agent")
    claim = agent.claimed()
    first = agent.decide(claim, "refund_without_return", "missing_item", key="once-only")
    again = agent.decide(claim, "refund_without_return", "missing_item", key="once-only")
    assert (first.status_code, again.status_code) == (200, 200)
    assert (first.json["replayed"], again.json["replayed"]) == (False, True)
    assert again.json["decision"] == first.json["decision"]
    assert money(order.order_id)["refunded_paise"] == TOTAL
    assert case_money_moves(order.order_id) == {"refund": 1}
    assert decisions_count(case_id) == 1

    # The same key with other parameters is refused, and changes nothing.
    other = agent.decide(claim, "refund_without_return", "missing_item", key="once-only",
                         note="Something else.")
    assert_api_error(other, 409, "idempotency_key_reused")
    assert_api_error(agent.decide(claim, "release_to_seller", "as_described", key="once-only"),
                     409, "idempotency_key_reused")
    assert decisions_count(case_id) == 1
    assert case_money_moves(order.order_id) == {"refund": 1}
    assert_books_sound()


@pytest.mark.parametrize("changes, status, code", [
    ({"outcome": "refund_everything"}, 422, "bad_outcome"),
    ({"reason": "as_described"}, 422, "bad_reason"),
    ({"outcome": "split", "reason": "minor_damage", "refund_paise": None}, 422, "bad_amount"),
    ({"outcome": "split", "reason": "minor_damage", "refund_paise": TOTAL}, 422, "bad_amount"),
    ({"refund_paise": TOTAL - 1}, 422, "bad_amount"),
    ({"outcome": "release_to_seller", "reason": "as_described", "refund_paise": 100},
     422, "bad_amount"),
    ({"refund_paise": "lots"}, 422, "validation_failed"),
    ({"idempotency_key": ""}, 422, "bad_idempotency_key"),
    ({"idempotency_key": "k" * 101}, 422, "bad_idempotency_key"),
    ({"note": 5}, 422, "validation_failed"),
    ({"verdict": "yes"}, 422, "validation_failed"),
    ({"lease_token": "someone-elses"}, 409, "stale_lease"),
    ({"lease_token": None}, 422, "validation_failed"),
])
def test_a_bad_decision_is_refused_and_changes_nothing(client, staff, changes, status, code):
    order, case_id = answered_case()
    agent = StaffApi(client, staff, "support_agent")
    claim = agent.claimed()
    body = {"outcome": "refund_without_return", "reason": "missing_item", "note": "Checked.",
            "idempotency_key": "bad-1", "lease_token": claim["lease_token"]}
    body.update(changes)
    body = {k: v for k, v in body.items() if v is not None}     # None: leave the field out
    assert_api_error(agent.post(case_id, "decision", **body), status, code)
    assert (state_of(case_id), case_row(case_id).claimed_by) == ("claimed", agent.id)
    assert decisions_count(case_id) == 0
    assert money(order.order_id)["held_paise"] == TOTAL
    assert "disputes.decision" not in audit_actions(case_id)


def test_decisions_need_the_right_role_and_a_live_lease(client, staff):
    order, case_id = answered_case()
    agent = StaffApi(client, staff, "support_agent")
    claim = agent.claimed()
    fraud = StaffApi(client, staff, "fraud_analyst")
    assert_api_error(fraud.decide(claim, "release_to_seller", "as_described"), 403, "forbidden")
    clock.freeze(INSIDE + timedelta(minutes=21))         # the lease lapsed
    assert_api_error(agent.decide(claim, "release_to_seller", "as_described"), 409,
                     "stale_lease")
    assert_api_error(agent.post(case_id, "decision"), 422, "validation_failed")
    response = client.post(f"{StaffApi.BASE}/{case_id}/decision", data="outcome=split",
                           headers=agent.headers, content_type="application/x-www-form-urlencoded")
    assert_api_error(response, 400, "unsupported_media_type")
    assert decisions_count(case_id) == 0
    assert money(order.order_id)["held_paise"] == TOTAL


# --- four eyes on large refunds -----------------------------------------------------------

def large_refund_pending(client, staff, decider_role: str = "support_agent"):
    """A Rs 30,000 sale (authenticated, sold, delivered), its case decided for a full
    refund by `decider_role`: the case waits for a support lead's approval."""
    senior = staff("senior_authenticator")[0]
    order, case_id = answered_case(LARGE, authenticator=senior)
    decider = StaffApi(client, staff, decider_role)
    response = decider.decide(decider.claimed(), "refund_without_return", "missing_item",
                              note="Nothing was in the parcel.")
    assert response.status_code == 200, response.json
    assert response.json["decision"]["status"] == "pending_approval"
    assert response.json["decision"]["refund_paise"] == LARGE + SHIPPING
    assert response.json["case"]["state"] == "awaiting_approval"
    assert money(order.order_id)["held_paise"] == LARGE + SHIPPING     # not yet
    return order, case_id, decider


def test_a_large_refund_waits_for_another_lead_who_approves_it(client, staff):
    order, case_id, agent = large_refund_pending(client, staff)
    assert_api_error(agent.claim("approval"), 403, "wrong_role")
    assert_api_error(agent.post(case_id, "approval", approve=True, note="ok",
                                lease_token="x"), 403, "forbidden")
    lead = StaffApi(client, staff, "support_lead")
    queue = lead.get("/queue", queue="approval").json
    assert [item["id"] for item in queue["items"]] == [case_id]
    claim = lead.claimed("approval")
    assert claim["case"]["id"] == case_id
    assert_api_error(lead.post(case_id, "approval", approve="yes", lease_token=claim[
        "lease_token"]), 422, "validation_failed")

    response = lead.post(case_id, "approval", approve=True, note="Carrier photo confirms.",
                         lease_token=claim["lease_token"])
    assert response.status_code == 200, response.json
    decision = response.json["decision"]
    assert (decision["status"], decision["approver_id"], decision["staff_id"]) == \
        ("approved", lead.id, agent.id)
    assert response.json["case"]["state"] == "closed_refunded"
    assert money(order.order_id)["refunded_paise"] == LARGE + SHIPPING
    assert case_money_moves(order.order_id) == {"refund": 1}
    assert "disputes.approval" in audit_actions(case_id)
    assert_books_sound()


def test_a_lead_who_decided_cannot_approve_their_own_refund(client, staff):
    order, case_id, deciding_lead = large_refund_pending(client, staff, "support_lead")
    assert deciding_lead.claim("approval").status_code == 204     # never offered to them
    assert deciding_lead.get("/queue", queue="approval").json["items"] == []
    other_lead = StaffApi(client, staff, "support_lead")
    claim = other_lead.claimed("approval")
    # The deciding lead cannot use the other lead's claim either.
    assert_api_error(deciding_lead.post(case_id, "approval", approve=True, note="Mine.",
                                        lease_token=claim["lease_token"]), 409, "stale_lease")
    assert money(order.order_id)["held_paise"] == LARGE + SHIPPING
    response = other_lead.post(case_id, "approval", approve=True,
                               lease_token=claim["lease_token"])
    assert response.status_code == 200, response.json
    assert response.json["decision"]["approver_id"] == other_lead.id
    assert money(order.order_id)["refunded_paise"] == LARGE + SHIPPING
    assert_books_sound()


def test_a_lead_refuses_a_large_refund_and_the_case_goes_back_to_the_agents(client, staff):
    order, case_id, agent = large_refund_pending(client, staff)
    lead = StaffApi(client, staff, "support_lead")
    claim = lead.claimed("approval")
    assert_api_error(lead.post(case_id, "approval", approve=False,
                               lease_token=claim["lease_token"]), 422, "bad_text")
    assert state_of(case_id) == "claimed"
    response = lead.post(case_id, "approval", approve=False,
                         note="Ask the carrier for the parcel's weight first.",
                         lease_token=claim["lease_token"])
    assert response.status_code == 200, response.json
    assert response.json["decision"]["status"] == "refused"
    assert response.json["case"]["state"] == "under_review"
    assert money(order.order_id)["held_paise"] == LARGE + SHIPPING
    assert case_money_moves(order.order_id) == {}
    # The agents get it back, at the front, with the lead's note among the staff notes.
    again = agent.claimed()
    assert again["case"]["id"] == case_id and again["case"]["priority"] >= 1
    view = agent.get(f"/{case_id}").json
    assert view["messages"][-1]["kind"] == "staff_note"
    assert [d["status"] for d in view["decisions"]] == ["refused"]


# --- notes, the queue and the case view ---------------------------------------------------

def test_notes_are_audited_and_bad_notes_refused(client, staff):
    order, case_id = answered_case()
    agent = StaffApi(client, staff, "support_agent")
    response = agent.post(case_id, "notes", body="Seller has two earlier cases.")
    assert response.status_code == 201, response.json
    assert (response.json["message"]["kind"], response.json["message"]["author_staff_id"]) \
        == ("staff_note", agent.id)
    assert_api_error(agent.post(case_id, "notes", body="  "), 422, "bad_text")
    assert_api_error(agent.post(case_id, "notes"), 422, "validation_failed")
    assert_api_error(agent.post(case_id + 50, "notes", body="?"), 404, "case_not_found")
    assert_api_error(StaffApi(client, staff, "authenticator").post(case_id, "notes", body="x"),
                     403, "forbidden")
    assert audit_actions(case_id) == ["disputes.note"]


def test_the_queue_counts_states_and_lists_what_the_caller_may_claim(client, staff):
    _, first = answered_case()
    waiting = delivered_order()
    clock.freeze(INSIDE)
    open_case(waiting)                                   # still awaiting the seller
    agent = StaffApi(client, staff, "support_agent")
    queue = agent.get("/queue").json
    assert queue["queue"] == "review"
    assert (queue["counts"]["under_review"], queue["counts"]["awaiting_seller"]) == (1, 1)
    assert [item["id"] for item in queue["items"]] == [first]
    assert queue["items"][0]["title"] == "Banarasi silk saree"
    assert queue["held"] == []
    agent.claimed()
    queue = agent.get("/queue", queue="review").json
    assert [item["id"] for item in queue["held"]] == [first]
    assert_api_error(agent.get("/queue", queue="approval"), 403, "wrong_role")
    assert_api_error(agent.get("/queue", queue="nope"), 404, "queue_not_found")


def test_the_case_view_has_messages_photos_decisions_and_events(client, staff):
    order = sold_and_delivered()
    clock.freeze(INSIDE)
    case_id = open_case(order)
    respond(order.seller_id, case_id, body="Sent in perfect condition.")
    agent = StaffApi(client, staff, "support_agent")
    claim = agent.claimed()
    agent.post(case_id, "notes", body="Checking the listing photos.")
    view = agent.get(f"/{case_id}")
    assert view.status_code == 200, view.json
    body = view.json
    assert body["holds_lease"] is True
    assert body["case"]["claimed_by"] == agent.id
    assert [m["kind"] for m in body["messages"]] == ["opening", "response", "staff_note"]
    assert [e["reason"] for e in body["events"]] == ["opened", "seller_responded", "claimed"]
    assert body["money"]["held_paise"] == TOTAL
    assert body["shipment"]["status"] == "delivered"
    assert body["return_parcel"] is None
    assert (body["buyer"]["id"], body["seller"]["id"]) == (order.buyer_id, order.seller_id)
    # The buyer's photo and the listing's photo as sold, through the staff endpoints.
    photo_url = body["messages"][0]["photos"][0]["url"]
    assert photo_url.startswith(f"{StaffApi.BASE}/{case_id}/photos/")
    jpeg_from(client.get(photo_url, headers=agent.headers))
    [item] = body["items"]
    jpeg_from(client.get(item["photo_urls"][0], headers=agent.headers))
    assert_api_error(client.get(f"{StaffApi.BASE}/{case_id}/items/0/photos/5",
                                headers=agent.headers), 404, "photo_not_found")
    # Members cannot use the staff endpoints, nor staff the members' ones.
    assert_api_error(client.get(photo_url, headers=headers_for(order.buyer_id)),
                     401, "not_authenticated")
    member_photo = photo_url.replace(f"{StaffApi.BASE}/", "/api/v1/cases/")
    assert_api_error(client.get(member_photo, headers=agent.headers), 401, "invalid_token")

    decided = agent.decide(claim, "release_to_seller", "as_described")
    assert decided.status_code == 200, decided.json
    after = agent.get(f"/{case_id}").json
    assert [d["outcome"] for d in after["decisions"]] == ["release_to_seller"]
    assert after["events"][-1]["to"] == "closed_released"
    assert_api_error(agent.get(f"/{case_id + 1}"), 404, "case_not_found")
    assert_api_error(StaffApi(client, staff, "authenticator").get(f"/{case_id}"),
                     403, "forbidden")
