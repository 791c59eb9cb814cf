"""OpenID Connect: the id_token (RS256, kid, claims, fhirUser) and signing-key rotation."""

from joserfc import jwt
from joserfc.jwk import KeySet

from gateway import store
from smart_auth import keys

from .oauth_helpers import BASE, KEALA, PUBLIC, bearer


def _decode(web, id_token):
    token = jwt.decode(id_token, KeySet.import_key_set(web.get("/oauth/jwks").get_json()), algorithms=["RS256"])
    return token.header, token.claims


def test_id_token_is_rs256_with_the_claims_apps_check(flow, summary):
    body = flow.tokens(who=KEALA, patient="Keala")
    header, claims = _decode(flow.client, body["id_token"])
    assert header["alg"] == "RS256" and header["kid"]
    assert claims["iss"] == BASE and claims["aud"] == PUBLIC
    assert claims["exp"] > claims["iat"] and len(claims["sub"]) < 256
    assert claims["fhirUser"] == f"{BASE}/fhir/Patient/{summary['patients']['keala']}"
    relative = claims["fhirUser"].split("/fhir/", 1)[1]
    assert flow.client.get(f"/fhir/{relative}", headers=bearer(body["access_token"])).status_code == 200


def test_nonce_is_echoed(flow):
    body = flow.tokens(who=KEALA, patient="Keala", nonce="n-0S6_WzA2Mj")
    assert _decode(flow.client, body["id_token"])[1]["nonce"] == "n-0S6_WzA2Mj"


def test_no_id_token_without_openid(flow):
    assert "id_token" not in flow.tokens(who=KEALA, patient="Keala", scope="launch/patient patient/*.rs")


def test_no_fhir_user_claim_without_the_fhir_user_scope(flow):
    body = flow.tokens(who=KEALA, patient="Keala", scope="launch/patient openid patient/*.rs")
    assert "fhirUser" not in _decode(flow.client, body["id_token"])[1]


def test_rotation_keeps_old_keys_published_and_signs_with_the_new_one(flow, odb, oauth_app):
    before = {k["kid"] for k in flow.client.get("/oauth/jwks").get_json()["keys"]}
    new_kid = keys.rotate_signing_key(odb, oauth_app.config["SECRET_KEY"])
    after = {k["kid"] for k in flow.client.get("/oauth/jwks").get_json()["keys"]}
    assert after == before | {new_kid}
    body = flow.tokens(who=KEALA, patient="Keala")
    assert _decode(flow.client, body["id_token"])[0]["kid"] == new_kid


def test_retired_keys_leave_the_jwks_once_their_tokens_expired(odb, oauth_app):
    secret = oauth_app.config["SECRET_KEY"]
    old = keys.signing_key(odb, secret).kid
    keys.rotate_signing_key(odb, secret, keep_published=0)
    assert old not in {k["kid"] for k in keys.jwks(odb)["keys"]}


def test_a_representative_on_file_as_a_contact_is_their_related_person(flow, summary):
    # Maria acts for her daughter Sofia, and Sofia's chart keeps her (same email) as contact "sofia_mother".
    from fixtures.demo_practice import uid

    body = flow.tokens(patient="Sofia")
    claims = _decode(flow.client, body["id_token"])[1]
    assert body["patient"] == summary["patients"]["sofia"]
    assert claims["fhirUser"] == f"{BASE}/fhir/RelatedPerson/{uid('patient_contacts', 'sofia_mother')}"
    relative = claims["fhirUser"].split("/fhir/", 1)[1]
    person = flow.client.get(f"/fhir/{relative}", headers=bearer(body["access_token"])).get_json()
    assert person["patient"] == {"reference": f"Patient/{summary['patients']['sofia']}"}
    assert person["relationship"][0]["coding"][0]["code"] == "MTH"


def test_a_representative_not_on_file_as_a_contact_gets_no_fhir_user(flow, odb):
    moved = "UPDATE patient_contacts SET email = ? WHERE email = ?"
    with store.transaction(odb):
        odb.execute(moved, ("someone.else@example.com", "maria.garcia@example.com"))
    try:
        body = flow.tokens(patient="Sofia")
        assert "fhirUser" not in _decode(flow.client, body["id_token"])[1]
    finally:
        with store.transaction(odb):
            odb.execute(moved, ("maria.garcia@example.com", "someone.else@example.com"))
