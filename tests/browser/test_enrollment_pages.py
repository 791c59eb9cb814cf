"""The enrollment pages the main journey does not pass through, in the demo set-up (no mail server): the
demo outbox, forgot / reset password, a used link, demographics editing, a locked invitation, finalizing."""

import re

import pytest

from gateway import store
from gateway.store import enrollment as enrollment_store
from smart_auth import accounts, enrollment, verification
from tests.browser.conftest import LiveServer, assert_accessible, shot
from tests.enrollment_helpers import build, context, last_link


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("pages") / "pages.db")
    db = store.connect(path)
    build(db)
    with LiveServer(path, SECRET_KEY="test-secret", DEMO=True) as server:
        yield server, db


def visit(page, name):
    assert_accessible(page)
    shot(page, name)


def test_forgot_and_reset_through_the_demo_outbox(page, demo):
    server, db = demo
    accounts.create_account(db, "jose@example.com", "Secret-Pass1", confirmed=True)
    page.goto(f"{server.url}/portal/login")
    page.get_by_role("link", name="Do not remember your password?").click()
    visit(page, "portal-forgot")
    page.get_by_label("Email").fill("jose@example.com")
    page.get_by_role("button", name="Send me a link").click()
    assert "If jose@example.com belongs to a portal account" in page.locator("main").inner_text()
    visit(page, "portal-forgot-sent")
    page.get_by_role("link", name="Demo outbox").click()
    visit(page, "portal-demo-outbox")
    email = page.frame_locator("iframe.email-html").first  # the email as sent, its button named by its words
    reset_url = email.get_by_role("link", name="Reset my password").get_attribute("href")
    assert "/portal/reset/" in reset_url
    page.goto(reset_url)
    visit(page, "portal-reset")
    page.get_by_label("New password").fill("Fresh-Pass-9")
    page.get_by_role("button", name="Save the new password").click()
    assert "Your password is changed" in page.content()
    page.goto(reset_url)
    assert "This link cannot be used" in page.content()
    visit(page, "portal-link-used")


def test_demographics_edit_in_the_console(page, demo):
    server, db = demo
    page.goto(f"{server.url}/practice/login")
    page.get_by_label("Email").fill("desk@example.com")
    page.get_by_label("Password").fill("Desk-Pass1")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{server.url}/practice/patients/pat-2")
    page.locator("summary", has_text="Actions").click()
    page.get_by_role("link", name="Edit demographics").click()
    visit(page, "practice-demographics")
    page.get_by_label("Preferred language").select_option("es")
    page.get_by_role("button", name="Save").click()
    assert "demographics are saved" in page.content()
    assert store.chart_row(db, "patients", 2)["preferred_language"] == "es"


def test_locked_and_finalize_pages(page, demo):
    server, db = demo
    ctx = context(db)
    patient = store.chart_row(db, "patients", 1)
    holder = accounts.create_account(db, "locked@example.com", "Secret-Pass1", confirmed=True)
    [locked] = enrollment.invite_people(ctx, patient, [{"relation": "caregiver", "email": "locked@example.com"}], "t")
    verification.claim_invite(ctx, last_link(db), holder)
    for _ in range(verification.MAX_FAILURES):
        with pytest.raises(enrollment.EnrollmentError):
            verification.verify_access_code(ctx, holder, locked["uid"], "WRONG-PIN")
    [mine] = enrollment.invite_people(ctx, patient, [{"relation": "spouse", "email": "locked@example.com"}], "t")
    verification.claim_invite(ctx, last_link(db), holder)
    verification.verify_access_code(ctx, holder, mine["uid"], mine["pin"])
    enrollment.reinvite(ctx, enrollment_store.invite_by_uid(db, mine["uid"]), "t")
    page.goto(f"{server.url}/portal/login")
    page.get_by_label("Email").fill("locked@example.com")
    page.get_by_label("Password").fill("Secret-Pass1")
    page.get_by_role("button", name="Log in").click()
    assert "Finalize access to your records" in page.content() and "locked" in page.content()
    visit(page, "portal-home-locked-and-finalize")
    page.goto(f"{server.url}/portal/verify/{locked['uid']}")
    visit(page, "portal-verify-locked")
    page.goto(f"{server.url}/portal/")
    page.get_by_role("link", name=re.compile("Finalize access")).click()
    visit(page, "portal-finalize")
    assert page.get_by_label("Date of birth of the patient").count() == 1
