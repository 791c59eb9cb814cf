"""The adult patient removes a representative in a real browser: Representatives, Remove, the confirmation page
that says what will happen, and the page without them; checked with axe-core at desktop and phone widths."""

import pytest

from gateway import store
from smart_auth import accounts
from smart_auth.tokens import InvalidToken, authenticate, issue_access_token
from tests.browser.conftest import LiveServer, assert_accessible, shot
from tests.enrollment_helpers import build


@pytest.fixture
def live(tmp_path):
    path = str(tmp_path / "reps.db")
    db = store.connect(path)
    build(db)
    jose = accounts.create_account(db, "jose@example.com", "Secret-Pass1", name="José Ramírez", confirmed=True)
    ana = accounts.create_account(db, "ana@example.com", "Secret-Pass1", name="Ana Ramírez", confirmed=True)
    accounts.link_account_to_chart(db, jose["id"], 1, "self")
    accounts.link_account_to_chart(db, ana["id"], 1, "spouse")
    token = issue_access_token(db, "app", "patient/*.rs", "pat-1", subject=ana["uid"])
    with LiveServer(path) as server:
        server.db, server.token = db, token
        yield server


@pytest.mark.parametrize("device", ["page", "phone"])
def test_the_patient_removes_a_representative(live, device, request):
    page = request.getfixturevalue(device)
    page.goto(f"{live.url}/portal/login")
    page.get_by_label("Email").fill("jose@example.com")
    page.get_by_label("Password").fill("Secret-Pass1")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live.url}/portal/people")
    assert_accessible(page)
    shot(page, f"representatives-{device}")
    page.get_by_role("button", name="Remove Ana Ramírez").click()
    assert page.locator("h1").inner_text() == "Remove Ana Ramírez?"
    assert_accessible(page)
    shot(page, f"representatives-remove-{device}")
    page.get_by_role("button", name="Remove Ana Ramírez").click()
    assert "Ana Ramírez can no longer see your record." in page.content()
    assert page.get_by_text("Only you can see your record.").is_visible()
    with pytest.raises(InvalidToken):
        authenticate(live.db, live.token)
