"""Check-in in a real browser: the link form works without the camera (and without JavaScript), and where the
browser has BarcodeDetector and a camera, scanning the QR code fills the link in; the records of a link served by
a second real server then show beside the chart."""

import pytest
from playwright.sync_api import expect

from fixtures.demo_practice import uid
from tests.browser.conftest import LiveServer, assert_accessible, shot
from tests.gateway.test_health_link_reader import LinkServer
from tests.health_link_helpers import make_link, new_key
from tests.portal_helpers import build_portal_db

MARIA = uid("patients", "maria")
# A camera and a QR reader for the page: a canvas stream stands in for the camera, and a detector that "sees" the
# link once the video plays (headless Chromium on Linux has neither).
FAKE_SCANNER = """
window.BarcodeDetector = class {
  constructor(options) { this.formats = options.formats; }
  async detect(video) { return video.readyState >= 2 ? [{ rawValue: window.__shlink, format: "qr_code" }] : []; }
};
navigator.mediaDevices.getUserMedia = async () => {
  const canvas = document.createElement("canvas");
  canvas.getContext("2d").fillRect(0, 0, 10, 10);
  return canvas.captureStream(5);
};
"""


@pytest.fixture(scope="module")
def console(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("bring") / "bring.db")
    build_portal_db(path)
    with LiveServer(path, SECRET_KEY="test-secret") as server:
        yield server


def log_in(page, server):
    page.goto(f"{server.url}/practice/login")
    page.get_by_label("Email").fill("frontdesk@sunrisefamily.example.org")
    page.get_by_label("Password").fill("Practice-Demo-1")
    page.get_by_role("button", name="Log in").click()


def test_without_a_qr_reader_the_link_is_pasted(page, console):
    page.add_init_script("delete window.BarcodeDetector;")
    log_in(page, console)
    page.goto(f"{console.url}/practice/patients/{MARIA}")
    page.locator("summary", has_text="Actions").click()
    page.get_by_role("link", name="Read a SMART Health Link the patient brings").click()
    assert page.locator("#scan").is_hidden()
    assert_accessible(page)
    page.get_by_label("SMART Health Link (paste it, or scan its QR code)").fill("not a link")
    page.get_by_role("button", name="Read the link").click()
    assert "This is not a SMART Health Link." in page.locator("[role=alert]").inner_text()
    shot(page, "practice-bring-error")


def test_scanning_the_qr_code_fills_the_link_and_the_records_show_beside_the_chart(page, console):
    key = new_key()
    link_server = LinkServer(key)
    try:
        link = make_link(key, url=link_server.url)
        page.add_init_script(f"window.__shlink = {link!r};" + FAKE_SCANNER)
        log_in(page, console)
        page.goto(f"{console.url}/practice/patients/{MARIA}/bring")
        page.get_by_role("button", name="Scan the QR code with the camera").click()
        expect(page.locator("#link")).to_have_value(link)
        assert page.locator("#scan-status").inner_text() == (
            "Link scanned. Add the passcode if there is one, then read the link."
        )
        page.get_by_role("button", name="Read the link").click()
        assert page.get_by_role("heading", name="From 127.0.0.1: “Records of Alex”").is_visible()
        assert page.locator(".badge.new").all_inner_texts() == ["New: not in our chart", "New: not in our chart"]
        assert_accessible(page)
        shot(page, "practice-bring-reconcile")
        assert [r[0] for r in link_server.requests] == ["POST", "GET"]
    finally:
        link_server.close()
