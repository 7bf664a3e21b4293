"""Authentication with the keyboard alone, in a real browser: from the queue page, `n` claims
and opens the next item, `p` passes the checklist, a verdict key chooses the verdict with its
first reason, and Enter records it and opens the next item of the same queue, already
claimed.  The `?` panel lists every shortcut of the page and Escape closes it."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from authentication.models import AuthenticationRequest, ReviewDecision, Verdict, checklist_for
from foundation import db
from tests.browser.keyboard import (
    Keyboard,
    assert_panel_lists_every_shortcut,
    declared_keys,
    no_csp_violations,
)
from tests.browser.sweep import WATCH_CSP, sign_in
from tests.builders.cases import decide_authentication, pending_listing
from tests.builders.members import register

pytestmark = pytest.mark.browser

QUEUE = "/console/authentication/"


def requests_by_id() -> dict[int, AuthenticationRequest]:
    s = db.session()
    try:
        return {r.id: r for r in s.scalars(select(AuthenticationRequest))}
    finally:
        db.session.remove()


def second_review_decision(request_id: int) -> ReviewDecision:
    s = db.session()
    try:
        return s.scalars(select(ReviewDecision).where(ReviewDecision.request_id == request_id,
                                                      ReviewDecision.stage == "second")).one()
    finally:
        db.session.remove()


def open_request_id(page) -> int:
    return int(page.url.rstrip("/").rsplit("/", 1)[1])


def shown_workspace(page) -> None:
    page.wait_for_selector("[data-testid=decision-form]")
    assert page.locator("[data-testid=not-held]").count() == 0


def test_an_authentic_decision_takes_four_keys_from_the_queue_and_opens_the_next(
        client, live_server, browser_page, staff):
    owner = register(client)
    for title in ("Banarasi silk, emerald", "Banarasi silk, maroon"):
        pending_listing(client, owner, title=title)
    reviewer_id, email, password = staff("authenticator")
    page = browser_page
    page.add_init_script(WATCH_CSP)
    sign_in(page, live_server, email, password)
    page.goto(f"{live_server}{QUEUE}")
    keys = Keyboard(page)

    keys.press_and_load("n")
    shown_workspace(page)
    decided_id = open_request_id(page)
    keys.press("p")
    keys.press("a")
    assert page.locator("select[name=reason]").input_value() == "all_points_consistent"
    keys.press_and_load("Enter")

    assert keys.presses == 4
    shown_workspace(page)
    next_id = open_request_id(page)
    assert next_id != decided_id
    assert "authentic recorded" in page.content()
    rows = requests_by_id()
    assert rows[decided_id].state == "closed_authentic"
    assert rows[next_id].state == "claimed" and rows[next_id].claimed_by == reviewer_id
    no_csp_violations(page)


def test_a_second_review_confirms_a_counterfeit_with_the_keyboard_and_opens_the_next(
        client, live_server, browser_page, staff):
    owner = register(client)
    first_reviewer, _, _ = staff("authenticator")
    for title in ("Pashmina shawl, walnut", "Pashmina shawl, rust"):
        listing = pending_listing(client, owner, title=title)
        decide_authentication(first_reviewer, verdict=Verdict.COUNTERFEIT,
                              reason="logo_mismatch", listing_id=listing["id"])
    senior_id, email, password = staff("senior_authenticator")
    page = browser_page
    page.add_init_script(WATCH_CSP)
    sign_in(page, live_server, email, password)
    page.goto(f"{live_server}{QUEUE}")
    keys = Keyboard(page)

    keys.press_and_load("n")  # the review queue is empty: the second review's first item
    shown_workspace(page)
    decided_id = open_request_id(page)
    assert page.locator("[data-key=m], [data-key=e]").count() == 0  # not verdicts here
    keys.press("l")  # to the checklist: the first point fails, by arrow keys
    page.keyboard.press("ArrowRight")
    keys.presses += 1
    keys.press("p")
    keys.press("c")
    assert page.locator("select[name=reason]").input_value() == "logo_mismatch"
    keys.press_and_load("Enter")

    assert keys.presses == 6
    shown_workspace(page)
    next_id = open_request_id(page)
    rows = requests_by_id()
    assert next_id != decided_id
    assert rows[decided_id].state == "closed_counterfeit"
    second = second_review_decision(decided_id)
    assert second.reviewer_id == senior_id and second.verdict == "counterfeit"
    first_point, *other_points = checklist_for(rows[decided_id].category)
    assert second.checklist[first_point] == "fail"  # set with the arrow key
    assert {second.checklist[point] for point in other_points} == {"pass"}
    assert rows[next_id].state == "claimed" and rows[next_id].claimed_by == senior_id
    assert rows[next_id].claimed_from == "awaiting_second_review"
    no_csp_violations(page)


def test_enter_pressed_twice_records_one_decision_and_opens_the_next(
        client, live_server, browser_page, staff):
    owner = register(client)
    for _ in range(2):
        pending_listing(client, owner)
    reviewer_id, email, password = staff("authenticator")
    page = browser_page
    sign_in(page, live_server, email, password)
    page.goto(f"{live_server}{QUEUE}")
    keys = Keyboard(page)
    keys.press_and_load("n")
    decided_id = open_request_id(page)
    keys.press("p")
    keys.press("a")
    with page.expect_navigation():
        page.keyboard.press("Enter")
        page.keyboard.press("Enter")
    page.wait_for_load_state("load")
    shown_workspace(page)
    assert page.locator("[data-testid=decision-error]").count() == 0
    next_id = open_request_id(page)
    rows = requests_by_id()
    assert rows[decided_id].state == "closed_authentic"
    assert rows[next_id].state == "claimed" and rows[next_id].claimed_by == reviewer_id
    s = db.session()
    try:
        assert len(s.scalars(select(ReviewDecision)).all()) == 1
    finally:
        db.session.remove()


def test_ctrl_enter_in_the_note_records_the_decision(client, live_server, browser_page, staff):
    owner = register(client)
    listing = pending_listing(client, owner)
    _, email, password = staff("authenticator")
    page = browser_page
    sign_in(page, live_server, email, password)
    page.goto(f"{live_server}{QUEUE}")
    keys = Keyboard(page)
    keys.press_and_load("n")
    keys.press("p")
    keys.press("a")
    keys.press("t")
    page.keyboard.type("zari consistent")  # typed letters stay in the note
    assert page.locator("input[name=verdict][value=authentic]").is_checked()
    keys.press_and_load("Control+Enter")
    assert page.url.endswith(QUEUE)  # nothing more to claim
    s = db.session()
    try:
        decided = s.scalars(select(AuthenticationRequest).where(
            AuthenticationRequest.listing_id == listing["id"])).one()
        assert decided.state == "closed_authentic"
    finally:
        db.session.remove()


def test_the_panel_lists_every_shortcut_and_escape_closes_it(
        client, live_server, browser_page, staff):
    owner = register(client)
    pending_listing(client, owner)
    _, email, password = staff("authenticator")
    page = browser_page
    page.add_init_script(WATCH_CSP)
    sign_in(page, live_server, email, password)
    page.goto(f"{live_server}{QUEUE}")
    assert declared_keys(page) == ["n"]
    assert_panel_lists_every_shortcut(page, "[data-testid=claim-first]")

    page.click("[data-testid=claim-first]")
    shown_workspace(page)
    for control in ("input[name=verdict]", "select[name=reason]", "textarea[name=note]",
                    "[data-testid=decide]", "[data-testid=decide-and-stop]",
                    "[data-testid=all-pass]"):
        for element in page.locator(control).all():
            assert element.get_attribute("data-key"), control
            assert element.get_attribute("aria-keyshortcuts"), control
    assert {"p", "a", "c", "m", "e", "Enter", "j", "k", "z", "r", "l"} <= set(declared_keys(page))
    assert_panel_lists_every_shortcut(page, "[data-testid=decide]")
    no_csp_violations(page)


def test_photo_keys_zoom_and_compare_with_the_references(
        client, live_server, browser_page, staff):
    owner = register(client)
    pending_listing(client, owner)
    _, email, password = staff("authenticator")
    page = browser_page
    sign_in(page, live_server, email, password)
    page.goto(f"{live_server}{QUEUE}")
    Keyboard(page).press_and_load("n")
    shown_workspace(page)
    current = page.locator("[data-photo].is-current")
    assert current.count() == 1
    photo_src = current.get_attribute("data-photo-src")

    page.keyboard.press("j")  # one photo: it stays the current one
    assert page.locator("[data-photo].is-current").get_attribute("data-photo-src") == photo_src
    page.keyboard.press("z")
    zoom = page.locator(f"#zoom-{current.get_attribute('data-photo')}")
    zoom.wait_for(state="visible")
    page.keyboard.press("Escape")
    zoom.wait_for(state="hidden")

    page.keyboard.press("r")
    compare = page.locator("[data-testid=compare]")
    compare.wait_for(state="visible")
    assert compare.locator("[data-compare-current]").get_attribute("src") == photo_src
    page.keyboard.press("r")
    compare.wait_for(state="hidden")
