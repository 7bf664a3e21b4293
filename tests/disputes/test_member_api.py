"""The members' disputes API through real HTTP: opening a case (and every refusal, which
leaves nothing behind), the window's edges, reading cases and their photos, answering,
withdrawing, accepting a return, inspecting it and counter-claiming."""
from __future__ import annotations

import io
from datetime import timedelta

import cv2
import numpy as np
import pytest
from sqlalchemy import func, select

from disputes.models import NOT_COVERED, CaseMessage, CasePhoto, DisputeCase
from foundation import clock, db
from tests.builders.cases import (
    DELIVERED,
    delivered_order,
    open_case,
    seller_responds,
    sold_and_delivered,
)
from tests.builders.members import headers_for, make_member
from tests.builders.orders import TOTAL, assert_books_sound, money, new_sale, order_row, place
from tests.builders.photos import jpeg_bytes, photo_parts
from tests.disputes.support import (
    StaffApi,
    assert_api_error,
    case_events,
    case_form,
    post_form,
    state_of,
)

SECOND = timedelta(seconds=1)
WINDOW = timedelta(days=3)
INSIDE = DELIVERED + timedelta(days=1)


def cases_path(order_id: int) -> str:
    return f"/api/v1/orders/{order_id}/cases"


def open_via_api(client, order, headers: dict | None = None, **form):
    return post_form(client, cases_path(order.order_id),
                     headers or headers_for(order.buyer_id), case_form(**form))


def opened(client, order, **form) -> dict:
    response = open_via_api(client, order, **form)
    assert response.status_code == 201, response.json
    return response.json["case"]


def case_of(client, member_id: int, case_id: int) -> dict:
    response = client.get(f"/api/v1/cases/{case_id}", headers=headers_for(member_id))
    assert response.status_code == 200, response.json
    return response.json["case"]


def act(client, member_id: int, case_id: int, action: str, form: dict | None = None):
    path = f"/api/v1/cases/{case_id}/{action}"
    if form is None:
        return client.post(path, headers=headers_for(member_id))
    return post_form(client, path, headers_for(member_id), form)


def nothing_written() -> bool:
    """No case, message or photo anywhere and no order on hold."""
    from marketplace_core.orders.models import Order

    with db.unit_of_work() as s:
        return all(s.scalar(select(func.count()).select_from(model).where(*where)) == 0
                   for model, where in ((DisputeCase, ()), (CaseMessage, ()), (CasePhoto, ()),
                                        (Order, (Order.on_hold.is_(True),))))


