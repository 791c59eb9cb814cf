"""Open registration is rate-limited per client address, bounds every field and answers malformed metadata with
an RFC 7591 error (400 ``invalid_client_metadata``, or ``invalid_request`` for a body that is no JSON object)."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smart_auth import clients

from .oauth_helpers import KEALA, Flow, register

APP = {"client_name": "Bounded app", "redirect_uris": ["https://app.example/cb"], "token_endpoint_auth_method": "none"}
URI = "https://app.example/" + "a" * 1990  # 2,009 characters
KEY = {"kty": "EC", "crv": "P-384", "x": "x" * 64, "y": "y" * 64}


def stored(odb, name):
    return odb.execute("SELECT count(*) FROM oauth_clients WHERE name = ?", (name,)).fetchone()[0]


@pytest.mark.parametrize(
    "metadata, description",
    [
        ({"client_name": "n" * 101}, "client_name is longer than 100 characters"),
        (
            {"redirect_uris": [f"https://app.example/{i}" for i in range(11)]},
            "redirect_uris may hold at most 10 values",
        ),
        ({"redirect_uris": [URI]}, "each of redirect_uris must be at most 2000 characters"),
        ({"logo_uri": URI}, "logo_uri is longer than 2000 characters"),
        ({"client_uri": URI}, "client_uri is longer than 2000 characters"),
        ({"contacts": [f"c{i}@app.example" for i in range(6)]}, "contacts may hold at most 5 values"),
        ({"contacts": ["c" * 250 + "@app.example"]}, "each of contacts must be at most 254 characters"),
        ({"scope": "patient/Patient.rs " * 60}, "scope is longer than 1000 characters"),
        (
            {"token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [KEY] * 11}},
            "jwks must hold at most 10 keys, each an object",
        ),
        (
            {"token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [{**KEY, "x5c": ["c" * 17000]}]}},
            "jwks is larger than 16 KB",
        ),
        ({"client_name": "n" * 600_000}, "the client metadata is larger than 64 KB"),
        ({"software_id": "s" * 201}, "software_id is longer than 200 characters"),
    ],
)
def test_every_field_is_bounded(web, odb, metadata, description):
    response = register(web, {**APP, "client_name": description[:40], **metadata})
    assert response.status_code == 400
    assert response.get_json() == {"error": "invalid_client_metadata", "error_description": description}
    assert stored(odb, description[:40]) == 0


@pytest.mark.parametrize(
    "metadata, description",
    [
        ({"client_name": 5}, "client_name must be a string"),
        ({"client_name": None}, "client_name must be a string"),
        ({"redirect_uris": None}, "redirect_uris must be an array of strings"),
        (
            {"token_endpoint_auth_method": "private_key_jwt", "jwks": None},
            "jwks must be a JWK Set: an object with a 'keys' array",
        ),
        ({"redirect_uris": ["javascript:alert(1)"]}, "redirect URI scheme 'javascript' cannot receive a code"),
        ({"redirect_uris": ["DATA:text/html,hi"]}, "redirect URI scheme 'data' cannot receive a code"),
        ({"client_name": ["a"]}, "client_name must be a string"),
        ({"redirect_uris": "https://app.example/cb"}, "redirect_uris must be an array of strings"),
        ({"redirect_uris": [1]}, "redirect_uris must be an array of strings"),
        ({"scope": 5}, "scope must be a string"),
        ({"grant_types": "authorization_code"}, "grant_types must be an array of strings"),
        ({"response_types": "code"}, "response_types must be an array of strings"),
        ({"token_endpoint_auth_method": 3}, "token_endpoint_auth_method must be a string"),
        ({"contacts": "c@app.example"}, "contacts must be an array of strings"),
        ({"logo_uri": 3}, "logo_uri must be a string"),
        ({"token_endpoint_auth_method": "private_key_jwt", "jwks_uri": 3}, "jwks_uri must be a string"),
        (
            {"token_endpoint_auth_method": "private_key_jwt", "jwks": "abc"},
            "jwks must be a JWK Set: an object with a 'keys' array",
        ),
        (
            {"token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": "abc"}},
            "jwks must be a JWK Set: an object with a 'keys' array",
        ),
        (
            {"token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [1]}},
            "jwks must hold at most 10 keys, each an object",
        ),
        (
            {"token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [{"kty": "RSA"}]}},
            "Invalid claim: 'jwks'",
        ),
        ({"redirect_uris": []}, "a client that signs users in needs at least one redirect URI"),
        (
            {"client_name": {"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": 1}}}}}}}}},
            "the client metadata is nested more than 8 levels deep",
        ),
    ],
)
def test_malformed_metadata_is_invalid_client_metadata(web, metadata, description):
    response = register(web, {**APP, **metadata})
    assert response.status_code == 400
    body = response.get_json()
    assert body["error"] == "invalid_client_metadata" and body["error_description"].startswith(description)


@pytest.mark.parametrize(
    "raw, content_type, error, description",
    [
        (
            "[" * 5000 + "]" * 5000,
            "application/json",
            "invalid_client_metadata",
            "the client metadata is nested more than 8 levels deep",
        ),
        (
            '{"a":' * 5000 + "1" + "}" * 5000,
            "application/json",
            "invalid_client_metadata",
            "the client metadata is nested more than 8 levels deep",
        ),
        ("[]", "application/json", "invalid_request", "Send the client metadata as a JSON object."),
        ('"text"', "application/json", "invalid_request", "Send the client metadata as a JSON object."),
        ("null", "application/json", "invalid_request", "Send the client metadata as a JSON object."),
        ("{", "application/json", "invalid_request", "The body is not valid JSON."),
        (b"\xff\xfe{}", "application/json", "invalid_request", "The body is not valid JSON."),
        (
            json.dumps(APP),
            "text/plain",
            "invalid_request",
            "Send the client metadata as a JSON object (Content-Type: application/json).",
        ),
        (
            "client_name=x",
            "application/x-www-form-urlencoded",
            "invalid_request",
            "Send the client metadata as a JSON object (Content-Type: application/json).",
        ),
        (
            "x" * (2 * 1024 * 1024),
            "application/json",
            "invalid_client_metadata",
            "the client metadata is larger than 64 KB",
        ),
    ],
)
def test_a_body_that_is_no_metadata_is_a_clear_400(web, raw, content_type, error, description):
    response = web.post(
        "/oauth/register", data=raw, content_type=content_type, environ_base={"REMOTE_ADDR": "2001:db8:2::1"}
    )
    assert response.status_code == 400
    assert response.get_json() == {"error": error, "error_description": description}


def test_an_empty_object_is_invalid_request(web):
    response = register(web, {})
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_request"


def test_registration_is_limited_per_address_across_workers(make_app, oauth_db, odb):
    """Two app instances stand for two server workers: they count the same attempts in the database."""
    config = {"REGISTRATION_LIMIT": 3, "REGISTRATION_WINDOW": 600}
    workers = [make_app(oauth_db[0], **config).test_client(), make_app(oauth_db[0], **config).test_client()]
    address = "2001:db8:3::1"
    answers = [register(workers[i % 2], {**APP, "client_name": f"Limited {i}"}, address).status_code for i in range(3)]
    assert answers == [201, 201, 201]
    refused = register(workers[1], {**APP, "client_name": "Limited 3"}, address)
    assert refused.status_code == 429
    assert refused.get_json() == {
        "error": "temporarily_unavailable",
        "error_description": "Too many attempts. Try again in 10 minutes. (registrations from one address)",
    }
    assert 590 <= int(refused.headers["Retry-After"]) <= 600
    assert stored(odb, "Limited 3") == 0
    assert register(workers[0], {**APP, "client_name": "Other address"}, "2001:db8:3::2").status_code == 201


def test_a_long_name_stored_before_the_bound_is_shown_bounded(web, odb):
    legacy, _ = clients.register_client(odb, "n" * 600_000, ["https://app.example/cb"], "public")
    app = Flow(web, legacy.client_id)
    app.login(KEALA)
    response = app.authorize(redirect_uri="https://app.example/cb")
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "asks to:" in page
    assert f"Allow {'n' * 99}… to see your record?" in page and "n" * 100 not in page
    assert len(page) < 20_000


FIELDS = [
    "client_name",
    "redirect_uris",
    "token_endpoint_auth_method",
    "grant_types",
    "response_types",
    "scope",
    "jwks",
    "jwks_uri",
    "contacts",
    "logo_uri",
    "client_uri",
    "software_id",
]
VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=30)
    | st.sampled_from(
        [
            "none",
            "private_key_jwt",
            "client_credentials",
            "authorization_code",
            "code",
            "https://app.example/cb",
            "system/*.rs",
            "patient/*.rs",
            "launch",
        ]
    ),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(metadata=st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=6))
def test_any_metadata_gets_a_registration_or_an_rfc_7591_error(web, metadata):
    response = register(web, {**APP, **metadata})
    body = response.get_json()
    if response.status_code == 201:
        assert body["client_type"] in ("public", "confidential", "asymmetric")
        assert set(body["scope"].split()) <= {
            "launch/patient",
            "openid",
            "fhirUser",
            "offline_access",
            "online_access",
        } | {s for s in body["scope"].split() if s.startswith("patient/")}
    else:
        assert response.status_code == 400, (response.status_code, metadata)
        assert body["error"] in ("invalid_client_metadata", "invalid_request", "invalid_redirect_uri")


def test_a_refusal_quoting_non_ascii_input_is_still_an_rfc_6749_error_description(web):
    """error_description allows printable ASCII without '"' and '\\' (RFC 6749 section 5.2); Authlib raised
    a ValueError (a 500) when a refusal quoted a scope like this one."""
    response = web.post(
        "/oauth/register",
        json={
            "redirect_uris": ["https://app.example/cb"],
            "token_endpoint_auth_method": "none",
            "scope": '.\u00a3\u00b2"\\x',
        },
    )
    assert response.status_code == 400
    assert response.json["error"] == "invalid_client_metadata"
    assert all(" " <= c <= "~" and c not in '"\\' for c in response.json["error_description"])
