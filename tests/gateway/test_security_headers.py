"""Security headers on every page (Flask-Talisman), HSTS and Secure cookies only over HTTPS, no-store on pages."""

import pathlib
import re

import pytest

from tests.web_helpers import enrollment_app

TEMPLATES = pathlib.Path(__file__).parents[2] / "gateway" / "templates"
POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
PAGES = ["/", "/portal/login", "/practice/login", "/portal/signup", "/portal/forgot", "/no/such/page"]


@pytest.fixture
def app(new_db_path):
    return enrollment_app(new_db_path)[0]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_carries_the_security_headers_and_no_store(app, path):
    response = app.test_client().get(path)
    assert response.status_code == (404 if path == "/no/such/page" else 200)  # and no redirect to https
    assert response.headers["Content-Security-Policy"] == POLICY
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    # same-origin: the app an authorization redirects to never learns the consent page's URL
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers


def test_the_oauth_pages_refuse_framing_with_the_same_one_policy(app):
    response = app.test_client().get("/oauth/authorize?client_id=nope")
    assert response.headers.getlist("Content-Security-Policy") == [POLICY]
    assert response.headers.getlist("X-Frame-Options") == ["DENY"]


def test_hsts_is_sent_over_https_only(app):
    client = app.test_client()
    assert "Strict-Transport-Security" not in client.get("/portal/login").headers
    secure = client.get("/portal/login", base_url="https://gateway.test")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31556926; includeSubDomains"


def test_behind_the_trusted_proxy_forwarded_https_means_hsts_and_a_secure_cookie(new_db_path):
    app, _ = enrollment_app(new_db_path, TRUSTED_PROXIES=1)
    client = app.test_client()
    response = client.get("/portal/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.4"})
    assert response.headers["Strict-Transport-Security"] == "max-age=31556926; includeSubDomains"
    assert client.get_cookie("gateway_session").secure


def test_without_a_trusted_proxy_forwarded_https_is_not_believed(app):
    client = app.test_client()
    response = client.get("/portal/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers
    assert not client.get_cookie("gateway_session").secure


def test_the_session_cookie_is_secure_whenever_the_request_came_over_https(app):
    client = app.test_client()  # BASE_URL is http://, the request itself is https
    client.get("/portal/login", base_url="https://gateway.test")
    assert client.get_cookie("gateway_session", domain="gateway.test").secure
    plain = app.test_client()
    plain.get("/portal/login")
    assert not plain.get_cookie("gateway_session").secure


def test_fhir_api_answers_keep_the_lean_fronts_headers(app):
    response = app.test_client().get("/fhir/metadata")
    assert response.status_code == 200
    for header in ("Content-Security-Policy", "X-Frame-Options", "Referrer-Policy", "Strict-Transport-Security"):
        assert header not in response.headers


def test_static_files_stay_cacheable(app):
    response = app.test_client().get("/static/style.css")
    assert response.status_code == 200 and response.headers.get("Cache-Control") != "no-store"


@pytest.mark.parametrize("template", sorted(str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*.html")))
def test_no_template_has_script_or_style_the_policy_would_block(template):
    html = (TEMPLATES / template).read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert not re.search(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", html)
    assert "javascript:" not in html
    assert not re.search(r"<[a-zA-Z][^>]*\sstyle\s*=", html)
    # the one inline style sheet (the printable summary, a file that must also work offline) is allowed by hash
    assert "<style" not in html or template == "portal/summary_print.html"