def decoded(response) -> np.ndarray:
    assert response.status_code == 200, response.data
    assert response.mimetype == "image/jpeg"
    assert response.headers["Cache-Control"] == "no-store"   # evidence is never cached
    image = cv2.imdecode(np.frombuffer(response.data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None and image.shape[0] > 0
    return image


# --- opening a case -----------------------------------------------------------------------

def test_the_buyer_opens_a_case_with_photos_and_the_funds_stay_held(client):
    order = delivered_order()
    clock.freeze(INSIDE)
    case = opened(client, order, reason="undisclosed_damage",
                  description="  A stain on the dupatta, not in the photos.  ", photos=2)

    assert case["state"] == "awaiting_seller"
    assert case["your_role"] == "buyer"
    assert (case["order_id"], case["buyer_id"], case["seller_id"]) == \
        (order.order_id, order.buyer_id, order.seller_id)
    assert case["reason"] == "undisclosed_damage"
    assert case["description"] == "A stain on the dupatta, not in the photos."
    assert case["amount_paise"] == TOTAL
    assert case["deadlines"]["seller_response_due_at"] == \
        (INSIDE + timedelta(days=2)).isoformat()
    assert case["items"][0]["title"] == "Banarasi silk saree"
    assert case["return_parcel"] is None
    [message] = case["messages"]
    assert (message["kind"], message["author"], len(message["photos"])) == \
        ("opening", "buyer", 2)
    assert order_row(order.order_id).on_hold is True
    assert money(order.order_id)["held_paise"] == TOTAL
    # Both parties can fetch the evidence; the photo is a re-encoded JPEG.
    url = message["photos"][0]["url"]
    assert url == f"/api/v1/cases/{case['id']}/photos/{message['photos'][0]['id']}"
    assert decoded(client.get(url, headers=headers_for(order.buyer_id))).shape[:2] == \
        (message["photos"][0]["height"], message["photos"][0]["width"])
    decoded(client.get(url, headers=headers_for(order.seller_id)))


def test_the_api_is_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    operation = paths["/api/v1/orders/{order_id}/cases"]["post"]
    assert set(operation["requestBody"]["content"]["multipart/form-data"]["schema"]
               ["properties"]) == {"reason", "description", "photos"}
    for path in ("/api/v1/cases", "/api/v1/cases/{case_id}",
                 "/api/v1/cases/{case_id}/photos/{photo_id}",
                 "/api/v1/cases/{case_id}/responses", "/api/v1/cases/{case_id}/withdraw",
                 "/api/v1/cases/{case_id}/accept-return", "/api/v1/cases/{case_id}/inspection"):
        assert path in paths, path


@pytest.mark.parametrize("reason", sorted(NOT_COVERED))
def test_a_reason_that_is_not_covered_is_refused_with_its_explanation(client, reason):
    order = delivered_order()
    clock.freeze(INSIDE)
    error = assert_api_error(open_via_api(client, order, reason=reason), 422,
                             "reason_not_covered")
    assert error["message"] == NOT_COVERED[reason]
    assert nothing_written()


@pytest.mark.parametrize("form, status, code", [
    ({"reason": "ugly"}, 422, "bad_reason"),
    ({"reason": ""}, 422, "bad_reason"),
    ({"description": "   "}, 422, "bad_text"),
    ({"description": "x" * 2001}, 422, "bad_text"),
    ({"photos": 0}, 422, "photo_required"),
    ({"photos": 9}, 422, "too_many_photos"),
    ({"colour": "red"}, 422, "unknown_field"),
    ({"photos": 0, "extra_photos": "x"}, 422, "unknown_field"),
])
def test_bad_fields_are_refused_and_change_nothing(client, form, status, code):
    order = delivered_order()
    clock.freeze(INSIDE)
    assert_api_error(open_via_api(client, order, **form), status, code)
    assert nothing_written()


def test_a_missing_reason_or_description_is_refused(client):
    order = delivered_order()
    clock.freeze(INSIDE)
    path = cases_path(order.order_id)
    headers = headers_for(order.buyer_id)
    assert_api_error(post_form(client, path, headers, {
        "description": "Torn.", "photos": photo_parts()}), 422, "bad_reason")
    assert_api_error(post_form(client, path, headers, {
        "reason": "not_as_described", "photos": photo_parts()}), 422, "bad_text")
    assert nothing_written()


@pytest.mark.parametrize("payload, code", [
    (b"this is not an image at all, just words", "unsupported_format"),
    (jpeg_bytes(3)[:1500], "truncated_or_corrupt"),
    (b"", "empty_file"),
])
def test_a_bad_image_is_refused_with_the_media_code_and_nothing_is_kept(client, payload, code):
    order = delivered_order()
    clock.freeze(INSIDE)
    # One good photo before the bad one: the whole report is refused.
    form = case_form(photos=1)
    form["photos"].append((io.BytesIO(payload), "bad.jpg", "image/jpeg"))
    response = post_form(client, cases_path(order.order_id), headers_for(order.buyer_id), form)
    assert_api_error(response, 422, code)
    assert nothing_written()


def test_a_photo_over_the_size_limit_is_413(client, settings):
    order = delivered_order()
    clock.freeze(INSIDE)
    huge = b"\xff\xd8\xff" + b"\x00" * settings.MAX_UPLOAD_BYTES
    form = case_form(photos=0)
    form["photos"] = [(io.BytesIO(huge), "huge.jpg", "image/jpeg")]
    response = post_form(client, cases_path(order.order_id), headers_for(order.buyer_id), form)
    assert_api_error(response, 413, "file_too_large")
    assert nothing_written()


def test_several_photos_may_together_exceed_the_one_upload_limit(client, settings):
    """The app-wide request limit is sized for one photo; a case takes up to eight, so
    the request is read and each photo judged on its own (here: both are junk)."""
    order = delivered_order()
    clock.freeze(INSIDE)
    junk = b"\xff\xd8\xff" + b"\x00" * (settings.MAX_UPLOAD_BYTES * 3 // 5)
    form = {**case_form(photos=0), "photos": [(io.BytesIO(junk), f"{i}.jpg", "image/jpeg")
                                              for i in range(2)]}
    response = post_form(client, cases_path(order.order_id), headers_for(order.buyer_id), form)
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] != "request_entity_too_large"
    assert nothing_written()


def test_a_json_body_is_refused_with_415(client):
    order = delivered_order()
    clock.freeze(INSIDE)
    response = client.post(cases_path(order.order_id), headers=headers_for(order.buyer_id),
                           json={"reason": "not_as_described", "description": "Torn."})
    error = assert_api_error(response, 415, "multipart_required")
    assert "multipart/form-data" in error["message"]
    assert nothing_written()


def test_photos_sent_as_text_are_refused(client):
    order = delivered_order()
    clock.freeze(INSIDE)
    form = {**case_form(photos=0), "photos": "data:image/jpeg;base64,AAAA"}
    response = post_form(client, cases_path(order.order_id), headers_for(order.buyer_id), form)
    assert_api_error(response, 422, "photos_not_files")
    assert nothing_written()


def test_only_the_buyer_may_report_and_strangers_see_no_order(client):
    order = delivered_order()
    clock.freeze(INSIDE)
    assert_api_error(open_via_api(client, order, headers=headers_for(order.seller_id)),
                     403, "not_buyer")
    stranger = make_member("nosy_neighbour")
    assert_api_error(open_via_api(client, order, headers=headers_for(stranger)),
                     404, "order_not_found")
    response = post_form(client, cases_path(order.order_id + 999),
                         headers_for(order.buyer_id), case_form())
    assert_api_error(response, 404, "order_not_found")
    assert_api_error(post_form(client, cases_path(order.order_id), {}, case_form()),
                     401, "not_authenticated")
    assert nothing_written()


def test_an_order_not_yet_delivered_cannot_be_reported(client):
    clock.freeze(DELIVERED)
    sale = new_sale()
    order_id = place(sale)
    response = post_form(client, cases_path(order_id), headers_for(sale.buyer), case_form())
    assert_api_error(response, 409, "not_delivered")
    assert nothing_written()


def test_a_second_report_on_the_same_order_is_refused(client):
    order = delivered_order()
    clock.freeze(INSIDE)
    first = opened(client, order)
    assert_api_error(open_via_api(client, order), 409, "case_exists")
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count(DisputeCase.id))) == 1
        assert s.scalar(select(func.count(CaseMessage.id))) == 1
    assert case_of(client, order.buyer_id, first["id"])["state"] == "awaiting_seller"


