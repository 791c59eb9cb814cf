"""The whole enrollment journey in headless Chromium, against a real HTTP server, a real SMTP server
(aiosmtpd) and a mocked SMS provider (responses patches requests inside this process, server thread included).

Staff at Sunrise invite David and, for seven-year-old Sofia, her mother Maria; David signs up, confirms from
the email and verifies with the PIN; Maria, who already has an account, logs in from the invitation, verifies
by SMS code and switches between her record and Sofia's; then Lakeside invites David, who links with
Lakeside's PIN. Every page is checked with axe-core and photographed into tests/browser/screenshots/.
"""

import datetime as dt
import re
import time
from urllib.parse import parse_qs

import pytest
import responses

from fixtures import demo_practice
from gateway import store
from smart_auth import accounts
from tests.browser.conftest import LiveServer, assert_accessible, shot
from tests.smtp_server import Inbox, SmtpServer

SMS_URL = "https://sms.example/2010-04-01/Accounts/AC1/Messages.json"
MARIA, DAVID = "maria.garcia@example.com", "david.thompson@example.net"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("enroll") / "enroll.db")
    db = store.connect(path)
    summary = demo_practice.load(db, dt.date.today())
    practices, providers = summary["practice_ids"], summary["provider_ids"]
    accounts.create_staff(
        db, "desk@sunrise.example", "Desk-Pass1", "Sunrise desk", practices["sunrise"], providers["patel"]
    )
    accounts.create_staff(db, "desk@lakeside.example", "Desk-Pass2", "Lakeside desk", practices["lakeside"])
    maria = accounts.create_account(db, MARIA, "Maria-Pass1", name="Maria Garcia", confirmed=True)
    accounts.link_account_to_chart(db, maria["id"], summary["patient_ids"]["maria"], "self")
    sms = {"SMS_URL": SMS_URL, "SMS_SID": "AC1", "SMS_TOKEN": "tok", "SMS_FROM": "+15550000000"}
    with SmtpServer() as smtp, responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru("http://127.0.0.1")
        mock.post(SMS_URL, json={"sid": "SM1"}, status=201)
        with LiveServer(path, SECRET_KEY="browser-secret", **smtp.config, **sms) as server:
            yield server, smtp.inbox, mock


