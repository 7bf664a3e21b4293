"""Driving console pages with the keyboard alone, shared by the workspaces' browser tests."""
from __future__ import annotations


class Keyboard:
    """Presses keys on the page and counts them."""

    def __init__(self, page):
        self.page = page
        self.presses = 0

    def press(self, key: str) -> None:
        self.presses += 1
        self.page.keyboard.press(key)

    def press_and_load(self, key: str) -> None:
        """Press a key that opens another page, and wait until that page's scripts have
        run: a key pressed before they bind their shortcuts would do nothing."""
        with self.page.expect_navigation():
            self.press(key)
        self.page.wait_for_load_state("load")


def no_csp_violations(page) -> None:
    assert page.evaluate("window.__cspViolations || []") == []
    assert [e for e in page.csp_errors if "Content Security Policy" in e] == []


def declared_keys(page) -> list[str]:
    return page.eval_on_selector_all("[data-key]",
                                     "els => els.map(e => e.getAttribute('data-key'))")


def panel_keys(page) -> list[str]:
    return page.eval_on_selector_all("[data-testid=shortcuts-panel] kbd[data-shortcut-key]",
                                     "kbds => kbds.map(k => k.getAttribute('data-shortcut-key'))")


def assert_panel_lists_every_shortcut(page, focused: str | None = None) -> None:
    """`?` opens a modal panel listing every key the page declares, one control per key;
    Escape closes it and focus is back where it was (on `focused`, when given: not a text
    field; else nothing is focused)."""
    if focused:
        page.focus(focused)
    else:
        page.evaluate("document.activeElement && document.activeElement.blur()")
    page.keyboard.press("?")
    panel = page.locator("[data-testid=shortcuts-panel]")
    panel.wait_for(state="visible")
    assert panel.get_attribute("role") == "dialog"
    assert panel.get_attribute("aria-modal") == "true"
    assert "Keyboard shortcuts" in panel.inner_text()
    listed, declared = panel_keys(page), declared_keys(page)
    assert len(declared) == len(set(declared))
    assert sorted(listed) == sorted(declared)
    page.keyboard.press("Escape")
    panel.wait_for(state="hidden")
    if focused:
        assert page.evaluate(f"document.activeElement === document.querySelector('{focused}')")