# --- the window's edges -------------------------------------------------------------------

def test_one_second_before_the_window_closes_a_report_opens_a_case(client):
    order = delivered_order()
    clock.freeze(DELIVERED + WINDOW - SECOND)
    assert opened(client, order)["state"] == "awaiting_seller"


def test_when_the_window_closes_a_report_is_refused(client):
    order = delivered_order()
    clock.freeze(DELIVERED + WINDOW)
    error = assert_api_error(open_via_api(client, order), 409, "window_closed")
    assert "3 days" in error["message"]
    assert nothing_written()


def test_after_acceptance_the_sale_is_final(client):
    order = delivered_order()
    clock.freeze(INSIDE)
    accepted = client.post(f"/api/v1/orders/{order.order_id}/accept",
                           headers=headers_for(order.buyer_id))
    assert accepted.status_code == 200, accepted.json
    assert_api_error(open_via_api(client, order), 409, "order_accepted")
    assert nothing_written()


# --- reading cases ------------------------------------------------------------------------

def test_the_parties_list_their_cases_newest_first_page_by_page(client):
    buyer = make_member("serial_shopper")
    orders = [sold_and_delivered(buyer_id=buyer) for _ in range(3)]
    clock.freeze(INSIDE)
    ids = [opened(client, order)["id"] for order in orders]
    headers = headers_for(buyer)

    first = client.get("/api/v1/cases", query_string={"limit": 2}, headers=headers).json
    assert [c["id"] for c in first["items"]] == [ids[2], ids[1]]
    assert {c["your_role"] for c in first["items"]} == {"buyer"}
    second = client.get("/api/v1/cases", query_string={"limit": 2, "cursor": first["next"]},
                        headers=headers).json
    assert ([c["id"] for c in second["items"]], second["next"]) == ([ids[0]], None)

    seller_view = client.get("/api/v1/cases", headers=headers_for(orders[1].seller_id)).json
    assert [(c["id"], c["your_role"]) for c in seller_view["items"]] == [(ids[1], "seller")]
    as_seller = client.get("/api/v1/cases", query_string={"role": "seller"},
                           headers=headers).json
    assert as_seller["items"] == []
    stranger = client.get("/api/v1/cases", headers=headers_for(make_member("bystander"))).json
    assert stranger == {"items": [], "next": None}


