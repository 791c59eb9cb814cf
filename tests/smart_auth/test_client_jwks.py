"""private_key_jwt with a jwks_uri: fetched through the outbound client (no redirects, public addresses only in
production, a size cap, a deadline), one neutral invalid_client whatever went wrong, and cached by Cache-Control."""

import http.server
import json
import socket
import threading
import time

import pytest
import responses
from joserfc.jwk import RSAKey

from smart_auth import client_jwks, clients

from .oauth_helpers import assertion_form

NEUTRAL = {"error": "invalid_client", "error_description": "The client's keys could not be loaded from its jwks_uri."}


class KeyServer:
    """A real HTTP server on loopback that answers every GET with what its attributes say, and counts them."""

    def __init__(self, body=b"", status=200, headers=None, delay=0):
        self.body, self.status, self.headers, self.delay, self.hits = body, status, dict(headers or {}), delay, []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.hits.append(self.path)
                time.sleep(outer.delay)
                self.send_response(outer.status)
                for name, value in {"Content-Type": "application/json", **outer.headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(outer.body)))
                self.end_headers()
                self.wfile.write(outer.body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/jwks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def serve():
    """Start KeyServers for one test; stop them after."""
    started = []

    def start(*args, **kwargs):
        started.append(KeyServer(*args, **kwargs))
        return started[-1]

    yield start
    for server in started:
        server.close()


@pytest.fixture(autouse=True)
def fresh_cache(monkeypatch):
    monkeypatch.setattr(client_jwks, "DEADLINE", 0.5)
    client_jwks.cache.clear()
    yield
    client_jwks.cache.clear()


def jwks_body(summary):
    import json

    return json.dumps(summary["keys"].jwks()).encode()


def backend_at(odb, url):
    return clients.register_client(odb, "Keys by URL", [], "backend", jwks_uri=url, all_practices=True)[0].client_id


def closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/jwks"


def token(web, client_id, key):
    return web.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "system/*.rs", **assertion_form(client_id, key)},
    )


def test_keys_by_url_work(web, odb, summary, serve):
    server = serve(jwks_body(summary))
    response = token(web, backend_at(odb, server.url), summary["keys"].rsa)
    assert response.status_code == 200, response.get_json()
    assert server.hits == ["/jwks"]


@pytest.mark.parametrize(
    "answer",
    [
        {"body": b"<html>hello</html>", "headers": {"Content-Type": "text/html"}},
        {"body": b"{}", "status": 404},
        {"body": b'{"keys": "none"}'},
        {"body": b'{"keys": [{"kty": "nonsense"}]}'},
        {"body": b"[1, 2, 3]"},
        {"body": b'{"keys": []' + b" " * (65 * 1024) + b"}"},
        {"body": b'{"keys": []}', "delay": 1.5},
    ],
)
def test_an_open_port_and_a_closed_one_give_the_same_token_error(web, odb, summary, serve, answer):
    closed = token(web, backend_at(odb, closed_port_url()), summary["keys"].rsa)
    server = serve(**answer)
    opened = token(web, backend_at(odb, server.url), summary["keys"].rsa)
    assert server.hits == ["/jwks"]
    assert (opened.status_code, opened.get_data()) == (closed.status_code, closed.get_data())
    assert closed.status_code == 400 and closed.get_json() == NEUTRAL


def test_a_redirecting_jwks_uri_is_not_followed(web, odb, summary, serve):
    target = serve(jwks_body(summary))
    redirector = serve(b"", status=302, headers={"Location": target.url})
    response = token(web, backend_at(odb, redirector.url), summary["keys"].rsa)
    assert response.status_code == 400 and response.get_json() == NEUTRAL
    assert redirector.hits == ["/jwks"] and target.hits == []


def test_in_production_a_loopback_jwks_uri_is_never_contacted(make_app, oauth_db, odb, summary, serve):
    server = serve(jwks_body(summary))
    client_id = backend_at(odb, server.url)
    web = make_app(oauth_db[0], ENV="production", SECRET_KEY="s" * 32).test_client()
    response = token(web, client_id, summary["keys"].rsa)
    assert response.status_code == 400 and response.get_json() == NEUTRAL
    assert server.hits == []


@pytest.mark.parametrize(
    "cache_control, fetches",
    [
        ("max-age=600", 1),
        (None, 1),
        ("public, max-age=60", 1),
        ("max-age=0", 4),
        ("no-store", 4),
        ("no-cache", 4),
    ],
)
def test_fetched_keys_are_cached_by_cache_control(web, odb, summary, serve, cache_control, fetches):
    server = serve(jwks_body(summary), headers={"Cache-Control": cache_control} if cache_control else {})
    client_id = backend_at(odb, server.url)
    answers = [token(web, client_id, summary["keys"].rsa).status_code for _ in range(4)]
    assert answers == [200] * 4 and len(server.hits) == fetches