def texts_sent(sms, timeout=5):
    """The SMS provider's requests, waiting for the sender thread that delivers them after the response."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sent = [c.request for c in sms.calls if c.request.url == SMS_URL]
        if sent:
            return sent
        time.sleep(0.05)
    raise AssertionError("no text message was sent")


def visit(page, name):
    """Every page of the journey: accessible, and photographed."""
    assert_accessible(page)
    shot(page, name)


def link_in(message, path):
    return re.search(rf"https?://\S+{re.escape(path)}\S+", Inbox.text_of(message)).group(0)


def staff_login(page, url, email, password):
    page.goto(f"{url}/practice/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def access_code(page):
    return page.locator("code.pin").first.inner_text()


def portal_login(page, email, password):
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_the_enrollment_journey(browser, world):
    server, inbox, sms = world
    url = server.url
    desk = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    staff_login(desk, url, "desk@sunrise.example", "Desk-Pass1")
    assert "Invite to patient portal" in desk.content()
    visit(desk, "practice-patient-list")

    # Staff invite David from the status link in his chart header.
    desk.get_by_role("link", name="Thompson, David").click()
    visit(desk, "practice-chart-not-invited")
    desk.locator("a.status-link").click()
    assert desk.get_by_label("Email", exact=True).input_value() == DAVID
    assert desk.get_by_label("Phone", exact=True).input_value() == "(510) 555-0163"
    visit(desk, "practice-invite-form")
    desk.get_by_role("button", name="Invite", exact=True).click()
    assert "Confirm: invite to the patient portal" in desk.content()
    visit(desk, "practice-invite-confirm")
    desk.get_by_role("button", name="Invite", exact=True).click()
    david_pin = access_code(desk)
    assert len(david_pin.replace("-", "")) == 8
    visit(desk, "practice-chart-invited")
    desk.get_by_role("link", name=re.compile("^Print")).click()
    assert david_pin in desk.content()
    visit(desk, "practice-access-code-print")

    # ... and Maria for Sofia, from the Actions menu: add a row for the parent, remove the child's own row.
    desk.goto(f"{url}/practice/")
    desk.get_by_role("link", name="Garcia, Sofia").click()
    desk.locator("summary", has_text="Actions").click()
    visit(desk, "practice-actions-menu")
    desk.get_by_role("link", name="Invite to patient portal").first.click()
    desk.get_by_role("button", name="Add users").click()
    visit(desk, "practice-invite-add-users")
    desk.locator("#relation-1").select_option("parent")
    desk.locator("#email-1").fill(MARIA)
    desk.locator("#phone-1").fill("(916) 555-0142")
    desk.get_by_role("button", name="Remove the patient").click()
    assert desk.locator("#email-0").input_value() == MARIA
    desk.get_by_role("button", name="Invite", exact=True).click()
    assert "Parent" in desk.locator("table").inner_text()
    desk.get_by_role("button", name="Invite", exact=True).click()
    assert "Parent" in desk.locator("#portal-access").inner_text()

    # David: the invitation email (no PIN in it), sign-up, confirmation email, login, PIN.
    david = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    [invite_mail] = inbox.wait_for(DAVID)
    assert david_pin not in invite_mail.as_string() and david_pin.replace("-", "") not in invite_mail.as_string()
    david.goto(link_in(invite_mail, "/portal/invite/"))
    visit(david, "portal-invite-landing")
    david.get_by_role("link", name="Sign up").click()
    visit(david, "portal-signup")
    david.get_by_label("Your name").fill("David Thompson")
    david.get_by_label("Email (your username)").fill(DAVID)
    david.get_by_label("Password").fill("weak")
    david.get_by_role("button", name="Sign up").click()
    assert "The password needs an uppercase letter." in david.locator("#form-errors").inner_text()
    visit(david, "portal-signup-errors")
    david.get_by_label("Password").fill("David-Pass1")
    david.get_by_role("button", name="Sign up").click()
    assert "Your account is almost ready" in david.content()
    visit(david, "portal-signup-done")
    confirm_mail = inbox.wait_for(DAVID, count=2)[1]
    assert "Confirm my account" in Inbox.text_of(confirm_mail)
    david.goto(link_in(confirm_mail, "/portal/confirm/"))
    assert "Your email address is confirmed" in david.content()
    visit(david, "portal-login-after-confirm")
    portal_login(david, DAVID, "David-Pass1")
    assert david.locator("h1").inner_text() == "Verify your identity"  # straight there, as the article orders
    visit(david, "portal-verify")
    david.get_by_label("Access code (PIN) from your practice").fill("WRONG-PIN")
    david.get_by_role("button", name="Verify with the code").click()
    assert "4 tries left" in david.locator("#form-errors").inner_text()
    visit(david, "portal-verify-wrong-pin")
    david.get_by_label("Access code (PIN) from your practice").fill(david_pin.lower())
    david.get_by_role("button", name="Verify with the code").click()
    assert "Viewing the record of David Thompson" in david.locator(".record-banner").inner_text()
    assert david.locator("h1").inner_text() == "Your record"  # the record's Overview
    visit(david, "portal-home-linked")
    david.goto(f"{url}/portal/profile")
    assert "Black or African American" in david.content() and "Not Hispanic or Latino" in david.content()
    visit(david, "portal-profile")
    david.goto(f"{url}/portal/settings")
    visit(david, "portal-settings")

    # Maria already has an account: she logs in from the invitation and verifies by SMS code.
    maria = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    [maria_mail] = inbox.wait_for(MARIA)
    maria.goto(link_in(maria_mail, "/portal/invite/"))
    maria.get_by_role("link", name="Log in", exact=True).last.click()
    portal_login(maria, MARIA, "Maria-Pass1")
    assert "/portal/verify/" in maria.url
    maria.get_by_label("The phone number your practice has on file").fill("916-555-0142")
    maria.get_by_role("button", name="Text me a code").click()
    visit(maria, "portal-verify-code-sent")
    [text_message] = texts_sent(sms)
    fields = parse_qs(text_message.body)
    assert fields["To"] == ["(916) 555-0142"]
    code = re.search(r"\b(\d{6})\b", fields["Body"][0]).group(1)
    maria.get_by_label("Security code from the text message").fill(code)
    maria.get_by_role("button", name="Verify with the text code").click()
    banner = maria.locator(".record-banner").inner_text()
    assert "Sofia Garcia" in banner and "you are their parent" in banner
    visit(maria, "portal-parent-linked")
    maria.get_by_label("Switch record").select_option(label="Maria Garcia · Sunrise Family Medicine")
    maria.get_by_role("button", name="Show").click()
    assert "Viewing the record of Maria Garcia" in maria.locator(".record-banner").inner_text()
    sofia = maria.get_by_label("Switch record").locator("option", has_text="Sofia Garcia").inner_text()
    maria.get_by_label("Switch record").select_option(label=sofia)
    maria.get_by_role("button", name="Show").click()
    assert "Sofia Garcia" in maria.locator(".record-banner").inner_text()
    visit(maria, "portal-parent-switched-to-child")

    # Sunrise's chart now shows both as active.
    desk.goto(f"{url}/practice/")
    assert desk.locator("tr", has_text="Thompson, David").locator("td").nth(3).inner_text().startswith("Active")
    assert "Parent maria.garcia@example.com: Active" in desk.locator("tr", has_text="Garcia, Sofia").inner_text()
    visit(desk, "practice-patient-list-active")

    # Lakeside invites the same David; he links his existing account with Lakeside's PIN.
    lakeside = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    staff_login(lakeside, url, "desk@lakeside.example", "Desk-Pass2")
    lakeside.get_by_role("link", name="Thompson, David").click()
    lakeside.locator("a.status-link").click()
    lakeside.get_by_role("button", name="Invite", exact=True).click()
    lakeside.get_by_role("button", name="Invite", exact=True).click()
    lakeside_pin = access_code(lakeside)
    second_mail = inbox.wait_for(DAVID, count=3)[2]
    david.goto(link_in(second_mail, "/portal/invite/"))
    visit(david, "portal-invite-landing-logged-in")
    david.get_by_role("button", name=re.compile("Continue as")).click()
    david.get_by_label("Access code (PIN) from your practice").fill(david_pin)
    david.get_by_role("button", name="Verify with the code").click()
    assert "does not match" in david.locator("#form-errors").inner_text()  # Sunrise's PIN is not Lakeside's
    david.get_by_label("Access code (PIN) from your practice").fill(lakeside_pin)
    david.get_by_role("button", name="Verify with the code").click()
    assert "Lakeside" in david.locator(".record-banner").inner_text()
    options = david.get_by_label("Switch record").locator("option").all_inner_texts()
    assert sorted(o.split(" · ")[1] for o in options) == [
        "Lakeside Pediatrics & Internal Medicine",
        "Sunrise Family Medicine",
    ]
    visit(david, "portal-two-practices")
    lakeside.reload()
    assert "Active" in lakeside.locator("#portal-access").inner_text()
    history = lakeside.locator("section", has_text="Enrollment history").inner_text()
    for event in ("invited", "attached", "failed attempt", "verified", "linked"):
        assert event in history
    visit(lakeside, "practice-chart-history")
