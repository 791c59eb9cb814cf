"""The JSON APIs answer every error in JSON (never the HTML error page), and the grants API asks for a login
with 401 instead of redirecting a program to a page."""

import pytest

from smart_auth import accounts
from tests.web_helpers import enrollment_app, portal_login


@pytest.fixture
def app_db(new_db_path):
    return enrollment_app(new_db_path)


@pytest.fixture
def logged_in(app_db):
    app, db = app_db
    accounts.create_account(db, "ana@example.com", "Secret-Pass1", confirmed=True)
    client = app.test_client()
    assert portal_login(client, "ana@example.com").status_code == 302
    return client


def test_grants_api_without_a_login_is_401_json(app_db):
    response = app_db[0].test_client().get("/portal/api/grants")
    assert response.status_code == 401 and response.mimetype == "application/json"
    assert response.json == {"error": "login_required", "error_description": "Log in to the portal first."}


def test_grants_api_lists_nothing_for_a_new_account(logged_in):
    response = logged_in.get("/portal/api/grants")
    assert response.status_code == 200 and response.json == {"grants": []}


def test_withdrawing_without_the_csrf_header_is_400_json(logged_in):
    response = logged_in.delete("/portal/api/grants/1")
    assert response.status_code == 400 and response.json["error"] == "invalid_request"
    assert response.json["error_description"].startswith("This form has expired")


@pytest.mark.parametrize(
    "path, method, status, error, allow",
    [
        ("/portal/api/grants/abc", "delete", 404, "not_found", None),
        ("/portal/api/grants", "post", 405, "method_not_allowed", "GET, HEAD, OPTIONS"),
        ("/oauth/token", "get", 405, "method_not_allowed", "OPTIONS, POST"),
        ("/oauth/register", "put", 405, "method_not_allowed", "OPTIONS, POST"),
    ],
)
def test_http_errors_on_oauth_style_apis_are_json(app_db, path, method, status, error, allow):
    response = getattr(app_db[0].test_client(), method)(path)
    assert response.status_code == status and response.mimetype == "application/json"
    assert response.json["error"] == error and response.json["error_description"]
    assert response.headers.get("Allow") == allow


def test_http_errors_on_the_practice_api_are_json_with_its_message_key(app_db):
    response = app_db[0].test_client().get("/practice/api/invites/x/cancel")
    assert response.status_code == 405 and response.json["error"] == "method_not_allowed"
    assert response.json["message"] == "The method is not allowed for the requested URL."
    assert response.headers["Allow"] == "OPTIONS, POST"


def test_pages_keep_their_html_error_page(app_db):
    response = app_db[0].test_client().get("/portal/nothing-here")
    assert response.status_code == 404 and response.mimetype == "text/html"


@pytest.mark.parametrize("grant_id", [2**63, 10**30])
def test_a_grant_id_beyond_sqlite_integers_is_404_not_500(logged_in, grant_id):
    with logged_in.session_transaction() as session:
        session["csrf"] = "known-token"
    response = logged_in.delete(f"/portal/api/grants/{grant_id}", headers={"X-CSRF-Token": "known-token"})
    assert response.status_code == 404
    assert response.json == {"error": "not_found", "error_description": "No such grant on this account."}
