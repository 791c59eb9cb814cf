"""Behind a trusted proxy each client is counted by its own address; without one, forwarded headers mean nothing."""

import pytest

from gateway import config
from smart_auth import accounts
from tests.web_helpers import csrf, enrollment_app, text

PROXY = "127.0.0.1"


def client_of(app, address=None):
    """A test client whose requests come through the proxy on behalf of ``address`` (or straight from it)."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = PROXY
    if address:
        client.environ_base["HTTP_X_FORWARDED_FOR"] = address
    return client


def log_in(client, email, password="Wrong-Pass1"):
    return client.post("/portal/login", data={"email": email, "password": password, "csrf_token": csrf(client)})


def test_behind_a_trusted_proxy_one_address_cannot_lock_out_another(new_db_path):
    app, db = enrollment_app(new_db_path, TRUSTED_PROXIES=1)
    accounts.create_account(db, "ana@example.com", "Secret-Pass1", confirmed=True)
    attacker = client_of(app, "203.0.113.7")
    for n in range(accounts.ADDRESS_LIMIT):
        assert log_in(attacker, f"guess{n}@example.com").status_code == 401
    refused = log_in(attacker, "guess-more@example.com")
    assert refused.status_code == 429 and "Try again in 15 minutes" in text(refused)
    response = log_in(client_of(app, "198.51.100.9"), "ana@example.com", "Secret-Pass1")
    assert response.status_code == 302 and response.headers["Location"] == "/portal/"


def test_without_a_trusted_proxy_a_forged_forwarded_for_does_not_escape_the_limit(new_db_path):
    app, _ = enrollment_app(new_db_path)
    for n in range(accounts.ADDRESS_LIMIT):
        assert log_in(client_of(app, f"192.0.2.{n}"), f"guess{n}@example.com").status_code == 401
    assert log_in(client_of(app, "192.0.2.200"), "guess-more@example.com").status_code == 429


def test_the_trusted_hop_count_is_the_one_that_counts(new_db_path):
    """With one proxy, a client's own X-Forwarded-For entry (left of the proxy's) is ignored."""
    app, _ = enrollment_app(new_db_path, TRUSTED_PROXIES=1)
    for n in range(accounts.ADDRESS_LIMIT):
        client = client_of(app, f"10.{n}.0.1, 203.0.113.7")  # forged first entry, real one added by the proxy
        assert log_in(client, f"guess{n}@example.com").status_code == 401
    assert log_in(client_of(app, "10.99.0.1, 203.0.113.7"), "guess-more@example.com").status_code == 429


@pytest.mark.parametrize("path, form", [("/portal/forgot", {}), ("/portal/signup", {"password": "Secret-Pass1"})])
def test_public_forms_are_limited_per_address_not_site_wide(new_db_path, path, form):
    app, _ = enrollment_app(new_db_path, TRUSTED_PROXIES=1)
    flooder = client_of(app, "203.0.113.7")
    for n in range(10):
        data = {**form, "email": f"person{n}@example.com", "csrf_token": csrf(flooder, path)}
        assert flooder.post(path, data=data).status_code == 200
    data = {**form, "email": "one-more@example.com", "csrf_token": csrf(flooder, path)}
    assert flooder.post(path, data=data).status_code == 429
    other = client_of(app, "198.51.100.9")
    data = {**form, "email": "someone@example.com", "csrf_token": csrf(other, path)}
    assert other.post(path, data=data).status_code == 200


def test_forgot_password_is_limited_per_email_from_any_address(new_db_path):
    app, _ = enrollment_app(new_db_path, TRUSTED_PROXIES=1)
    for n in range(3):
        client = client_of(app, f"198.51.100.{n}")
        data = {"email": "ana@example.com", "csrf_token": csrf(client, "/portal/forgot")}
        assert client.post("/portal/forgot", data=data).status_code == 200
    client = client_of(app, "198.51.100.50")
    refused = client.post(
        "/portal/forgot", data={"email": "ANA@example.com ", "csrf_token": csrf(client, "/portal/forgot")}
    )
    assert refused.status_code == 429 and "Too many attempts" in text(refused)
    data = {"email": "bob@example.com", "csrf_token": csrf(client, "/portal/forgot")}
    assert client.post("/portal/forgot", data=data).status_code == 200


@pytest.mark.parametrize("value, message", [("-1", "must be 0"), ("two", "whole number")])
def test_a_bad_trusted_proxy_count_is_refused_at_start(value, message):
    with pytest.raises(config.ConfigError, match=message):
        config.load(environ={"GATEWAY_TRUSTED_PROXIES": value})


def test_trusted_proxies_default_to_none():
    secret = {"SECRET_KEY": "test-secret"}  # else load() keeps a generated secret beside var/gateway.db
    assert config.load(secret, environ={})["TRUSTED_PROXIES"] == 0
    assert config.load(secret, environ={"GATEWAY_TRUSTED_PROXIES": "2"})["TRUSTED_PROXIES"] == 2
