import os

import pytest

pytestmark = pytest.mark.browser


def test_staff_member_signs_in_and_sees_the_console_home(live_server, browser_page, staff):
    _, email, password = staff("admin")
    page = browser_page
    page.goto(f"{live_server}/console/")
    assert "/console/auth/sign-in" in page.url
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    assert page.locator(".alert-danger").inner_text().startswith("That email and password")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=console-home]")
    assert page.locator("[data-testid=signed-in-as]").inner_text().endswith("admin")
    assert page.locator("nav").get_by_text("Admin").count() >= 1
    violations = [e for e in page.csp_errors if "Content Security Policy" in e]
    assert violations == []
    if os.environ.get("CONSOLE_SCREENSHOT"):
        page.screenshot(path=os.environ["CONSOLE_SCREENSHOT"], full_page=True)
    page.click("text=Sign out")
    page.wait_for_selector("text=You are signed out.")