@pytest.mark.parametrize("query, field", [
    ({"role": "admin"}, "role"), ({"cursor": "abc"}, "cursor"), ({"limit": 0}, "limit"),
    ({"limit": 101}, "limit"),
])
def test_bad_list_parameters_are_422(client, query, field):
    member = make_member("listing_params")
    response = client.get("/api/v1/cases", query_string=query, headers=headers_for(member))
    assert field in assert_api_error(response, 422, "validation_failed")["fields"]


def test_strangers_get_404_for_a_case_and_its_photos(client):
    order = delivered_order()
    clock.freeze(INSIDE)
    case = opened(client, order)
    photo_url = case["messages"][0]["photos"][0]["url"]
    stranger = headers_for(make_member("curious"))
    assert_api_error(client.get(f"/api/v1/cases/{case['id']}", headers=stranger),
                     404, "case_not_found")
    assert_api_error(client.get(photo_url, headers=stranger), 404, "case_not_found")
    assert_api_error(client.get(f"/api/v1/cases/{case['id'] + 1}",
                                headers=headers_for(order.buyer_id)), 404, "case_not_found")
    # A photo id of another case is not this case's photo.
    other = delivered_order()
    clock.freeze(INSIDE)
    other_case = opened(client, other)
    other_photo = other_case["messages"][0]["photos"][0]["id"]
    assert_api_error(client.get(f"/api/v1/cases/{case['id']}/photos/{other_photo}",
                                headers=headers_for(order.buyer_id)), 404, "photo_not_found")


def test_members_never_see_staff_notes(client, staff):
    order = delivered_order()
    clock.freeze(INSIDE)
    case = opened(client, order)
    agent = StaffApi(client, staff, "support_agent")
    response = agent.post(case["id"], "notes", body="Buyer has three cases this month.")
    assert response.status_code == 201, response.json
    for member in (order.buyer_id, order.seller_id):
        seen = case_of(client, member, case["id"])
        assert [m["kind"] for m in seen["messages"]] == ["opening"]
        assert "author_staff_id" not in seen["messages"][0]
    staff_view = agent.get(f"/{case['id']}").json
    assert [m["kind"] for m in staff_view["messages"]] == ["opening", "staff_note"]


# --- answering ----------------------------------------------------------------------------

