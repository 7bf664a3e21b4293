"""Disputes and the duplicates review with the keyboard alone, in a real browser.

Disputes: from the queue page, `n` claims and opens the next case, a digit chooses the
outcome (its first reason preselected), and Enter records it and opens the next case of the
review queue, already claimed.  Duplicates: `j` / `k` move between groups, `c` confirms the
current group, `u` undoes it.  On each page `?` lists every declared shortcut."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from disputes.models import DisputeCase
from foundation import db
from tests.browser.keyboard import (
    Keyboard,
    assert_panel_lists_every_shortcut,
    declared_keys,
    no_csp_violations,
)
from tests.browser.sweep import WATCH_CSP, sign_in
from tests.builders.cases import cases_under_review
from tests.builders.listings import post_listing
from tests.builders.members import register
from tests.builders.photos import photo_bytes
from tests.vision.support import flags, run_vision_jobs, with_pipeline
from vision.index_store import forget_cached_index
from vision.models import FlagStatus

pytestmark = pytest.mark.browser

DISPUTES = "/console/disputes/"
DUPLICATES = "/console/vision_duplicates/"


def cases_by_id() -> dict[int, DisputeCase]:
    s = db.session()
    try:
        return {c.id: c for c in s.scalars(select(DisputeCase))}
    finally:
        db.session.remove()


def open_case_id(page) -> int:
    return int(page.url.rstrip("/").rsplit("/", 1)[1])


# --- disputes -------------------------------------------------------------------------------

def test_a_dispute_decision_takes_three_keys_from_the_queue_and_opens_the_next(
        live_server, browser_page, staff):
    cases_under_review(2)
    agent_id, email, password = staff("support_agent")
    page = browser_page
    page.add_init_script(WATCH_CSP)
    sign_in(page, live_server, email, password)
    page.goto(f"{live_server}{DISPUTES}")
    keys = Keyboard(page)

    keys.press_and_load("n")
    page.wait_for_selector("[data-testid=decision-form]")
    decided_id = open_case_id(page)
    keys.press("2")  # refund without return, its first reason chosen
    assert page.locator("select[name=reason]").input_value() == "missing_item"
    keys.press_and_load("Enter")

    assert keys.presses == 3
    page.wait_for_selector("[data-testid=decision-form]")
    next_id = open_case_id(page)
    assert next_id != decided_id
    assert "refund without return recorded" in page.content()
    rows = cases_by_id()
    assert rows[decided_id].state == "closed_refunded"
    assert rows[next_id].state == "claimed" and rows[next_id].claimed_by == agent_id
    no_csp_violations(page)


def test_outcome_keys_fill_their_defaults_and_ctrl_enter_records_a_question(
        live_server, browser_page, staff):
    (case_id,) = cases_under_review(1)
    _, email, password = staff("support_agent")
    page = browser_page
    sign_in(page, live_server, email, password)
    page.goto(f"{live_server}{DISPUTES}")
    Keyboard(page).press_and_load("n")
    page.wait_for_selector("[data-testid=decision-form]")

    page.keyboard.press("3")  # a split: half the held amount, its first reason
    assert page.locator("input[name=outcome][value=split]").is_checked()
    assert page.locator("select[name=reason]").input_value() == "minor_damage"
    assert page.locator("input[name=refund_rupees]").input_value() == "789.50"
    page.keyboard.press("5")  # request information: the buyer, the note focused
    assert page.locator("select[name=reason]").input_value() == "need_buyer_photos"
    assert page.locator("select[name=info_from]").input_value() == "buyer"
    assert page.locator("input[name=refund_rupees]").input_value() == ""  # refunds nothing
    page.keyboard.type("Please photograph the tear in daylight.")
    with page.expect_navigation():
        page.keyboard.press("Control+Enter")

    assert page.url.endswith(DISPUTES)  # no other case to open
    assert cases_by_id()[case_id].state == "awaiting_info"


def test_the_disputes_panel_lists_every_shortcut(live_server, browser_page, staff):
    cases_under_review(1)
    _, email, password = staff("support_agent")
    page = browser_page
    page.add_init_script(WATCH_CSP)
    sign_in(page, live_server, email, password)
    page.goto(f"{live_server}{DISPUTES}")
    assert declared_keys(page) == ["n", "r"]
    assert_panel_lists_every_shortcut(page)

    with page.expect_navigation():
        page.click("[data-testid=claim-first]")
    page.wait_for_load_state("load")
    page.wait_for_selector("[data-testid=decision-form]")
    for control in page.locator("[data-testid=decision-form] :is(input:not([type=hidden]), "
                                "select, textarea, button)").all():
        assert control.get_attribute("data-key"), control.get_attribute("name")
        assert control.get_attribute("aria-keyshortcuts"), control.get_attribute("name")
    assert {"1", "2", "3", "4", "5", "6", "Enter", "q", "b", "x", "l"} <= set(declared_keys(page))
    assert_panel_lists_every_shortcut(page)
    no_csp_violations(page)


# --- duplicates -----------------------------------------------------------------------------

@pytest.fixture
def settings(settings):
    """The vision pipeline runs on upload here, to flag the copies."""
    return with_pipeline(settings)


@pytest.fixture
def two_groups(client):
    """Two owners' listings, each with a thief's copy of its photo: two groups of flags."""
    forget_cached_index()
    groups = []
    for product, edit in ((0, "pad_20"), (3, "crop_10")):
        owner, thief = register(client), register(client)
        original = post_listing(client, owner, photo_bytes(product))
        post_listing(client, thief, photo_bytes(product, edit))
        groups.append(original["id"])
    run_vision_jobs()
    assert {f.group_id for f in flags()} == set(groups)
    yield sorted(groups, reverse=True)  # the page shows the newest group first
    forget_cached_index()


def statuses_by_group() -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for flag in flags():
        found.setdefault(flag.group_id, set()).add(flag.status)
    return found


def test_a_group_is_confirmed_with_one_key_and_undone_with_one(
        live_server, browser_page, staff, two_groups):
    first, second = two_groups
    _, email, password = staff("fraud_analyst")
    page = browser_page
    page.add_init_script(WATCH_CSP)
    sign_in(page, live_server, email, password)
    page.goto(f"{live_server}{DUPLICATES}")
    current = "section.vision-group-current"
    assert page.get_attribute(current, "data-testid") == f"group-{first}"
    keys = Keyboard(page)

    keys.press("j")
    assert page.get_attribute(current, "data-testid") == f"group-{second}"
    keys.press("k")
    keys.press("j")
    keys.press_and_load("c")

    assert statuses_by_group() == {first: {FlagStatus.OPEN}, second: {FlagStatus.CONFIRMED}}
    page.wait_for_selector("[data-testid=undo]")
    assert page.locator(f"[data-testid=group-{second}]").count() == 0

    keys.press_and_load("u")

    assert keys.presses == 5
    assert statuses_by_group() == {first: {FlagStatus.OPEN}, second: {FlagStatus.OPEN}}
    assert page.locator("[data-testid=undo]").count() == 0
    assert page.locator(f"[data-testid=group-{second}]").count() == 1
    assert_panel_lists_every_shortcut(page)
    assert {"j", "k", "c", "d"} <= set(declared_keys(page))
    no_csp_violations(page)
