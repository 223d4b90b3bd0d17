"""Headless Chromium walks the console as a person would: log in, the tree, a memory, a diff
of two versions, a version conflict from another tab, a search, a failed session's retry, a
dead letter's retry; each page is photographed (docs/screenshots/run/)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait

from ogmem.core.models import EventStatus, RequestContext
from tests.browser.conftest import Console, screenshot


def _log_in(driver: Any, console: Console) -> None:
    driver.get(f"{console.base}/ui/tree")
    if driver.find_elements(By.ID, "key"):
        screenshot(driver, "login")
        driver.find_element(By.ID, "key").send_keys(console.key)
        driver.find_element(By.ID, "login").click()
    WebDriverWait(driver, 30).until(ready.title_contains("Tree"))


def _navigate(driver: Any, element: Any) -> None:
    """Click a link or a form's button and wait for the next page: reading an element right
    after the click could find it on the page being left (a stale element)."""
    leaving = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 30).until(lambda _: _left(leaving))


def _left(element: Any) -> bool:
    """Whether ``element``'s page is gone. Chromium says so with a stale element, or, caught
    while the new document replaces the old, with "does not belong to the document"."""
    try:
        element.is_enabled()
    except StaleElementReferenceException:
        return True
    except WebDriverException as exc:
        if "does not belong to the document" in str(exc):
            return True
        raise
    return False


def _open(driver: Any, console: Console, page: str) -> None:
    driver.get(f"{console.base}/ui/{page}")


def _text(driver: Any) -> str:
    return str(driver.find_element(By.TAG_NAME, "main").text)


def test_tree_then_a_memory_then_a_diff_of_two_versions(browser: Any, console: Console) -> None:
    _log_in(browser, console)
    for name in ("users", "alice", "memories"):
        _navigate(browser, browser.find_element(By.LINK_TEXT, f"{name}/"))
    assert "preference" in _text(browser)
    screenshot(browser, "tree")
    _navigate(browser, browser.find_element(By.LINK_TEXT, "preferences/"))
    _navigate(browser, browser.find_element(By.PARTIAL_LINK_TEXT, "editor"))
    assert browser.find_element(By.ID, "version").text == "2"
    assert "neovim at home" in _text(browser)
    browser.find_element(By.CSS_SELECTOR, 'input[name="a"][value="1"]').click()
    browser.find_element(By.CSS_SELECTOR, 'input[name="b"][value="2"]').click()
    _navigate(browser, browser.find_element(By.ID, "compare"))
    diff = browser.find_element(By.ID, "diff")
    assert "version 1" in diff.text and "neovim at home" in diff.text
    assert browser.find_elements(By.CSS_SELECTOR, "#diff .diff_add, #diff .diff_chg")
    browser.execute_script("arguments[0].scrollIntoView()", browser.find_element(By.ID, "compare"))
    screenshot(browser, "memory")


def test_archive_meets_the_change_another_tab_made_first(browser: Any, console: Console) -> None:
    _log_in(browser, console)
    page = f"memory?uri={quote(console.seeded.hike_uri)}"
    _open(browser, console, page)
    first_tab = browser.current_window_handle
    assert browser.find_element(By.ID, "version").text == "1"
    browser.switch_to.new_window("tab")
    _open(browser, console, page)
    _navigate(browser, browser.find_element(By.ID, "archive"))  # the other tab archives it first
    assert browser.find_element(By.ID, "status").text == "archived"
    browser.close()
    browser.switch_to.window(first_tab)
    _navigate(browser, browser.find_element(By.ID, "archive"))  # this tab still shows version 1
    conflict = browser.find_element(By.ID, "conflict")
    assert "version 1" in conflict.text and "version 2" in conflict.text
    assert browser.find_element(By.ID, "status").text == "archived"
    screenshot(browser, "conflict")
    _navigate(browser, browser.find_element(By.ID, "restore"))
    assert browser.find_element(By.ID, "status").text == "active"


def test_search_shows_hits_why_and_the_compose_block(browser: Any, console: Console) -> None:
    _log_in(browser, console)
    _open(browser, console, "search")
    browser.find_element(By.ID, "q").send_keys("which editor does alice use")
    _navigate(browser, browser.find_element(By.ID, "run-search"))
    hits = browser.find_element(By.ID, "hits")
    assert "Prefers vim" in hits.text
    assert "tokens" in browser.find_element(By.ID, "tokens").text
    screenshot(browser, "search")


def test_retry_a_failed_session(browser: Any, console: Console) -> None:
    _log_in(browser, console)
    _open(browser, console, "sessions")
    assert "LLM timed out" in _text(browser)
    screenshot(browser, "sessions")
    _navigate(browser, browser.find_element(By.CSS_SELECTOR, "button.retry-session"))
    assert "commit of s-broken queued" in browser.find_element(By.CLASS_NAME, "notice").text
    ctx = RequestContext("acme", "alice")
    WebDriverWait(browser, 20).until(
        lambda _: console.engine.session("s-broken", ctx).status.value == "committed"
    )


def test_retry_a_dead_letter(browser: Any, console: Console) -> None:
    _log_in(browser, console)
    _open(browser, console, "queue")
    assert "summary model unreachable" in browser.find_element(By.ID, "dead").text
    screenshot(browser, "queue")
    _navigate(browser, browser.find_element(By.CSS_SELECTOR, "button.retry-event"))
    assert "queued again" in browser.find_element(By.CLASS_NAME, "notice").text
    assert "no dead letters" in browser.find_element(By.ID, "dead").text
    assert not console.engine.outbox_events(RequestContext("acme", "-"), EventStatus.DLQ)


def test_overview_and_a_narrow_screen(browser: Any, console: Console) -> None:
    _log_in(browser, console)
    _open(browser, console, "overview")
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.chart")) >= 2
    screenshot(browser, "overview")
    browser.set_window_size(390, 800)
    try:
        _open(browser, console, f"memory?uri={quote(console.seeded.editor_uri)}")
        overflow = browser.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 1, f"the page is {overflow} px wider than a phone's screen"
        screenshot(browser, "memory-narrow")
    finally:
        browser.set_window_size(1000, 760)
