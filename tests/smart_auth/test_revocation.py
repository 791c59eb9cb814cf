"""RFC 7009 revocation: an access token alone, or a refresh token with its whole family."""

from .oauth_helpers import KEALA, bearer


def _revoke(flow, token, **extra):
    return flow.client.post("/oauth/revoke", data={"token": token, "client_id": flow.client_id, **extra})


def test_revoking_an_access_token(flow):
    body = flow.tokens(who=KEALA, patient="Keala")
    response = _revoke(flow, body["access_token"])
    assert response.status_code == 200
    assert flow.client.get(f"/fhir/Patient/{body['patient']}", headers=bearer(body["access_token"])).status_code == 401


def test_revoking_a_refresh_token_ends_its_family(flow):
    body = flow.tokens(who=KEALA, patient="Keala")
    assert _revoke(flow, body["refresh_token"], token_type_hint="refresh_token").status_code == 200
    assert flow.client.get(f"/fhir/Patient/{body['patient']}", headers=bearer(body["access_token"])).status_code == 401
    refresh = flow.client.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "client_id": flow.client_id, "refresh_token": body["refresh_token"]},
    )
    assert refresh.status_code == 400


def test_an_unknown_token_is_fine(flow):
    assert _revoke(flow, "no-such-token").status_code == 200


def test_an_expired_access_token_is_refused_by_the_api(flow, odb):
    body = flow.tokens(who=KEALA, patient="Keala")
    with odb:
        odb.execute("UPDATE access_tokens SET expires_at = 1 WHERE revoked = 0 AND patient_id = ?", (body["patient"],))
    assert flow.client.get(f"/fhir/Patient/{body['patient']}", headers=bearer(body["access_token"])).status_code == 401
