"""The error cases the ONC (g)(10) certification test set's SMART groups run, each answered exactly, plus what a
refresh and a narrowed ``user/`` request must keep consistent.

RFC 6749 section 4.1.2.1: an authorization request error goes back to the app's registered redirect_uri as
``error`` (+ ``state``), except a missing, invalid or unregistered redirect_uri or client_id, which is shown to the
person and never redirected. Section 5.2: a bad code (unknown, used, expired, or redirect_uri not the one it was
issued for) is ``invalid_grant``; section 6: a refresh asking for more than was granted is ``invalid_scope``.
"""

import time
from urllib.parse import urlencode

from joserfc import jwt
from joserfc.jwk import KeySet

from smart_auth import launch

from .oauth_helpers import (
    BASE,
    CONFIDENTIAL,
    FHIR,
    KEALA,
    REDIRECT,
    SECRET,
    STAFF,
    Flow,
    basic,
    bearer,
    csrf_of,
    query,
)

INFERNO_BAD_AUD = "https://inferno.healthit.gov/invalid_aud"  # what the test kit sends (g10_smart_invalid_aud)


def _redirected(error, description, state="st-1"):
    return REDIRECT + "?" + urlencode({"error": error, "error_description": description, "state": state})


def _refresh(web, token, **extra):
    data = {"grant_type": "refresh_token", "refresh_token": token, **extra}
    return web.post("/oauth/token", headers=basic(), data=data)


def _introspect(web, token):
    return web.post("/oauth/introspect", headers=basic(), data={"token": token}).get_json()


def _confidential(web):
    return Flow(web, CONFIDENTIAL, SECRET)


def test_an_invalid_aud_redirects_invalid_request_and_never_a_code(flow):
    flow.login(KEALA)
    response = flow.authorize(aud=INFERNO_BAD_AUD)
    assert response.status_code == 302
    assert response.headers["Location"] == _redirected("invalid_request", "aud must be this server's FHIR base URL.")


def test_an_invalid_aud_is_refused_before_any_login(flow):
    """Nobody is asked to log in for a request that can never be granted."""
    response = flow.authorize(aud=INFERNO_BAD_AUD)
    assert response.status_code == 302
    assert response.headers["Location"] == _redirected("invalid_request", "aud must be this server's FHIR base URL.")


def test_an_invalid_launch_redirects_invalid_request(web):
    flow = _confidential(web)
    flow.login(STAFF, path="/practice/login")
    response = flow.authorize(launch="not-a-launch", scope="launch openid fhirUser patient/*.rs")
    assert response.status_code == 302
    assert response.headers["Location"] == _redirected("invalid_request", launch.UNKNOWN)


def test_an_expired_launch_redirects_invalid_request(web, summary, odb):
    flow = _confidential(web)
    flow.login(STAFF, path="/practice/login")
    page = web.get(f"/practice/launch/{summary['patients']['sofia']}").get_data(as_text=True)
    launched = web.post(
        f"/practice/launch/{summary['patients']['sofia']}",
        data={"csrf_token": csrf_of(page), "client_id": CONFIDENTIAL},
    )
    with odb:
        odb.execute("UPDATE launch_contexts SET expires_at = ?", (int(time.time()) - 1,))
    response = flow.authorize(launch=query(launched.headers["Location"])["launch"], scope="launch patient/*.rs")
    assert response.status_code == 302
    assert response.headers["Location"] == _redirected("invalid_request", launch.EXPIRED)


def test_a_bad_aud_with_an_unregistered_redirect_uri_shows_a_page_and_never_redirects(flow):
    flow.login(KEALA)
    response = flow.authorize(method="POST", aud=INFERNO_BAD_AUD, redirect_uri="https://evil.example/cb")
    assert (response.status_code, response.headers.get("Location")) == (400, None)


def test_an_unregistered_redirect_uri_shows_a_page_and_never_redirects(flow):
    flow.login(KEALA)
    response = flow.authorize(redirect_uri="https://inferno.healthit.gov/suites/custom/smart/redirect")
    assert (response.status_code, response.headers.get("Location")) == (400, None)
    page = response.get_data(as_text=True)
    assert "cannot be used" in page and "(error code <code>invalid_request</code>)" in page
    assert 'href="https://inferno' not in page  # named (escaped) so the developer can fix it, never linked