def test_the_sellers_answer_with_photos_sends_the_case_to_review(client):
    order = delivered_order()
    clock.freeze(INSIDE)
    case = opened(client, order)
    response = act(client, order.seller_id, case["id"], "responses",
                   {"body": "It left here without a mark.", "photos": photo_parts(2)})
    assert response.status_code == 200, response.json
    answered = response.json["case"]
    assert (answered["state"], answered["your_role"]) == ("under_review", "seller")
    assert answered["deadlines"]["seller_response_due_at"] is None
    reply = answered["messages"][-1]
    assert (reply["kind"], reply["author"], reply["body"], len(reply["photos"])) == \
        ("response", "seller", "It left here without a mark.", 2)
    # The buyer sees the seller's photos too.
    decoded(client.get(reply["photos"][1]["url"], headers=headers_for(order.buyer_id)))


def test_the_buyers_message_is_kept_without_moving_the_case(client):
    order = delivered_order()
    clock.freeze(INSIDE)
    case = opened(client, order)
    response = act(client, order.buyer_id, case["id"], "responses",
                   {"body": "Another photo of the tear."})
    assert response.status_code == 200, response.json
    assert response.json["case"]["state"] == "awaiting_seller"
    assert [m["author"] for m in response.json["case"]["messages"]] == ["buyer", "buyer"]


def test_answer_refusals_change_nothing(client):
    order = delivered_order()
    clock.freeze(INSIDE)
    case = opened(client, order)
    case_id = case["id"]
    assert_api_error(act(client, order.seller_id, case_id, "responses", {"body": " "}),
                     422, "bad_text")
    assert_api_error(act(client, order.seller_id, case_id, "responses",
                         {"body": "Fine.", "photos": photo_parts(9)}), 422, "too_many_photos")
    bad = [(io.BytesIO(b"GIF89a not really"), "x.gif", "image/gif")]
    assert_api_error(act(client, order.seller_id, case_id, "responses",
                         {"body": "See.", "photos": bad}), 422, "unsupported_format")
    response = client.post(f"/api/v1/cases/{case_id}/responses", json={"body": "Hi"},
                           headers=headers_for(order.seller_id))
    assert_api_error(response, 415, "multipart_required")
    assert_api_error(act(client, make_member("outsider"), case_id, "responses",
                         {"body": "Hello"}), 404, "case_not_found")
    assert state_of(case_id) == "awaiting_seller"
    assert len(case_of(client, order.buyer_id, case_id)["messages"]) == 1


def test_a_closed_case_takes_no_more_answers(client):
    order = delivered_order()
    clock.freeze(INSIDE)
    case = opened(client, order)
    assert act(client, order.buyer_id, case["id"], "withdraw").status_code == 200
    assert_api_error(act(client, order.seller_id, case["id"], "responses", {"body": "Late."}),
                     409, "case_closed")


# --- withdrawing --------------------------------------------------------------------------

def test_the_buyer_withdraws_and_the_seller_is_paid(client):
    order = delivered_order()
    clock.freeze(INSIDE)
    case = opened(client, order)
    assert_api_error(act(client, order.seller_id, case["id"], "withdraw"), 403, "not_buyer")
    assert state_of(case["id"]) == "awaiting_seller"

    response = act(client, order.buyer_id, case["id"], "withdraw")
    assert response.status_code == 200, response.json
    assert (response.json["case"]["state"], response.json["case"]["closed"]) == \
        ("closed_withdrawn", True)
    assert money(order.order_id)["held_paise"] == 0
    assert money(order.order_id)["refunded_paise"] == 0
    assert order_row(order.order_id).status == "completed"
    assert_api_error(act(client, order.buyer_id, case["id"], "withdraw"), 409, "case_closed")
    assert_books_sound()


# --- the return and its inspection --------------------------------------------------------

