"""The first visit after sign-up, walked as a person would in the demo set-up (no mail server): the email in
the demo outbox, its button, sign-up with mistakes, confirmation, login straight into verification, the
record's Overview; a lock; and the front desk's confirmation pages, email box and printable code.

Each key page is checked with axe-core and photographed at phone (390 px) and desktop width into
docs/screenshots/ (the README shows them) when UPDATE_SCREENSHOTS=1, else tests/browser/screenshots/.
"""

import re

import pytest
from playwright.sync_api import expect

from gateway import store
from gateway.store import enrollment as enrollment_store
from smart_auth import accounts, enrollment, verification
from smart_auth.enrollment import Context
from smart_auth.notify import Notifier
from tests.browser.conftest import DOCS_SHOTS, LiveServer, assert_accessible
from tests.enrollment_helpers import build, last_link

DOCS = DOCS_SHOTS
JOSE = "jose.r@example.com"


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("first") / "first.db")
    db = store.connect(path)
    build(db)
    with LiveServer(path, SECRET_KEY="test-secret", DEMO=True) as server:
        yield server, db


def both_widths(page, name):
    """Check the page and photograph it at desktop width and at 390 px (a phone), then back."""
    assert_accessible(page)
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    wide = page.evaluate(
        "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 391)"
        ".map(e => e.tagName + '.' + e.className + ' ' + e.getBoundingClientRect().right).slice(0, 5)"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, f"{name} scrolls sideways at 390 px: {wide}"
    assert_accessible(page)
    page.screenshot(path=str(DOCS / f"{name}-390.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def site(server, db):
    """The enrollment context of the live server (its links lead to it)."""
    return Context(db, "test-secret", server.url, Notifier(db, {}))


def invite_jose(server, db):
    person = {"relation": "self", "email": "jose@example.com", "phone": "555-010-0001"}
    return enrollment.invite_people(site(server, db), store.chart_row(db, "patients", 1), [person], "staff t")[0]


def test_the_first_visit_after_sign_up(browser, demo):
    server, db = demo
    made = invite_jose(server, db)
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()

    # The invitation, as the demo outbox shows it: the email's own HTML, with its orange button.
    page.goto(f"{server.url}/portal/outbox")
    email = page.frame_locator("iframe.email-html").first
    assert email.get_by_role("link", name="Access your records").is_visible()
    both_widths(page, "first-visit-1-outbox")
    page.set_viewport_size({"width": 320, "height": 700})
    frame = page.frames[1]
    assert frame.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
    page.set_viewport_size({"width": 1280, "height": 900})
    email.get_by_role("link", name="Access your records").click()
    page.wait_for_url(re.compile(r"/portal/invite/"))

    # Sign-up with two mistakes: focus lands on the summary; each field says what is wrong with it.
    page.get_by_role("link", name="Sign up").click()
    page.get_by_label("Your name").fill("José Ramírez")
    page.get_by_label("Email (your username)").fill("jose.r@example")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_role("button", name="Sign up").click()
    # autofocus runs when the page first renders, with no script of ours (HTML "the autofocus attribute").
    # expect() polls from Playwright's own world: a string wait_for_function is eval()ed in the page, which the
    # pages' CSP (script-src 'self', no 'unsafe-eval') refuses whenever the first check is not already true.
    expect(page.locator("#form-errors")).to_be_focused(timeout=5000)
    assert page.get_by_label("Password", exact=True).get_attribute("aria-invalid") == "true"
    assert "The password needs an uppercase letter." in page.locator("#password-error").inner_text()
    both_widths(page, "first-visit-2-signup-errors")
    page.get_by_role("link", name="Enter an email address like name@example.com.").click()
    assert page.evaluate("document.activeElement.id") == "email"
    page.get_by_label("Email (your username)").fill(JOSE)
    page.get_by_label("Password", exact=True).fill("Jose-Pass1")
    page.get_by_role("button", name="Sign up").click()
    assert page.locator("h1").inner_text() == "Your account is almost ready"

    # Confirm the address from the outbox, log in: straight to "Verify your identity".
    page.goto(f"{server.url}/portal/outbox")
    page.frame_locator("iframe.email-html").first.get_by_role("link", name="Confirm my account").click()
    page.wait_for_url(re.compile(r"/portal/login"))
    page.get_by_label("Email").fill(JOSE)
    page.get_by_label("Password").fill("Jose-Pass1")
    page.get_by_role("button", name="Log in").click()
    assert page.locator("h1").inner_text() == "Verify your identity"
    assert page.url.endswith(f"/portal/verify/{made['uid']}")
    assert "ABCD-1234" in page.locator("#pin-hint").inner_text()
    both_widths(page, "first-visit-3-verify")

    # The access code links the record and lands on its Overview.
    page.get_by_label("Access code (PIN) from your practice").fill(made["pin"])
    page.get_by_role("button", name="Verify with the code").click()
    assert page.locator("h1").inner_text() == "Your record"
    assert "Your account is now linked to the record at Test Practice" in page.content()
    both_widths(page, "first-visit-4-overview")


def test_a_locked_invitation_says_the_practice_must_re_invite(browser, demo):
    server, db = demo
    made = invite_jose(server, db)
    holder = accounts.create_account(db, "locked.first@example.com", "Secret-Pass1", confirmed=True)
    verification.claim_invite(site(server, db), last_link(db), holder)
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{server.url}/portal/login")
    page.get_by_label("Email").fill("locked.first@example.com")
    page.get_by_label("Password").fill("Secret-Pass1")
    page.get_by_role("button", name="Log in").click()
    for _ in range(verification.MAX_FAILURES):
        page.get_by_label("Access code (PIN) from your practice").fill("WXYZ-2222")
        page.get_by_role("button", name="Verify with the code").click()
    assert page.locator("h1").inner_text() == "This invitation is locked"
    both_widths(page, "first-visit-5-locked")
    page.get_by_role("link", name="Go to your account").click()
    assert "Test Practice must re-invite you" in page.locator("main").inner_text()
    assert page.locator(f'a[href$="/portal/verify/{made["uid"]}"]').count() == 0
    both_widths(page, "first-visit-6-home-locked")


def test_the_front_desk_asks_first_fits_the_email_and_prints_the_code(browser, demo):
    server, db = demo
    invite_jose(server, db)
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{server.url}/practice/login")
    page.get_by_label("Email").fill("desk@example.com")
    page.get_by_label("Password").fill("Desk-Pass1")
    page.get_by_role("button", name="Log in").click()

    page.goto(f"{server.url}/practice/patients/pat-1/invite")
    box = page.get_by_label("Email").first
    box.fill("maria.garcia-lopez@example.com")
    assert box.evaluate("e => e.scrollWidth <= e.clientWidth"), "a normal address does not fit the email box"
    both_widths(page, "front-desk-1-invite-form")

    page.goto(f"{server.url}/practice/patients/pat-1")
    page.get_by_role("link", name=re.compile("^Cancel invite")).first.click()
    assert page.locator("h1").inner_text() == "Cancel the invitation of jose@example.com?"
    both_widths(page, "front-desk-2-cancel-confirm")
    page.get_by_role("link", name="Keep the invitation").click()
    open_invites = [i for i in enrollment_store.invites_of_patient(db, 1) if i["status"] == "invited"]
    assert open_invites

    page.get_by_role("link", name=re.compile("^Print")).first.click()
    assert page.locator("h1").inner_text() == "Patient portal access code for José Ramírez"
    assert page.get_by_role("button", name="Print this page").is_visible()
    both_widths(page, "front-desk-3-print")
