"""Sessions, CSRF and login pages without a browser: status codes and cookies."""

import re

import pytest

from gateway import store
from smart_auth import accounts
from tests import chart


@pytest.fixture
def web(make_app, new_db_path):
    path = new_db_path("web")
    db = store.connect(path)
    chart.build(db)
    account = accounts.create_account(db, "ana@example.com", "Secret-Pass1", name="Ana", confirmed=True)
    accounts.link_account_to_chart(db, account["id"], 1, "self")
    accounts.create_staff(db, "desk@example.com", "Desk-Pass1", "Front desk", 1)
    return make_app(path).test_client()


def csrf(client, path):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client, email="ana@example.com", password="Secret-Pass1", path="/portal/login"):
    return client.post(path, data={"email": email, "password": password, "csrf_token": csrf(client, path)})


def test_login_without_csrf_token_is_refused(web):
    response = web.post("/portal/login", data={"email": "ana@example.com", "password": "Secret-Pass1"})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)


def test_login_sets_httponly_lax_cookie_and_rotates_the_session(web):
    web.get("/portal/login")
    before = web.get_cookie("gateway_session").value
    response = login(web)
    assert response.status_code == 302 and response.headers["Location"] == "/portal/"
    cookie = web.get_cookie("gateway_session")
    assert cookie.value != before
    assert cookie.http_only and cookie.same_site == "Lax"
    assert web.get("/portal/").status_code == 200


def test_session_cookie_is_secure_on_https(make_app, empty_db_path):
    client = make_app(empty_db_path, BASE_URL="https://portal.example").test_client()
    client.get("/portal/login")
    assert client.get_cookie("gateway_session").secure


def test_bad_login_is_401_with_a_form_message(web):
    response = login(web, password="Wrong-Pass9")
    assert response.status_code == 401
    assert "do not match" in response.get_data(as_text=True)


def test_pages_need_login_and_come_back_after(web):
    response = web.get("/portal/")
    assert response.status_code == 302 and "/portal/login?next=/portal/" in response.headers["Location"]
    response = web.get("/practice/")
    assert "/practice/login" in response.headers["Location"]


def test_next_cannot_leave_the_site(web):
    web.get("/portal/login")
    token = csrf(web, "/portal/login")
    response = web.post(
        "/portal/login",
        data={
            "email": "ana@example.com",
            "password": "Secret-Pass1",
            "csrf_token": token,
            "next": "https://evil.example/",
        },
    )
    assert response.headers["Location"] == "/portal/"


def test_logout_ends_the_session_server_side(web):
    login(web)
    cookie = web.get_cookie("gateway_session").value
    token = csrf(web, "/portal/")
    web.post("/portal/logout", data={"csrf_token": token})
    web.set_cookie("gateway_session", cookie)  # replaying the old cookie does not log back in
    assert web.get("/portal/").status_code == 302


def test_switching_to_an_unlinked_record_is_refused(web):
    login(web)
    token = csrf(web, "/portal/")
    response = web.post("/portal/switch", data={"csrf_token": token, "link_id": 999}, follow_redirects=True)
    assert "not linked to your account" in response.get_data(as_text=True)


def test_staff_login_shows_the_practice_patients(web):
    response = login(web, "desk@example.com", "Desk-Pass1", "/practice/login")
    assert response.headers["Location"] == "/practice/"
    page = web.get("/practice/").get_data(as_text=True)
    assert "Ramírez" in page and "M002" in page


def test_portal_account_cannot_use_the_practice_console(web):
    login(web)
    assert web.get("/practice/").status_code == 302
