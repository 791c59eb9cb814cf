"""The pages under their Content-Security-Policy in a real browser: nothing is blocked, styles still apply."""

import pytest

from tests.browser.conftest import LiveServer
from tests.portal_helpers import build_portal_db


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("policy-live") / "live.db")
    build_portal_db(path)
    with LiveServer(path) as server:
        yield server


@pytest.fixture
def blocked(page):
    """What Chromium reports as refused by the policy, as the pages load."""
    refused = []
    page.on("console", lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None)
    return refused


def test_pages_load_their_style_sheet_and_nothing_is_refused(page, live, blocked):
    for path in ("/", "/portal/login", "/portal/signup", "/portal/forgot", "/practice/login"):
        response = page.goto(f"{live.url}{path}")
        assert response.headers["content-security-policy"].startswith("default-src 'self'")
        # style.css gives the site header its brand colour; the browser default would be transparent
        assert page.locator("header.site").evaluate("e => getComputedStyle(e).backgroundColor") != "rgba(0, 0, 0, 0)"
    page.get_by_label("Email").fill("maria.garcia@example.com")
    page.get_by_label("Password").fill("Portal-Demo-1")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live.url}/portal/download")
    assert blocked == []


def test_the_printable_summary_opened_in_the_browser_keeps_its_inline_style(page, live, blocked):
    page.goto(f"{live.url}/portal/login")
    page.get_by_label("Email").fill("maria.garcia@example.com")
    page.get_by_label("Password").fill("Portal-Demo-1")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live.url}/portal/download")
    page.get_by_label("Printable summary (web page)").check()
    page.get_by_role("button", name="Open in the browser").click()
    assert page.locator("h1").inner_text().startswith("Health summary of Maria Garcia")
    assert page.locator("table").first.evaluate("e => getComputedStyle(e).borderCollapse") == "collapse"
    assert blocked == []
