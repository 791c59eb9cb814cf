"""Refresh tokens: rotation, family revocation on reuse, no widening, and the end of consent."""

import pytest

from smart_auth import consent
from smart_auth.tokens import revoke_account_access

from .oauth_helpers import CONFIDENTIAL, KEALA, SECRET, Flow, basic, bearer


def _refresh(flow, token, **extra):
    data = {"grant_type": "refresh_token", "refresh_token": token, "client_id": flow.client_id, **extra}
    return flow.client.post("/oauth/token", data=data)


@pytest.mark.parametrize(
    "scope", [None, "patient/*.rs openid", "launch/patient openid fhirUser offline_access patient/*.rs"]
)
def test_refresh_rotates_with_and_without_scope(flow, scope):
    first = flow.tokens(who=KEALA, patient="Keala")
    response = _refresh(flow, first["refresh_token"], **({"scope": scope} if scope else {}))
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store" and response.headers["Pragma"] == "no-cache"
    body = response.get_json()
    assert body["token_type"] == "Bearer" and isinstance(body["expires_in"], int)
    assert body["scope"] == (scope or first["scope"])
    assert body["refresh_token"] != first["refresh_token"]
    assert body["patient"] == first["patient"]
    assert (body["need_patient_banner"], body["smart_style_url"]) == (
        True,
        "http://gateway.test/oauth/smart-style.json",
    )
    assert flow.client.get(f"/fhir/Patient/{body['patient']}", headers=bearer(body["access_token"])).status_code == 200
    again = _refresh(flow, body["refresh_token"])  # the new refresh token works, with the full original scope
    assert again.status_code == 200 and again.get_json()["scope"] == first["scope"]


def test_a_refresh_cannot_widen_the_scope(flow):
    first = flow.tokens(who=KEALA, patient="Keala", scope="launch/patient offline_access patient/Condition.rs")
    response = _refresh(flow, first["refresh_token"], scope="patient/Condition.rs patient/Observation.rs")
    assert response.status_code == 400 and response.get_json()["error"] == "invalid_scope"
    assert _refresh(flow, first["refresh_token"]).status_code == 200  # the refused request did not use it up


def test_reusing_a_rotated_refresh_token_revokes_the_whole_family(flow):
    first = flow.tokens(who=KEALA, patient="Keala")
    second = _refresh(flow, first["refresh_token"]).get_json()
    reused = _refresh(flow, first["refresh_token"])
    assert reused.status_code == 400 and reused.get_json()["error"] == "invalid_grant"
    assert _refresh(flow, second["refresh_token"]).status_code == 400
    for token in (first["access_token"], second["access_token"]):
        assert flow.client.get(f"/fhir/Patient/{first['patient']}", headers=bearer(token)).status_code == 401


@pytest.mark.parametrize("token", ["bogus", ""])
def test_a_bogus_refresh_token_is_refused(flow, token):
    response = _refresh(flow, token)
    assert (response.status_code, response.get_json()) == (400, {"error": "invalid_grant"})


def test_a_refresh_token_belongs_to_its_client(flow, web):
    first = flow.tokens(who=KEALA, patient="Keala")
    response = web.post(
        "/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
            "client_id": "demo-confidential-app",
        },
    )
    # A confidential client that does not authenticate is refused before its refresh token is looked at.
    assert (response.status_code, response.get_json()["error"]) == (401, "invalid_client")


def test_a_public_app_refreshes_without_naming_itself(flow):
    # SMART App Launch 2.x, "Refresh access token": "For public apps, authentication is not possible (and thus
    # not required)". fhirclient 2.x sends only grant_type and refresh_token; the token names its client.
    first = flow.tokens(who=KEALA, patient="Keala")
    data = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    response = flow.client.post("/oauth/token", data=data)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["patient"], body["scope"]) == (first["patient"], first["scope"])
    assert body["refresh_token"] != first["refresh_token"]
    assert flow.client.get(f"/fhir/Patient/{body['patient']}", headers=bearer(body["access_token"])).status_code == 200
    reused = flow.client.post("/oauth/token", data=data)  # rotation holds without a client_id too
    assert (reused.status_code, reused.get_json()) == (400, {"error": "invalid_grant"})


def test_a_confidential_apps_refresh_token_without_its_secret_is_refused(web):
    confidential = Flow(web, CONFIDENTIAL, SECRET)
    first = confidential.tokens(who=KEALA, patient="Keala")
    data = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    response = web.post("/oauth/token", data=data)
    assert (response.status_code, response.get_json()["error"]) == (401, "invalid_client")
    assert confidential.client.post("/oauth/token", data=data, headers=basic()).status_code == 200  # not used up


@pytest.mark.parametrize("token", ["bogus", ""])
def test_an_unknown_refresh_token_naming_no_client_is_an_unknown_client(web, token):
    response = web.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": token})
    assert (response.status_code, response.get_json()["error"]) == (401, "invalid_client")


def test_revoking_consent_ends_access_and_refresh(flow, odb):
    first = flow.tokens(who=KEALA, patient="Keala")
    [grant] = [g for g in consent.grants_of(odb, _uid(odb, KEALA[0])) if g["patient"] == first["patient"]]
    assert consent.revoke(odb, _uid(odb, KEALA[0]), grant["id"])
    assert (
        flow.client.get(f"/fhir/Patient/{first['patient']}", headers=bearer(first["access_token"])).status_code == 401
    )
    assert _refresh(flow, first["refresh_token"]).status_code == 400


def test_revoke_account_access_ends_refresh_tokens_and_grants(flow, odb):
    first = flow.tokens(who=KEALA, patient="Keala")
    uid = _uid(odb, KEALA[0])
    assert revoke_account_access(odb, first["patient"], uid) >= 2
    assert not [g for g in consent.grants_of(odb, uid) if g["patient"] == first["patient"]]
    assert (
        flow.client.get(f"/fhir/Patient/{first['patient']}", headers=bearer(first["access_token"])).status_code == 401
    )
    assert _refresh(flow, first["refresh_token"]).status_code == 400


def test_online_access_also_gets_a_refresh_token(flow):
    body = flow.tokens(who=KEALA, patient="Keala", scope="launch/patient online_access patient/*.rs")
    assert body["refresh_token"]
    assert _refresh(flow, body["refresh_token"]).status_code == 200


def _uid(db, email):
    from gateway.store import accounts as account_store

    return account_store.account_by_email(db, email)["uid"]