def returned_to_seller(client, app) -> tuple:
    """A case whose seller accepted the return through the API, and the return parcel
    the simulated carrier delivered back (the `flask carrier` command, --return)."""
    order = delivered_order()
    clock.freeze(INSIDE)
    case = opened(client, order)
    assert_api_error(act(client, order.buyer_id, case["id"], "accept-return"), 403,
                     "not_seller")
    response = act(client, order.seller_id, case["id"], "accept-return")
    assert response.status_code == 200, response.json
    assert response.json["case"]["state"] == "awaiting_return"
    seller_parcel = response.json["case"]["return_parcel"]
    assert seller_parcel["status"] == "label_created" and "label_url" not in seller_parcel
    buyer_parcel = case_of(client, order.buyer_id, case["id"])["return_parcel"]
    assert buyer_parcel["tracking_number"] == seller_parcel["tracking_number"]
    label = client.get(buyer_parcel["label_url"], headers=headers_for(order.buyer_id))
    assert label.status_code == 200 and label.mimetype == "image/svg+xml"

    result = app.test_cli_runner().invoke(args=["carrier", "advance", str(order.order_id),
                                                "--to", "delivered", "--return"])
    assert result.exit_code == 0, result.output
    assert state_of(case["id"]) == "awaiting_inspection"
    return order, case["id"]


def test_the_seller_accepts_the_returned_item_and_the_buyer_is_refunded(client, app):
    order, case_id = returned_to_seller(client, app)
    seen = case_of(client, order.seller_id, case_id)
    assert seen["return_parcel"]["status"] == "delivered"
    assert seen["deadlines"]["inspection_due_at"] == (INSIDE + timedelta(days=3)).isoformat()

    response = act(client, order.seller_id, case_id, "inspection", {"accept": "true"})
    assert response.status_code == 200, response.json
    closed = response.json["case"]
    assert (closed["state"], closed["outcome"], closed["refund_paise"]) == \
        ("closed_refunded", "refund_with_return", TOTAL)
    assert closed["messages"][-1]["kind"] == "inspection"
    assert money(order.order_id)["refunded_paise"] == TOTAL
    assert money(order.order_id)["held_paise"] == 0
    assert_books_sound()


def test_a_counter_claim_needs_words_and_photos_and_goes_back_to_review(client, app):
    order, case_id = returned_to_seller(client, app)
    assert_api_error(act(client, order.buyer_id, case_id, "inspection", {"accept": "true"}),
                     403, "not_seller")
    assert_api_error(act(client, order.seller_id, case_id, "inspection", {"accept": "maybe"}),
                     422, "bad_accept")
    assert_api_error(act(client, order.seller_id, case_id, "inspection", {"body": "Hmm"}),
                     422, "bad_accept")
    assert_api_error(act(client, order.seller_id, case_id, "inspection",
                         {"accept": "false", "body": "A different saree came back."}),
                     422, "photo_required")
    assert_api_error(act(client, order.seller_id, case_id, "inspection",
                         {"accept": "false", "photos": photo_parts()}), 422, "bad_text")
    assert state_of(case_id) == "awaiting_inspection"

    response = act(client, order.seller_id, case_id, "inspection",
                   {"accept": "false", "body": "A different saree came back.",
                    "photos": photo_parts(2)})
    assert response.status_code == 200, response.json
    case = response.json["case"]
    assert case["state"] == "under_review"
    assert (case["messages"][-1]["kind"], len(case["messages"][-1]["photos"])) == \
        ("counter_claim", 2)
    assert money(order.order_id)["held_paise"] == TOTAL   # nothing moved yet
    assert ("awaiting_inspection", "under_review", "counter_claimed") in case_events(case_id)


def test_inspection_and_returns_at_the_wrong_moment_are_409(client):
    order = delivered_order()
    clock.freeze(INSIDE)
    case_id = open_case(order)
    assert_api_error(act(client, order.seller_id, case_id, "inspection", {"accept": "true"}),
                     409, "illegal_transition")
    seller_responds(order, case_id)
    assert act(client, order.buyer_id, case_id, "withdraw").status_code == 200
    assert_api_error(act(client, order.seller_id, case_id, "accept-return"), 409,
                     "illegal_transition")
    assert state_of(case_id) == "closed_withdrawn"