def test_assertions_with_an_unknown_key_do_not_refetch_in_a_storm(web, odb, summary, serve):
    server = serve(jwks_body(summary), headers={"Cache-Control": "max-age=600"})
    client_id = backend_at(odb, server.url)
    stranger = RSAKey.generate_key(2048, auto_kid=True)
    answers = [token(web, client_id, stranger).status_code for _ in range(5)]
    assert answers == [400] * 5 and len(server.hits) == 1


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_an_unknown_kid_refetches_at_most_once_per_interval():
    """Key rotation: a set cached for an hour is refetched for a new kid, but not more than once in 30 seconds."""
    old, new = RSAKey.generate_key(2048, auto_kid=True), RSAKey.generate_key(2048, auto_kid=True)
    served, calls, clock = [old], [], Clock()

    def fetcher(url, public_only):
        calls.append(url)
        return client_jwks.KeySet([served[0]]), 3600

    cache = client_jwks.JwksCache(clock=clock, fetcher=fetcher)
    assert cache.key_set("https://a.example/jwks", True, old.kid).keys == [old]
    served[0] = new
    clock.now += 10
    assert cache.key_set("https://a.example/jwks", True, new.kid).keys == [old] and len(calls) == 1
    clock.now += 20
    assert cache.key_set("https://a.example/jwks", True, new.kid).keys == [new] and len(calls) == 2
    clock.now += 1
    assert cache.key_set("https://a.example/jwks", True, new.kid).keys == [new] and len(calls) == 2


def test_the_cache_is_bounded_least_recently_used_first():
    calls, clock = [], Clock()

    def fetcher(url, public_only):
        calls.append(url)
        return client_jwks.KeySet([]), 3600

    cache = client_jwks.JwksCache(max_entries=2, clock=clock, fetcher=fetcher)
    for url in (
        "https://a.example/",
        "https://b.example/",
        "https://a.example/",
        "https://c.example/",
        "https://a.example/",
        "https://b.example/",
    ):
        cache.key_set(url, True)
    assert calls == ["https://a.example/", "https://b.example/", "https://c.example/", "https://b.example/"]


@pytest.mark.parametrize(
    "header, seconds",
    [
        ("", 300),
        ("max-age=120", 120),
        ("public, max-age=999999", 3600),
        ("max-age=0", 0),
        ("no-store", 0),
        ("no-cache", 0),
        ("max-age=60, no-store", 0),
        ("max-age=banana", 300),
    ],
)
def test_lifetime_follows_cache_control_within_bounds(header, seconds):
    assert client_jwks.lifetime(header) == seconds


# -- jku (SMART Backend Services: only the registered JWK Set URL) and client key rotation ----------------------

REGISTERED, ATTACKER = "https://keys.app.example/jwks", "https://attacker.example/jwks"
NOT_REGISTERED = {
    "error": "invalid_client",
    "error_description": "The client assertion's jku is not the client's registered jwks_uri.",
}


@pytest.fixture
def mocked():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def jku_token(web, client_id, key, jku):
    form = assertion_form(client_id, key, header={"jku": jku})
    return web.post("/oauth/token", data={"grant_type": "client_credentials", "scope": "system/*.rs", **form})


def test_a_jku_equal_to_the_registered_jwks_uri_is_used(web, odb, summary, mocked):
    mocked.get(REGISTERED, body=jwks_body(summary), content_type="application/json")
    response = jku_token(web, backend_at(odb, REGISTERED), summary["keys"].rsa, REGISTERED)
    assert response.status_code == 200, response.get_json()
    assert [call.request.url for call in mocked.calls] == [REGISTERED]


@pytest.mark.parametrize(
    "jku",
    [ATTACKER, REGISTERED + "?", "https://KEYS.app.example/jwks", "https://keys.app.example/jwks/", REGISTERED + "#x"],
)
def test_any_other_jku_is_invalid_client_and_is_never_fetched(web, odb, summary, mocked, jku):
    """The attacker signs with its own key and points jku at its own set: nothing is fetched at all."""
    attacker = RSAKey.generate_key(2048, auto_kid=True)
    for url in (ATTACKER, REGISTERED):
        mocked.get(url, body=json.dumps({"keys": [attacker.as_dict(private=False)]}), content_type="application/json")
    response = jku_token(web, backend_at(odb, REGISTERED), attacker, jku)
    assert (response.status_code, response.get_json()) == (400, NOT_REGISTERED)
    assert list(mocked.calls) == []


def test_a_jku_for_a_client_with_inline_keys_is_invalid_client(web, summary, mocked):
    response = jku_token(web, summary["backend"], summary["keys"].rsa, ATTACKER)
    assert (response.status_code, response.get_json()) == (400, NOT_REGISTERED)
    assert list(mocked.calls) == []


def test_a_client_that_adds_a_key_and_signs_with_it_is_accepted_without_downtime(web, odb, summary, serve, monkeypatch):
    """Rotation as SMART describes it: publish the new key beside the old, then sign with the new kid."""
    clock = Clock()
    monkeypatch.setattr(client_jwks, "cache", client_jwks.JwksCache(clock=clock))
    old, new = summary["keys"].rsa, RSAKey.generate_key(2048, parameters={"alg": "RS384"}, auto_kid=True)
    server = serve(jwks_body(summary), headers={"Cache-Control": "max-age=3600"})
    client_id = backend_at(odb, server.url)
    assert token(web, client_id, old).status_code == 200
    keys = json.loads(jwks_body(summary))["keys"] + [new.as_dict(private=False)]
    server.body = json.dumps({"keys": keys}).encode()
    clock.now += client_jwks.REFETCH_INTERVAL
    answers = [token(web, client_id, new).status_code, token(web, client_id, old).status_code]
    assert answers == [200, 200] and server.hits == ["/jwks", "/jwks"]