def test_an_unknown_client_with_a_bad_aud_shows_a_page_and_never_redirects(flow):
    """The redirect_uri cannot be trusted without a known client, whatever else is wrong (section 4.1.2.1)."""
    response = flow.authorize(client_id="no-such-client", aud=INFERNO_BAD_AUD)
    assert (response.status_code, response.headers.get("Location")) == (400, None)


def test_a_code_redeemed_with_another_redirect_uri_is_invalid_grant(web):
    flow = _confidential(web)
    code = flow.code(who=KEALA, patient="Keala")
    response = flow.exchange(code, redirect_uri=REDIRECT + "/other")
    assert (response.status_code, response.get_json()) == (
        400,
        {"error": "invalid_grant", "error_description": "Invalid 'redirect_uri' in request."},
    )


def test_a_reused_code_is_invalid_grant_and_revokes_the_tokens_it_issued(web):
    flow = _confidential(web)
    code = flow.code(who=KEALA, patient="Keala")
    first = flow.exchange(code).get_json()
    again = flow.exchange(code)
    assert (again.status_code, again.get_json()) == (
        400,
        {"error": "invalid_grant", "error_description": "Invalid 'code' in request."},
    )
    assert _introspect(web, first["access_token"]) == {"active": False}
    assert _introspect(web, first["refresh_token"]) == {"active": False}
    assert web.get(f"/fhir/Patient/{first['patient']}", headers=bearer(first["access_token"])).status_code == 401
    refused = _refresh(web, first["refresh_token"])
    assert (refused.status_code, refused.get_json()) == (400, {"error": "invalid_grant"})


def test_an_expired_code_is_invalid_grant(web, odb):
    flow = _confidential(web)
    code = flow.code(who=KEALA, patient="Keala")
    with odb:
        odb.execute("UPDATE oauth_codes SET expires_at = ? WHERE used_at IS NULL", (int(time.time()) - 1,))
    response = flow.exchange(code)
    assert (response.status_code, response.get_json()) == (
        400,
        {"error": "invalid_grant", "error_description": "Invalid 'code' in request."},
    )


def test_a_refresh_asking_for_a_wider_scope_is_invalid_scope(web):
    flow = _confidential(web)
    first = flow.tokens(who=KEALA, patient="Keala", scope="launch/patient offline_access patient/Condition.rs")
    response = _refresh(web, first["refresh_token"], scope="patient/Condition.rs patient/Observation.rs")
    assert (response.status_code, response.get_json()) == (
        400,
        {"error": "invalid_scope", "error_description": "A refresh cannot ask for more than was granted."},
    )
    assert _introspect(web, first["refresh_token"])["active"] is True  # the refused request did not use it up


def _claims(web, id_token):
    keys = KeySet.import_key_set(web.get("/oauth/jwks").get_json())
    return jwt.decode(id_token, keys, algorithms=["RS256"]).claims


def test_a_refresh_keeps_patient_fhir_user_scope_and_id_token_claims(web, summary):
    flow = _confidential(web)
    first = flow.tokens(who=KEALA, patient="Keala", nonce="n-1")
    time.sleep(1.1)  # the refreshed id_token's iat must be its own
    response = _refresh(web, first["refresh_token"])
    assert response.status_code == 200
    body = response.get_json()
    keala = summary["patients"]["keala"]
    assert (body["patient"], body["scope"]) == (keala, first["scope"])
    before, after = _claims(web, first["id_token"]), _claims(web, body["id_token"])
    fhir_user = f"{FHIR}/Patient/{keala}"
    assert (after["iss"], after["aud"], after["sub"], after["fhirUser"]) == (
        BASE,
        CONFIDENTIAL,
        before["sub"],
        fhir_user,
    )
    # OpenID Connect Core 1.0 section 12.2: auth_time stays the original login's, iat is new, no nonce.
    assert after["auth_time"] == before["auth_time"] and after["iat"] > before["iat"]
    assert "nonce" not in after and before["nonce"] == "n-1"
    seen = _introspect(web, body["access_token"])
    assert (seen["active"], seen["scope"], seen["patient"], seen["fhirUser"]) == (
        True,
        first["scope"],
        keala,
        fhir_user,
    )


