"""The disputes console's "decide and next" (a decision opens the next case of the review
queue, already claimed), "claim next" from the first queue with work, and the keys declared
on every control of the queue page and the workspace."""
from __future__ import annotations

import re

from sqlalchemy import func, select

from disputes.models import DECISION_REASONS, CaseDecision, DisputeCase
from foundation import db
from tests.builders.cases import cases_under_review
from tests.disputes.support import state_of
from tests.helpers import page_token, signed_in

QUEUE = "/console/disputes/"


def claim_first(client, token: str | None = None):
    return client.post(f"{QUEUE}claim-first", data={} if token is None else {"csrf_token": token})


def opened_case(response) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def hidden(html: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', html).group(1)


def decision(html: str, then: str | None = "next", **fields) -> dict:
    body = {"csrf_token": hidden(html, "csrf_token"), "lease_token": hidden(html, "lease_token"),
            "idempotency_key": hidden(html, "idempotency_key"),
            "outcome": "refund_without_return", "reason": "missing_item", "note": "", **fields}
    if then is not None:
        body["then"] = then
    return body


def holder(case_id: int) -> int | None:
    with db.unit_of_work() as s:
        return s.get(DisputeCase, case_id).claimed_by


def decision_count() -> int:
    with db.unit_of_work() as s:
        return s.scalar(select(func.count()).select_from(CaseDecision))


def claimed_in_console(client) -> tuple[int, str]:
    case_id = opened_case(claim_first(client, page_token(client, QUEUE)))
    return case_id, client.get(f"{QUEUE}{case_id}").get_data(as_text=True)


def test_decide_and_next_records_the_decision_and_opens_the_next_case_claimed(client, staff):
    first, second = cases_under_review(2)
    agent = signed_in(client, staff, "support_agent")
    case_id, html = claimed_in_console(client)
    assert case_id == first

    response = client.post(f"{QUEUE}{first}/decide", data=decision(html))

    assert opened_case(response) == second
    assert state_of(first) == "closed_refunded"
    assert state_of(second) == "claimed" and holder(second) == agent
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Case #{first}: refund without return recorded" in page
    assert 'data-testid="decision-form"' in page  # the next case, ready to decide


def test_decide_and_next_with_none_left_goes_to_the_queue_with_a_message(client, staff):
    (only,) = cases_under_review(1)
    signed_in(client, staff, "support_agent")
    _, html = claimed_in_console(client)

    response = client.post(f"{QUEUE}{only}/decide", data=decision(html))

    assert response.status_code == 302 and response.headers["Location"].endswith(QUEUE)
    page = client.get(QUEUE).get_data(as_text=True)
    assert "The Review queue has nothing more for you now." in page
    assert state_of(only) == "closed_refunded"


def test_record_and_back_to_the_queue_claims_nothing(client, staff):
    first, second = cases_under_review(2)
    signed_in(client, staff, "support_agent")
    _, html = claimed_in_console(client)

    response = client.post(f"{QUEUE}{first}/decide", data=decision(html, then="queue"))

    assert response.headers["Location"].endswith(QUEUE)
    assert state_of(first) == "closed_refunded" and state_of(second) == "under_review"


def test_a_refused_decision_stays_on_the_case_and_claims_nothing(client, staff):
    first, second = cases_under_review(2)
    signed_in(client, staff, "support_agent")
    _, html = claimed_in_console(client)

    response = client.post(f"{QUEUE}{first}/decide",
                           data=decision(html, outcome="split", reason="minor_damage"))

    assert response.status_code == 422
    assert "A split needs refund_paise." in response.get_data(as_text=True)
    assert state_of(first) == "claimed" and state_of(second) == "under_review"
    assert decision_count() == 0


def test_the_same_form_sent_twice_decides_once_and_claims_one_next_case(client, staff):
    first, second, third = cases_under_review(3)
    signed_in(client, staff, "support_agent")
    _, html = claimed_in_console(client)
    fields = decision(html)

    assert opened_case(client.post(f"{QUEUE}{first}/decide", data=fields)) == second
    again = client.post(f"{QUEUE}{first}/decide", data=fields)

    assert again.headers["Location"].endswith(f"{QUEUE}{first}")
    assert decision_count() == 1
    assert state_of(third) == "under_review"


def test_decide_and_next_and_claim_first_need_the_csrf_token(client, staff):
    first, second = cases_under_review(2)
    signed_in(client, staff, "support_agent")
    assert claim_first(client).status_code == 400
    assert state_of(first) == "under_review"
    _, html = claimed_in_console(client)
    fields = decision(html)
    del fields["csrf_token"]

    assert client.post(f"{QUEUE}{first}/decide", data=fields).status_code == 400

    assert decision_count() == 0 and state_of(second) == "under_review"


def test_claim_first_is_for_dispute_staff_only(client, staff):
    (case_id,) = cases_under_review(1)
    signed_in(client, staff, "authenticator")
    assert claim_first(client, page_token(client, "/console/")).status_code == 403
    assert state_of(case_id) == "under_review"


# --- the keys on every control ----------------------------------------------------------------

def declared_keys(html: str) -> list[str]:
    return re.findall(r'data-key="([^"]+)"', html)


def test_every_control_of_the_workspace_declares_a_key(client, staff):
    cases_under_review(1)
    signed_in(client, staff, "support_agent")
    _, html = claimed_in_console(client)
    form = html.split('data-testid="decision-form"')[1].split("</form>")[0]

    controls = re.findall(r"<(?:input|select|textarea|button)\b[^>]*>", form)
    keyless = [c for c in controls if 'type="hidden"' not in c and "data-key=" not in c]
    assert keyless == []
    outcome_keys = re.findall(r'name="outcome"[^>]*data-key="(\d)"', form)
    assert outcome_keys == [str(n) for n in range(1, len(DECISION_REASONS) + 1)]
    keys = declared_keys(html)
    assert len(keys) == len(set(keys))  # one control per key
    assert {"Enter", "q", "s", "m", "w", "t", "b", "x", "l", "o", "g"} <= set(keys)


def test_the_queue_page_declares_claim_next_and_each_queue(client, staff):
    signed_in(client, staff, "support_lead")
    keys = declared_keys(client.get(QUEUE).get_data(as_text=True))
    assert keys == ["n", "r", "p"]
