"""The console's disputes pages: the queue, the case workspace, decisions, approvals, notes
and the metrics, with the role, CSRF, lease and idempotency checks that keep them honest."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from disputes import metrics
from disputes.models import DECISION_REASONS, CaseDecision, CasePhoto, MessageKind
from foundation import clock, db
from foundation.audit.models import AuditEvent
from marketplace_core.ledger.models import LedgerTransaction
from tests.builders.cases import (
    DELIVERED,
    claim,
    delivered_order_with_photo,
    open_case,
    seller_responds,
)
from tests.builders.orders import TOTAL, assert_books_sound, money
from tests.disputes.support import case_row, decide, messages, settings_changed, state_of
from tests.helpers import page_token, signed_in

QUEUE = "/console/disputes/"
METRICS = "/console/disputes_metrics/"
OPENED = DELIVERED + timedelta(days=1)
SELLER_REPLY = "It left my closet folded, with no tear at all."


# --- helpers --------------------------------------------------------------------------------

def case_for_review(title: str = "Banarasi silk saree", reason: str = "not_as_described"):
    """A delivered order (with a stored listing photo) whose case the seller answered."""
    order = delivered_order_with_photo(title=title)
    clock.freeze(OPENED)
    case_id = open_case(order, reason=reason)
    seller_responds(order, case_id, SELLER_REPLY)
    return order, case_id


def claim_from_console(client, queue: str = "review"):
    return client.post(f"{QUEUE}claim", data={"csrf_token": page_token(client, QUEUE),
                                              "queue": queue})


def claimed_workspace(client) -> str:
    response = claim_from_console(client)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client.get(response.headers["Location"]).get_data(as_text=True)


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]+)"', html).group(1)


def decision_fields(html: str, outcome: str, reason: str, **fields) -> dict:
    return {"csrf_token": hidden(html, "csrf_token"), "lease_token": hidden(html, "lease_token"),
            "idempotency_key": hidden(html, "idempotency_key"), "outcome": outcome,
            "reason": reason, "note": fields.pop("note", "Checked both sides."), **fields}


def decision_count() -> int:
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(CaseDecision))


def audit_rows(action: str) -> list[tuple[int | None, str | None, dict | None]]:
    with db.unit_of_work() as s:
        return [(row.actor_id, row.object_id, row.after) for row in s.scalars(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))]


def refund_transactions(order_id: int) -> int:
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(LedgerTransaction).where(
            LedgerTransaction.order_id == order_id,
            LedgerTransaction.kind.in_(("refund", "split"))))


def buyer_photo_id(case_id: int) -> int:
    with db.unit_of_work() as s:
        return s.scalar(select(CasePhoto.id).where(CasePhoto.case_id == case_id,
                                                   CasePhoto.party == "buyer"))


def staff_notes(case_id: int) -> list[str]:
    return [m.body for m in messages(case_id) if m.kind == MessageKind.STAFF_NOTE]


# --- who may see and do what ----------------------------------------------------------------

def test_anonymous_visitors_are_sent_to_sign_in(client, app):
    _, case_id = case_for_review()
    for path in (QUEUE, f"{QUEUE}{case_id}", METRICS):
        response = client.get(path)
        assert response.status_code == 302, path
        assert "/console/auth/sign-in" in response.headers["Location"]
    token = page_token(client, "/console/auth/sign-in")
    response = client.post(f"{QUEUE}claim", data={"csrf_token": token, "queue": "review"})
    assert "/console/auth/sign-in" in response.headers["Location"]
    assert state_of(case_id) == "under_review"


def test_an_authenticator_sees_no_disputes_page_and_can_do_nothing(client, staff):
    _, case_id = case_for_review()
    photo_id = buyer_photo_id(case_id)
    signed_in(client, staff, "authenticator")
    for path in (QUEUE, f"{QUEUE}{case_id}", f"{QUEUE}{case_id}/photos/{photo_id}",
                 f"{QUEUE}{case_id}/sold/0/0", METRICS):
        assert client.get(path).status_code == 403, path
    token = page_token(client, "/console/")
    for action in ("claim", f"{case_id}/extend", f"{case_id}/release", f"{case_id}/decide",
                   f"{case_id}/approval", f"{case_id}/notes"):
        response = client.post(f"{QUEUE}{action}", data={
            "csrf_token": token, "queue": "review", "lease_token": "x", "body": "a note",
            "outcome": "release_to_seller", "reason": "as_described", "idempotency_key": "k"})
        assert response.status_code == 403, action
    assert state_of(case_id) == "under_review"
    assert staff_notes(case_id) == [] and decision_count() == 0
    assert 'href="/console/disputes/"' not in client.get("/console/").get_data(as_text=True)


def test_an_agent_works_the_review_queue_only(client, staff):
    case_for_review()
    signed_in(client, staff, "support_agent")
    page = client.get(QUEUE).get_data(as_text=True)
    assert 'data-testid="claim-review"' in page
    assert 'data-testid="claim-approval"' not in page
    assert claim_from_console(client, "approval").status_code == 403
    assert client.get(METRICS).status_code == 403


def test_leads_see_both_queues_and_analysts_only_the_metrics(client, app, staff):
    signed_in(client, staff, "support_lead")
    page = client.get(QUEUE).get_data(as_text=True)
    assert 'data-testid="claim-review"' in page and 'data-testid="claim-approval"' in page
    assert client.get(METRICS).status_code == 200
    analyst = app.test_client()
    signed_in(analyst, staff, "fraud_analyst")
    assert analyst.get(METRICS).status_code == 200
    assert analyst.get(QUEUE).status_code == 403


def test_posts_without_a_csrf_token_are_refused_and_change_nothing(client, staff):
    order, case_id = case_for_review()
    signed_in(client, staff, "support_agent")
    assert client.post(f"{QUEUE}claim", data={"queue": "review"}).status_code == 400
    assert state_of(case_id) == "under_review"
    html = claimed_workspace(client)
    fields = decision_fields(html, "refund_without_return", "missing_item")
    del fields["csrf_token"]
    assert client.post(f"{QUEUE}{case_id}/decide", data=fields).status_code == 400
    assert client.post(f"{QUEUE}{case_id}/notes", data={"body": "a note"}).status_code == 400
    assert client.post(f"{QUEUE}{case_id}/release",
                       data={"lease_token": fields["lease_token"]}).status_code == 400
    assert state_of(case_id) == "claimed"
    assert decision_count() == 0 and staff_notes(case_id) == []
    assert money(order.order_id)["held_paise"] == TOTAL


# --- the queue page and the workspace -------------------------------------------------------

def test_the_queue_lists_cases_in_claim_order_with_the_time_left(client, staff):
    case_for_review(title="Kanjivaram silk, temple border")
    signed_in(client, staff, "support_agent")
    page = client.get(QUEUE).get_data(as_text=True)
    review = page.split('data-testid="queue-review"')[1]
    assert "Kanjivaram silk, temple border" in review
    assert "Rs 1,579.00" in review and "not as described" in review
    assert "48h 00m" in review  # the decision clock started when the seller answered
    assert re.search(r'<span class="auth-count-n">1</span> under review', page)


def test_claim_next_opens_the_workspace_with_both_sides_and_one_timeline(client, staff):
    order, case_id = case_for_review(title="Chanderi cotton kurta")
    signed_in(client, staff, "support_agent")
    response = claim_from_console(client)
    assert response.headers["Location"].endswith(f"{QUEUE}{case_id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)

    sold = page.split('data-testid="as-sold"')[1].split('data-testid="buyer-evidence"')[0]
    assert "Chanderi cotton kurta" in sold and "like new" in sold
    assert f"{QUEUE}{case_id}/sold/0/0" in sold
    buyer = page.split('data-testid="buyer-evidence"')[1].split('data-testid="seller-evidence"')[0]
    assert "The saree has a tear along the pallu." in buyer
    assert f"{QUEUE}{case_id}/photos/{buyer_photo_id(case_id)}" in buyer
    assert SELLER_REPLY in page.split('data-testid="seller-evidence"')[1]
    assert 'data-testid="similarity-off"' in page  # the suite runs without the pipeline

    timeline = page.split('data-testid="timeline"')[1].split("</table>")[0]
    for step in ("opened", "seller responded", "claimed", "ledger capture", "delivered"):
        assert step in timeline, step
    history = page.split('data-testid="history"')[1].split("</table>")[0]
    assert "1 order(s) bought" in history and "0 other case(s)" in history
    form = page.split('data-testid="decision-form"')[1]
    for outcome, codes in DECISION_REASONS.items():
        assert f'value="{outcome}"' in form
        for code in codes:
            assert f'<option value="{code}"' in form
    assert 'name="idempotency_key" value="console-' in form
    assert "Your claim ends in" in page
    my_cases = client.get(QUEUE).get_data(as_text=True).split('data-testid="my-cases"')[1]
    assert "Chanderi cotton kurta" in my_cases
    assert money(order.order_id)["held_paise"] == TOTAL


def test_the_workspace_serves_the_listing_and_buyer_photos_as_jpeg(client, staff):
    _, case_id = case_for_review()
    signed_in(client, staff, "support_agent")
    for path in (f"{QUEUE}{case_id}/sold/0/0",
                 f"{QUEUE}{case_id}/photos/{buyer_photo_id(case_id)}"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.mimetype == "image/jpeg"
        assert response.get_data()[:2] == b"\xff\xd8"


def test_photos_of_other_cases_and_unknown_photos_are_404(client, staff):
    _, first = case_for_review()
    _, second = case_for_review()
    signed_in(client, staff, "support_agent")
    assert client.get(f"{QUEUE}{second}/photos/{buyer_photo_id(first)}").status_code == 404
    assert client.get(f"{QUEUE}{first}/sold/0/1").status_code == 404
    assert client.get(f"{QUEUE}{first}/sold/1/0").status_code == 404
    assert client.get(f"{QUEUE}{second + 100}").status_code == 404


def test_another_agent_sees_the_case_read_only(client, app, staff):
    _, case_id = case_for_review()
    signed_in(client, staff, "support_agent")
    claimed_workspace(client)
    other = app.test_client()
    signed_in(other, staff, "support_agent")
    page = other.get(f"{QUEUE}{case_id}").get_data(as_text=True)
    assert 'data-testid="not-held"' in page and "someone else does" in page
    assert 'data-testid="decision-form"' not in page


# --- deciding -------------------------------------------------------------------------------

def test_a_refund_decided_in_the_console_moves_the_money_and_is_audited(client, staff):
    order, case_id = case_for_review()
    agent = signed_in(client, staff, "support_agent")
    html = claimed_workspace(client)
    fields = decision_fields(html, "refund_without_return", "missing_item",
                             note="The parcel arrived without the dupatta.")
    response = client.post(f"{QUEUE}{case_id}/decide", data=fields)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{QUEUE}{case_id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "refund without return recorded; the case is now closed refunded" in page
    assert '<strong data-testid="case-state">closed refunded</strong>' in page
    assert 'data-testid="decision-form"' not in page
    assert state_of(case_id) == "closed_refunded"
    assert money(order.order_id)["refunded_paise"] == TOTAL
    assert money(order.order_id)["held_paise"] == 0
    assert_books_sound()
    [(actor, object_id, after)] = audit_rows("disputes.decision")
    assert (actor, object_id) == (agent, str(case_id))
    assert after["outcome"] == "refund_without_return" and after["refund_paise"] == TOTAL

    # The same form sent again (a double click, a retry) decides nothing more.
    again = client.post(f"{QUEUE}{case_id}/decide", data=fields)
    assert again.status_code == 302
    assert "already recorded" in client.get(again.headers["Location"]).get_data(as_text=True)
    assert decision_count() == 1 and refund_transactions(order.order_id) == 1
    assert money(order.order_id)["refunded_paise"] == TOTAL
    # The same key with another decision is refused, not taken for the first one.
    other = client.post(f"{QUEUE}{case_id}/decide", data={
        **fields, "outcome": "release_to_seller", "reason": "as_described"})
    assert other.status_code == 409
    assert "already used for a different decision" in other.get_data(as_text=True)
    assert decision_count() == 1 and money(order.order_id)["refunded_paise"] == TOTAL


def test_a_split_takes_rupees_to_the_exact_paisa(client, staff):
    order, case_id = case_for_review()
    signed_in(client, staff, "support_agent")
    html = claimed_workspace(client)
    response = client.post(f"{QUEUE}{case_id}/decide", data=decision_fields(
        html, "split", "minor_damage", refund_rupees="500.05"))
    assert response.status_code == 302
    assert state_of(case_id) == "closed_split"
    assert money(order.order_id)["refunded_paise"] == 50_005
    assert money(order.order_id)["released_paise"] == TOTAL - 50_005
    assert_books_sound()


@pytest.mark.parametrize("rupees", ["12.345", "-5", "1e3", "12,50", "five", "0.001"])
def test_rupees_that_are_not_an_exact_amount_are_a_form_message(client, staff, rupees):
    order, case_id = case_for_review()
    signed_in(client, staff, "support_agent")
    html = claimed_workspace(client)
    response = client.post(f"{QUEUE}{case_id}/decide", data=decision_fields(
        html, "split", "minor_damage", refund_rupees=rupees, note="Kept on refusal."))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "at most two decimals" in page and "Nothing was changed" in page
    assert f'value="{rupees}"' in page and "Kept on refusal." in page
    assert state_of(case_id) == "claimed" and decision_count() == 0
    assert money(order.order_id)["held_paise"] == TOTAL


def test_a_split_of_everything_held_is_refused_with_the_reason(client, staff):
    _, case_id = case_for_review()
    signed_in(client, staff, "support_agent")
    html = claimed_workspace(client)
    response = client.post(f"{QUEUE}{case_id}/decide", data=decision_fields(
        html, "split", "minor_damage", refund_rupees="1579.00"))
    assert response.status_code == 422
    assert "A split refunds part of the 157900 paise held" in response.get_data(as_text=True)
    assert state_of(case_id) == "claimed"


def test_a_reason_of_another_outcome_is_a_form_message(client, staff):
    _, case_id = case_for_review()
    signed_in(client, staff, "support_agent")
    html = claimed_workspace(client)
    response = client.post(f"{QUEUE}{case_id}/decide", data=decision_fields(
        html, "refund_without_return", "as_described"))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "reason for refund_without_return must be one of" in page
    assert 'data-testid="decision-form"' in page  # the agent can correct it at once
    assert state_of(case_id) == "claimed" and decision_count() == 0


def test_a_decision_after_the_lease_ran_out_is_a_message(client, staff):
    order, case_id = case_for_review()
    signed_in(client, staff, "support_agent")
    html = claimed_workspace(client)
    fields = decision_fields(html, "refund_without_return", "missing_item")
    clock.freeze(OPENED + timedelta(minutes=21))  # the 20-minute lease ran out
    response = client.post(f"{QUEUE}{case_id}/decide", data=fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Your claim on this case has expired" in page and 'data-testid="not-held"' in page
    assert decision_count() == 0 and money(order.order_id)["held_paise"] == TOTAL


def test_request_info_asks_the_chosen_party(client, staff):
    _, case_id = case_for_review()
    signed_in(client, staff, "support_agent")
    html = claimed_workspace(client)
    missing = client.post(f"{QUEUE}{case_id}/decide", data=decision_fields(
        html, "request_info", "need_buyer_photos", note="A photo of the tear, please."))
    assert missing.status_code == 422
    assert "info from" in missing.get_data(as_text=True)
    response = client.post(f"{QUEUE}{case_id}/decide", data=decision_fields(
        html, "request_info", "need_buyer_photos", info_from="buyer",
        note="A photo of the tear, please."))
    assert response.status_code == 302
    case = case_row(case_id)
    assert (case.state, case.info_requested_from) == ("awaiting_info", "buyer")
    page = client.get(f"{QUEUE}{case_id}").get_data(as_text=True)
    assert "A photo of the tear, please." in page.split('data-testid="staff-messages"')[1]


def test_extend_renews_the_lease_and_release_puts_the_case_back(client, staff):
    _, case_id = case_for_review()
    signed_in(client, staff, "support_agent")
    html = claimed_workspace(client)
    first_expiry = case_row(case_id).lease_expires_at
    clock.freeze(OPENED + timedelta(minutes=10))
    fields = {"csrf_token": hidden(html, "csrf_token"), "lease_token": hidden(html, "lease_token")}
    response = client.post(f"{QUEUE}{case_id}/extend", data=fields)
    assert response.headers["Location"].endswith(f"{QUEUE}{case_id}")
    assert case_row(case_id).lease_expires_at > first_expiry
    wrong = client.post(f"{QUEUE}{case_id}/release", data={**fields, "lease_token": "nope"})
    assert wrong.status_code == 302
    assert "Your claim on this case has expired" in client.get(QUEUE).get_data(as_text=True)
    assert state_of(case_id) == "claimed"
    assert client.post(f"{QUEUE}{case_id}/release", data=fields).status_code == 302
    assert state_of(case_id) == "under_review"
    assert [after["state"] for _, _, after in audit_rows("disputes.release")] == [
        "under_review"]


def test_staff_notes_are_kept_for_staff_and_audited(client, staff):
    _, case_id = case_for_review()
    agent = signed_in(client, staff, "support_agent")
    token = page_token(client, f"{QUEUE}{case_id}")
    empty = client.post(f"{QUEUE}{case_id}/notes", data={"csrf_token": token, "body": "  "})
    assert empty.status_code == 302
    assert "The note was not saved" in client.get(empty.headers["Location"]).get_data(
        as_text=True)
    assert staff_notes(case_id) == []
    client.post(f"{QUEUE}{case_id}/notes",
                data={"csrf_token": token, "body": "Third case from this buyer this month."})
    assert staff_notes(case_id) == ["Third case from this buyer this month."]
    assert [(actor, object_id) for actor, object_id, _ in audit_rows("disputes.note")] == [
        (agent, str(case_id))]
    page = client.get(f"{QUEUE}{case_id}").get_data(as_text=True)
    assert "Third case from this buyer this month." in page.split('data-testid="staff-messages"')[1]


def test_the_queue_refuses_a_second_claim_beyond_the_limit_with_a_message(client, staff):
    case_for_review()
    case_for_review()
    signed_in(client, staff, "support_agent")
    claimed_workspace(client)
    response = claim_from_console(client)
    assert response.headers["Location"].endswith(QUEUE)
    assert "You already hold 1 case(s)" in client.get(QUEUE).get_data(as_text=True)


# --- four eyes on large refunds -------------------------------------------------------------

@pytest.fixture
def small_approval_limit():
    with settings_changed(DISPUTE_REFUND_APPROVAL_PAISE=TOTAL - 1):
        yield


def _decided_by_a_lead(client, staff, case_id: int) -> int:
    lead = signed_in(client, staff, "support_lead")
    html = claimed_workspace(client)
    response = client.post(f"{QUEUE}{case_id}/decide", data=decision_fields(
        html, "refund_without_return", "missing_item"))
    assert response.status_code == 302
    assert state_of(case_id) == "awaiting_approval"
    return lead


def test_a_large_refund_waits_for_another_lead_who_approves_it(
        client, app, staff, small_approval_limit):
    order, case_id = case_for_review()
    _decided_by_a_lead(client, staff, case_id)
    assert money(order.order_id)["held_paise"] == TOTAL
    # Four eyes: the deciding lead is never handed the approval of their own decision.
    approvals = client.get(QUEUE).get_data(as_text=True).split('data-testid="queue-approval"')[1]
    assert "(0 you may claim)" in approvals
    assert claim_from_console(client, "approval").headers["Location"].endswith(QUEUE)
    assert state_of(case_id) == "awaiting_approval"

    other = app.test_client()
    approver = signed_in(other, staff, "support_lead")
    response = claim_from_console(other, "approval")
    assert response.headers["Location"].endswith(f"{QUEUE}{case_id}")
    page = other.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="approval-form"' in page and 'data-testid="decision-form"' not in page
    assert "refunding <strong>Rs 1,579.00</strong>" in page
    response = other.post(f"{QUEUE}{case_id}/approval", data={
        "csrf_token": hidden(page, "csrf_token"), "lease_token": hidden(page, "lease_token"),
        "approve": "approve", "note": "Photos are clear."})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(QUEUE)  # no other approval waits
    assert state_of(case_id) == "closed_refunded"
    assert money(order.order_id)["refunded_paise"] == TOTAL
    assert_books_sound()
    [(actor, object_id, after)] = audit_rows("disputes.approval")
    assert (actor, object_id, after["decision_status"]) == (approver, str(case_id), "approved")


def test_an_approval_recorded_opens_the_next_approval_already_claimed(
        app, staff, small_approval_limit):
    waiting = []
    for _ in range(2):
        _, case_id = case_for_review()
        _decided_by_a_lead(app.test_client(), staff, case_id)
        waiting.append(case_id)
    approver = app.test_client()
    signed_in(approver, staff, "support_lead")
    first = approver.get(claim_from_console(approver, "approval").headers["Location"])
    page = first.get_data(as_text=True)
    response = approver.post(f"{QUEUE}{waiting[0]}/approval", data={
        "csrf_token": hidden(page, "csrf_token"), "lease_token": hidden(page, "lease_token"),
        "approve": "approve", "note": "Photos are clear."})
    assert response.headers["Location"].endswith(f"{QUEUE}{waiting[1]}")
    assert (state_of(waiting[0]), state_of(waiting[1])) == ("closed_refunded", "claimed")


def test_an_agent_cannot_approve_even_holding_the_form(client, app, staff,
                                                     small_approval_limit):
    order, case_id = case_for_review()
    _decided_by_a_lead(client, staff, case_id)
    agent = app.test_client()
    signed_in(agent, staff, "support_agent")
    token = page_token(agent, QUEUE)
    response = agent.post(f"{QUEUE}{case_id}/approval", data={
        "csrf_token": token, "lease_token": "x", "approve": "approve", "note": "ok"})
    assert response.status_code == 403
    assert "Only a support lead approves refunds" in response.get_data(as_text=True)
    assert state_of(case_id) == "awaiting_approval"
    assert money(order.order_id)["held_paise"] == TOTAL


def test_a_lead_refuses_a_large_refund_only_with_a_note(client, app, staff,
                                                        small_approval_limit):
    order, case_id = case_for_review()
    _decided_by_a_lead(client, staff, case_id)
    other = app.test_client()
    signed_in(other, staff, "support_lead")
    page = other.get(claim_from_console(other, "approval").headers["Location"]).get_data(
        as_text=True)
    fields = {"csrf_token": hidden(page, "csrf_token"), "lease_token": hidden(page, "lease_token"),
              "approve": "refuse"}
    response = other.post(f"{QUEUE}{case_id}/approval", data=fields)
    assert response.status_code == 422
    assert "Give the note" in response.get_data(as_text=True)
    assert state_of(case_id) == "claimed"
    response = other.post(f"{QUEUE}{case_id}/approval",
                          data={**fields, "note": "The seller's photos show no tear."})
    assert response.status_code == 302
    assert state_of(case_id) == "under_review"
    assert money(order.order_id)["held_paise"] == TOTAL


# --- metrics --------------------------------------------------------------------------------

def _closed_case(staff, agent: int, reason: str, outcome: str, code: str, hours: int,
                 **extra):
    """A case opened at OPENED and decided `hours` later by `agent`."""
    order, case_id = case_for_review(reason=reason)
    clock.freeze(OPENED + timedelta(hours=hours))
    claimed, token = claim(agent)
    assert claimed == case_id
    decide(agent, case_id, token, outcome, code, **extra)
    return order, case_id


def test_the_metrics_page_shows_the_figures_of_the_cases(client, staff):
    agent = staff("support_agent")[0]
    _closed_case(staff, agent, "not_as_described", "refund_without_return", "missing_item", 1)
    _closed_case(staff, agent, "undisclosed_damage", "split", "minor_damage", 2,
                 refund_paise=50_000)
    _closed_case(staff, agent, "wrong_or_missing_item", "release_to_seller", "as_described", 3)
    case_for_review(reason="not_as_described")  # still open
    clock.freeze(OPENED + timedelta(hours=4))

    dates = metrics.DateRange(DELIVERED.date().replace(day=1), DELIVERED.date().replace(day=31))
    with db.unit_of_work() as s:
        figures = metrics.summary(s, dates)
    assert figures["volume"]["by_reason"] == {"undisclosed_damage": 1,
                                              "wrong_or_missing_item": 1,
                                              "not_as_described": 2, "not_authentic": 0}
    assert figures["outcomes"]["by_state"] == {"closed_refunded": 1, "closed_split": 1,
                                               "closed_released": 1, "closed_withdrawn": 0}
    assert figures["resolution"] == {"closed": 3, "median_seconds": 7200,
                                     "p90_seconds": 10800}
    assert (figures["sla"]["closed"], figures["sla"]["met"]) == (3, 3)
    refunds = figures["refunds"]
    assert refunds["total_paise"] == TOTAL + 50_000 and refunds["total_refunds"] == 2
    assert refunds["paise"][refunds["days"].index(OPENED.date().isoformat())] == TOTAL + 50_000
    [throughput] = figures["throughput"]["agents"]
    assert (throughput["staff_id"], throughput["total"]) == (agent, 3)
    rates = figures["case_rates"]
    assert (rates["orders"], rates["cases"], rates["won_by_buyers"]) == (4, 4, 2)
    assert [s["lost_per_order"] for s in rates["sellers"]] == [1.0, 1.0]
    assert figures["open_now"]["under_review"] == 1

    signed_in(client, staff, "support_lead")
    page = client.get(f"{METRICS}?from=2025-03-01&to=2025-03-31").get_data(as_text=True)
    assert "Rs 2,079.00 in 2 refund(s)" in page
    resolution = page.split('data-testid="resolution-table"')[1].split("</table>")[0]
    assert "2.0 h" in resolution and "3.0 h" in resolution and "3 of 3" in resolution
    volume = page.split('data-testid="volume-table"')[1].split("</table>")[0]
    assert re.search(r"not as described</th><td>2<", volume)
    sellers = page.split('data-testid="sellers-table"')[1].split("</table>")[0]
    assert sellers.count("100.0%") == 2
    assert '<svg class="bar-chart"' in page and '<svg class="line-chart"' in page
    # Outside the range there is nothing.
    april = client.get(f"{METRICS}?from=2025-04-01&to=2025-04-30").get_data(as_text=True)
    assert "Rs 0.00 in 0 refund(s)" in april


@pytest.mark.parametrize("query, message", [
    ("from=2025-03-31&to=2025-03-01", "The range ends before it starts."),
    ("from=2023-01-01&to=2025-03-01", "at most 366 days"),
    ("from=yesterday&to=2025-03-01", "Give both dates as YYYY-MM-DD"),
    ("from=2025-03-01", "Give both dates as YYYY-MM-DD"),
])
def test_a_bad_range_is_a_message_and_the_default_is_shown(client, staff, query, message):
    signed_in(client, staff, "support_lead")
    response = client.get(f"{METRICS}?{query}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert message in page.split('data-testid="range-message"')[1].split("</div>")[0]
