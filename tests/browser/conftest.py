"""Browser tests: the app served on loopback by a real HTTP server, driven by Debian's Chromium via Playwright.

Screenshots of each page land in tests/browser/screenshots/ (ignored by git) for review.
"""

import os
import pathlib
import threading

import pytest
from werkzeug.serving import make_server

from tests.apps import build_app

CHROMIUM = os.environ.get("GATEWAY_TEST_CHROMIUM", "/usr/bin/chromium")
SHOTS = pathlib.Path(__file__).parent / "screenshots"
# The README's screenshots are rewritten only when asked (UPDATE_SCREENSHOTS=1 make browser-test): a plain test
# run must not change committed files. Otherwise they land with the other shots, ignored by git.
DOCS_SHOTS = (
    pathlib.Path(__file__).parents[2] / "docs" / "screenshots" if os.environ.get("UPDATE_SCREENSHOTS") else SHOTS
)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


class LiveServer:
    """A threaded WSGI server on a free loopback port, serving the app for one database."""

    def __init__(self, db_path, **config):
        # Bind first, so the app can be told its own base URL (OAuth audiences and links depend on it).
        self.server = make_server("127.0.0.1", 0, None, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.server.app = build_app(db_path, **{"BASE_URL": self.url, **config})
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    yield page
    context.close()


def shot(page, name):
    """Save a full-page screenshot for review."""
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def assert_accessible(page):
    """Run axe-core on the page and fail on serious or critical findings (WCAG 2.1 AA rules)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(
        page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}
    )
    bad = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
    assert not bad, "\n".join(f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)" for v in bad)
