"""The portal and practice login pages in a real browser: accessible, CSRF-protected, no enumeration."""

import pytest

from gateway import store
from smart_auth import accounts
from tests.browser.conftest import LiveServer, assert_accessible, shot


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    from tests import chart

    path = str(tmp_path_factory.mktemp("live") / "live.db")
    db = store.connect(path)
    chart.build(db)
    account = accounts.create_account(db, "jose@example.com", "Portal-Test-1", name="José Ramírez", confirmed=True)
    accounts.link_account_to_chart(db, account["id"], 1, "self")
    accounts.link_account_to_chart(db, account["id"], 2, "parent")
    with LiveServer(path) as server:
        yield server


def test_login_shows_linked_records_and_switches(page, live):
    page.goto(f"{live.url}/portal/")
    assert "/portal/login" in page.url
    assert_accessible(page)
    shot(page, "portal-login")
    page.get_by_label("Email").fill("jose@example.com")
    page.get_by_label("Password").fill("Portal-Test-1")
    page.get_by_role("button", name="Log in").click()
    assert page.locator(".record-banner").inner_text().startswith("Viewing the record of José Ramírez")
    assert_accessible(page)
    shot(page, "portal-home")
    page.get_by_label("Switch record").select_option(label="Anna Smith · Test Practice (parent)")
    page.get_by_role("button", name="Show").click()
    assert "Anna Smith" in page.locator(".record-banner").inner_text()
    assert "you are their parent" in page.locator(".record-banner").inner_text()


def test_wrong_password_and_unknown_email_get_the_same_message(page, live):
    messages = []
    for email in ("jose@example.com", "nobody@example.com"):
        page.goto(f"{live.url}/portal/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill("Wrong-Password-9")
        page.get_by_role("button", name="Log in").click()
        messages.append(page.locator("#form-errors").inner_text())
    assert messages[0] == messages[1]
    assert "do not match" in messages[0]
    assert_accessible(page)
    shot(page, "portal-login-error")