def test_a_refresh_narrowed_to_drop_fhir_user_drops_it_everywhere(web, summary):
    flow = _confidential(web)
    first = flow.tokens(who=KEALA, patient="Keala")
    body = _refresh(web, first["refresh_token"], scope="openid patient/*.rs").get_json()
    assert (body["scope"], body["patient"]) == ("openid patient/*.rs", summary["patients"]["keala"])
    claims = _claims(web, body["id_token"])
    assert "fhirUser" not in claims and claims["sub"] == _claims(web, first["id_token"])["sub"]
    assert "fhirUser" not in _introspect(web, body["access_token"])


def test_a_refresh_without_openid_carries_no_id_token(web):
    flow = _confidential(web)
    first = flow.tokens(who=KEALA, patient="Keala")
    body = _refresh(web, first["refresh_token"], scope="patient/*.rs").get_json()
    assert body["scope"] == "patient/*.rs" and "id_token" not in body


def test_user_scopes_in_a_standalone_launch_are_granted_as_patient_scopes(web, summary):
    flow = _confidential(web)
    requested = "launch/patient openid fhirUser offline_access user/Condition.rs user/Observation.read patient/*.rs"
    body = flow.tokens(who=KEALA, patient="Keala", scope=requested)
    granted = "launch/patient openid fhirUser offline_access patient/Condition.rs patient/Observation.read patient/*.rs"
    assert body["scope"] == granted
    seen = _introspect(web, body["access_token"])
    assert (seen["scope"], seen["patient"]) == (granted, summary["patients"]["keala"])
    refreshed = _refresh(web, body["refresh_token"]).get_json()
    assert refreshed["scope"] == granted and _introspect(web, refreshed["access_token"])["scope"] == granted
    # Asking for the user/ form back on refresh is asking for more than was granted.
    wider = _refresh(web, refreshed["refresh_token"], scope="user/Condition.rs")
    assert (wider.status_code, wider.get_json()["error"]) == (400, "invalid_scope")


def test_the_test_kits_bad_code_then_bad_client_id_are_refused_and_leave_the_code_usable(web):
    """g10_smart_invalid_token_request_stu2 Test03/Test04: ``BAD_CODE`` with the app's credentials, then the real
    code with ``BAD_CLIENT_ID`` (Basic auth); neither may succeed (RFC 6749 section 5.2)."""
    flow = _confidential(web)
    code = flow.code(who=KEALA, patient="Keala")
    bad_code = flow.exchange("BAD_CODE")
    assert (bad_code.status_code, bad_code.get_json()) == (
        400,
        {"error": "invalid_grant", "error_description": "Invalid 'code' in request."},
    )
    bad_client = Flow(web, "BAD_CLIENT_ID", SECRET)
    bad_client.verifier = flow.verifier
    refused = bad_client.exchange(code)
    assert (refused.status_code, refused.get_json()["error"]) == (401, "invalid_client")
    assert refused.headers["WWW-Authenticate"].startswith("Basic")
    assert flow.exchange(code).status_code == 200


def test_the_test_kits_random_refresh_token_is_invalid_grant(web):
    """g10_invalid_token_refresh: a random UUID as refresh token, with the app's credentials."""
    response = _refresh(web, "8d3f2c1e-0000-4000-8000-000000000000")
    assert (response.status_code, response.get_json()) == (400, {"error": "invalid_grant"})


def test_a_reused_code_also_revokes_tokens_refreshed_from_it(web):
    """Everything descending from the code shares its family, so a replay ends the refreshed tokens too."""
    flow = _confidential(web)
    code = flow.code(who=KEALA, patient="Keala")
    first = flow.exchange(code).get_json()
    refreshed = _refresh(web, first["refresh_token"]).get_json()
    assert _introspect(web, refreshed["access_token"])["active"] is True
    assert flow.exchange(code).status_code == 400
    assert _introspect(web, refreshed["access_token"]) == {"active": False}
    assert _introspect(web, refreshed["refresh_token"]) == {"active": False}
