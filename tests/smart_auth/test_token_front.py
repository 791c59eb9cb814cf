"""The lean token front (gateway/oauth/token_front.py) answers exactly what the Flask route answers: the status,
the JSON body, Cache-Control: no-store and Pragma: no-cache (RFC 6749 section 5.1), WWW-Authenticate on a 401
invalid_client (section 5.2), CORS for browser apps and the security headers; and it takes only plain form posts.
"""

import contextlib
import http.client
import json
from urllib.parse import urlencode

import pytest
from authlib.oauth2.rfc6749.errors import InsecureTransportError
from werkzeug.test import Client

from gateway.oauth.token_front import TokenFront
from smart_auth import server as smart_server

from .oauth_helpers import CONFIDENTIAL, KEALA, PUBLIC, REDIRECT, assertion_form, basic, bearer

# What differs between two successful exchanges: the credentials themselves.
RANDOM = ("access_token", "refresh_token", "id_token")


@pytest.fixture
def front(oauth_app):
    found = oauth_app.wsgi_app
    assert isinstance(found, TokenFront)
    return found


@pytest.fixture
def flask_only(front):
    """A client on the app behind the front: the Flask route answers every request."""
    return Client(front.app)


@pytest.fixture
def seen_by_flask(front, monkeypatch):
    """The paths of the requests the front handed to the app behind it."""
    seen, behind = [], front.app

    def counting(environ, start_response):
        seen.append(environ["PATH_INFO"])
        return behind(environ, start_response)

    monkeypatch.setattr(front, "app", counting)
    return seen


def answer(response):
    """(status, JSON body, headers as a sorted list) of a response."""
    return response.status, response.get_json(), sorted(response.headers.items())


def code_form(flow, code, **extra):
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": flow.client_id,
        "code_verifier": flow.verifier,
        **extra,
    }


def test_a_plain_form_post_is_answered_by_the_front(web, flow, seen_by_flask):
    form = code_form(flow, flow.code(who=KEALA, patient="Keala"))
    seen_by_flask.clear()
    response = web.post("/oauth/token", data=form)
    assert response.status_code == 200 and "id_token" in response.get_json()
    assert seen_by_flask == []


@pytest.mark.parametrize(
    "shape",
    [
        {"query_string": {"grant_type": "authorization_code"}},
        {"content_type": "multipart/form-data"},
        {"json": True},
    ],
)
def test_other_shapes_go_to_the_flask_route(web, flow, seen_by_flask, shape):
    form = code_form(flow, "not-a-code")
    if shape.get("json"):
        response = web.post("/oauth/token", json=form)
    else:
        response = web.post("/oauth/token", data=form, **shape)
    assert seen_by_flask == ["/oauth/token"]
    assert response.status_code == 400 and response.headers["Cache-Control"] == "no-store"


def test_a_successful_exchange_looks_the_same_from_both(web, flow, flask_only):
    lean = web.post("/oauth/token", data=code_form(flow, flow.code(who=KEALA, patient="Keala")))
    routed = flask_only.post("/oauth/token", data=code_form(flow, flow.code(who=KEALA, patient="Keala")))
    assert lean.status == routed.status == "200 OK"
    lean_body, routed_body = lean.get_json(), routed.get_json()
    assert {k: v for k, v in lean_body.items() if k not in RANDOM} == {
        k: v for k, v in routed_body.items() if k not in RANDOM
    }
    assert set(lean_body) == set(routed_body) >= set(RANDOM)
    assert sorted(lean.headers.items()) == sorted(routed.headers.items())
    assert lean.headers["Cache-Control"] == "no-store" and lean.headers["Pragma"] == "no-cache"
    assert lean.headers["Access-Control-Allow-Origin"] == "*"
    assert lean.headers["Content-Type"] == "application/json"


