"""Every record page reads on a phone (390 px) and on a desktop without sideways scrolling: tables become
cards of "Column: value" lines under the breakpoint (CSS only), and a result's flag is a word beside an icon,
on screen. Pages with results are photographed at both widths for the README
(into docs/screenshots/ when UPDATE_SCREENSHOTS=1, else tests/browser/screenshots/)."""

import time

import pytest

from gateway.record_sections import all_sections
from gateway.store import disclosures as disclosure_store
from tests.browser.conftest import DOCS_SHOTS, LiveServer, assert_accessible, shot
from tests.browser.test_portal import log_in
from tests.portal_helpers import build_portal_db

DOCS = DOCS_SHOTS
WIDTHS = {"phone": 390, "desktop": 1280}
PORTAL_PAGES = ["/portal/history", "/portal/apps", "/portal/people", "/portal/download", "/portal/send"]

# Boxes wider than the window, and boxes that scroll sideways, anywhere on the page: [] when it reads.
OVERFLOW = """() => Array.from(document.querySelectorAll('body *')).filter(e => {
  const box = e.getBoundingClientRect(), style = getComputedStyle(e);
  const scrolls = ['auto', 'scroll'].includes(style.overflowX) && e.scrollWidth > e.clientWidth + 1;
  return (box.width > 0 && box.right > window.innerWidth + 0.5) || scrolls;
}).map(e => e.tagName.toLowerCase() + (e.className && e.className.baseVal === undefined ? '.' + e.className : ''))"""


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("results-live") / "live.db")
    db, summary = build_portal_db(path)
    # An operator's command-line token read four of Maria's items: the Access history has a row to lay out.
    maria = summary["patients"]["maria"]
    disclosure_store.insert_read(db, int(time.time() * 1000), maria, "cli", None, "Condition,Observation", 4)
    with LiveServer(path) as server:
        yield server


@pytest.fixture(params=list(WIDTHS))
def screen(request, browser):
    width = WIDTHS[request.param]
    phone = request.param == "phone"
    context = browser.new_context(viewport={"width": width, "height": 844 if phone else 900}, is_mobile=phone)
    page = context.new_page()
    page.size_name = request.param
    yield page
    context.close()


def assert_reads_without_sideways_scrolling(page, where):
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"], where
    assert page.evaluate(OVERFLOW) == [], where


def test_every_record_page_fits_the_screen(screen, live):
    log_in(screen, live)
    for path in ["/portal/records/"] + [f"/portal/records/{s.slug}" for s in all_sections()] + PORTAL_PAGES:
        screen.goto(live.url + path)
        assert screen.locator("h1").count() == 1, path
        assert_reads_without_sideways_scrolling(screen, path)
    screen.goto(f"{live.url}/portal/history")
    row = screen.locator("table.history tbody tr").first.inner_text()
    assert "Sunrise Family Medicine's system" in row and "read 4 items" in row
    photograph(screen, "access-history")
    screen.goto(f"{live.url}/portal/records/lab-results")
    screen.locator("table.labs th a", has_text="Hemoglobin A1c").first.click()
    screen.wait_for_url("**/lab-results/*")
    assert_reads_without_sideways_scrolling(screen, "a result with a trend")
    screen.goto(f"{live.url}/portal/records/vitals")
    screen.locator("ul.trends a").first.click()
    screen.wait_for_url("**/vitals/*")
    assert_reads_without_sideways_scrolling(screen, "a vital sign with a trend")


def test_the_flag_is_a_word_and_an_icon_on_screen(screen, live):
    log_in(screen, live)
    screen.goto(f"{live.url}/portal/records/lab-results")
    flag = screen.locator("tr", has=screen.locator("th a", has_text="Glucose")).first.locator(".flag")
    assert flag.inner_text().startswith("▲ High")
    box = flag.bounding_box()
    assert flag.is_visible() and box["x"] >= 0 and box["x"] + box["width"] <= screen.viewport_size["width"]
    assert_accessible(screen)
    photograph(screen, "lab-results")
    screen.locator("table.labs th a", has_text="Hemoglobin A1c").first.click()
    screen.wait_for_url("**/lab-results/*")
    assert screen.locator(".trend-chart svg[role=img]").is_visible()
    assert_accessible(screen)
    photograph(screen, "result-trend")
    screen.goto(f"{live.url}/portal/records/vitals")
    assert_accessible(screen)
    photograph(screen, "vitals")


def photograph(page, name):
    """Save the page's first screen for the README (DOCS_SHOTS) and the whole page beside the other
    browser-test shots."""
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS / f"{page.size_name}-{name}.png"))
    shot(page, f"results-{page.size_name}-{name}")