# RFC 6749 section 5.2's error codes, each from the same request sent twice (nothing here uses a credential up).
ERRORS = {
    "no code": ("invalid_request", {"grant_type": "authorization_code", "client_id": PUBLIC, "redirect_uri": REDIRECT}),
    "unknown client": ("invalid_client", {"grant_type": "authorization_code", "client_id": "no-such-app", "code": "x"}),
    "unknown code": (
        "invalid_grant",
        {
            "grant_type": "authorization_code",
            "client_id": PUBLIC,
            "code": "not-a-code",
            "redirect_uri": REDIRECT,
            "code_verifier": "v" * 43,
        },
    ),
    "password grant": (
        "unsupported_grant_type",
        {"grant_type": "password", "client_id": PUBLIC, "username": "a", "password": "b"},
    ),
    "no grant_type": ("unsupported_grant_type", {"client_id": PUBLIC}),
    "unknown refresh token": (
        "invalid_grant",
        {"grant_type": "refresh_token", "client_id": PUBLIC, "refresh_token": "nope"},
    ),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
@pytest.mark.parametrize("base_url", ["http://localhost", "https://gateway.test"])
def test_errors_are_the_flask_routes_errors(web, flask_only, seen_by_flask, case, base_url):
    error, form = ERRORS[case]
    lean = web.post("/oauth/token", data=form, base_url=base_url)
    routed = flask_only.post("/oauth/token", data=form, base_url=base_url)
    assert seen_by_flask == []  # the front answered the first (flask_only sends the second past it)
    assert answer(lean) == answer(routed)
    assert lean.status_code == 400 and lean.get_json()["error"] == error
    assert lean.headers["Cache-Control"] == "no-store" and lean.headers["Pragma"] == "no-cache"
    assert lean.headers["Access-Control-Allow-Origin"] == "*"
    assert ("Strict-Transport-Security" in lean.headers) == base_url.startswith("https")


def test_a_wrong_client_secret_is_a_401_with_a_challenge_from_both(web, flask_only):
    form = {"grant_type": "authorization_code", "code": "x", "redirect_uri": REDIRECT}
    headers = basic(CONFIDENTIAL, "wrong-secret")
    lean = web.post("/oauth/token", data=form, headers=headers)
    routed = flask_only.post("/oauth/token", data=form, headers=headers)
    assert answer(lean) == answer(routed)
    assert lean.status_code == 401 and lean.get_json()["error"] == "invalid_client"
    assert lean.headers["WWW-Authenticate"].startswith("Basic")


def test_a_backend_assertion_is_checked_on_the_front(web, summary, seen_by_flask):
    form = {"grant_type": "client_credentials", "scope": "system/Patient.rs"}
    good = web.post("/oauth/token", data={**form, **assertion_form(summary["backend"], summary["keys"].rsa)})
    assert good.status_code == 200 and good.get_json()["scope"] == "system/Patient.rs"
    replayed = assertion_form(summary["backend"], summary["keys"].rsa, jti="once-only")
    assert web.post("/oauth/token", data={**form, **replayed}).status_code == 200
    again = web.post("/oauth/token", data={**form, **replayed})
    assert again.status_code == 400 and again.get_json()["error"] == "invalid_client"
    assert seen_by_flask == []


def test_an_unexpected_error_is_flasks_500(oauth_app, web, flask_only, monkeypatch):
    def broken(self, request):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(smart_server.SmartAuthorizationServer, "token_answer", broken)
    monkeypatch.setitem(oauth_app.config, "PROPAGATE_EXCEPTIONS", False)
    form = ERRORS["unknown code"][1]
    lean, routed = web.post("/oauth/token", data=form), flask_only.post("/oauth/token", data=form)
    assert answer(lean) == answer(routed)
    assert lean.status_code == 500 and lean.get_json()["error"] == "server_error"


def test_in_testing_an_unexpected_error_propagates_as_in_flask(web, monkeypatch):
    def broken(self, request):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(smart_server.SmartAuthorizationServer, "token_answer", broken)
    with pytest.raises(RuntimeError):
        web.post("/oauth/token", data=ERRORS["unknown code"][1])


def test_a_body_over_the_limit_is_flasks_413(oauth_app, web, seen_by_flask, monkeypatch):
    monkeypatch.setitem(oauth_app.config, "MAX_CONTENT_LENGTH", 100)
    monkeypatch.setattr(oauth_app.wsgi_app, "limit", 100)
    response = web.post("/oauth/token", data={"grant_type": "authorization_code", "code": "x" * 200})
    assert seen_by_flask == ["/oauth/token"]
    assert response.status_code == 413 and response.get_json()["error"] == "request_too_large"


@contextlib.contextmanager
def served(db_path):
    from tests.gateway.test_server_limits import serving

    with serving(db_path) as (_, address):
        yield address


def post(address, form, path="/oauth/token"):
    conn = http.client.HTTPConnection(*address, timeout=30)
    try:
        conn.request("POST", path, urlencode(form), {"Content-Type": "application/x-www-form-urlencoded"})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, json.loads(response.read() or b"null")
    finally:
        conn.close()


def get(address, path, headers):
    conn = http.client.HTTPConnection(*address, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_over_real_http_a_code_works_once_and_a_replay_revokes_its_tokens(oauth_db, flow):
    form = code_form(flow, flow.code(who=KEALA, patient="Keala"))
    with served(oauth_db[0]) as address:
        status, headers, body = post(address, form)
        assert status == 200 and body["token_type"] == "Bearer" and body["id_token"].count(".") == 2
        assert headers["cache-control"] == "no-store" and headers["pragma"] == "no-cache"
        assert headers["access-control-allow-origin"] == "*"
        assert get(address, f"/fhir/Patient/{body['patient']}", bearer(body["access_token"])) == 200
        status, headers, replay = post(address, form)
        assert status == 400 and replay["error"] == "invalid_grant"
        assert get(address, f"/fhir/Patient/{body['patient']}", bearer(body["access_token"])) == 401
        refresh = {"grant_type": "refresh_token", "client_id": PUBLIC, "refresh_token": body["refresh_token"]}
        status, _, refused = post(address, refresh)
        assert status == 400 and refused["error"] == "invalid_grant"


@pytest.mark.parametrize(
    "body",
    [
        b"grant_type=authorization_code&code=a%20b+c&empty=&flag",
        b"code=%ff%fe&client_id=caf%C3%A9",  # percent-escapes that are not UTF-8
        b"grant_type=\xff\xfe",  # a body that is not UTF-8: an empty form, as Flask's silent parser gives
        b"scope=a&scope=b&=x&&",
        b"",
    ],
)
def test_the_form_is_read_as_werkzeug_reads_it(body):
    import io

    from werkzeug.formparser import parse_form_data
    from werkzeug.test import EnvironBuilder

    from gateway.oauth.token_front import read_form

    def environ():
        return EnvironBuilder(
            method="POST",
            path="/oauth/token",
            input_stream=io.BytesIO(body),
            content_length=len(body),
            content_type="application/x-www-form-urlencoded",
        ).get_environ()

    assert list(read_form(environ()).items(multi=True)) == list(parse_form_data(environ())[1].items(multi=True))


def test_a_body_that_is_not_utf8_gets_the_flask_routes_answer(web, flask_only):
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    lean = web.post("/oauth/token", data=b"grant_type=\xff", headers=headers)
    routed = flask_only.post("/oauth/token", data=b"grant_type=\xff", headers=headers)
    assert answer(lean) == answer(routed)
    assert lean.status_code == 400 and lean.get_json()["error"] == "unsupported_grant_type"


def test_plain_http_to_a_public_host_is_left_to_flask_unread(front, seen_by_flask):
    """Authlib refuses OAuth over plain HTTP to a non-loopback host before anything happens; the front hands such a
    request to the Flask route with its body unread, so the route answers it exactly as it did before the front."""
    client = Client(front)
    with pytest.raises(InsecureTransportError):  # TESTING propagates it, from the Flask route
        client.post("/oauth/token", data=ERRORS["unknown code"][1], base_url="http://gateway.test")
    assert seen_by_flask == ["/oauth/token"]
