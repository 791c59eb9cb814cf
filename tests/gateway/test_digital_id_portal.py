""" "Verify with a digital ID": the portal drives a real, separate OpenID provider (tests/oidc_provider.py) through
Authlib's client; a verified identity that matches the invited chart links it, anything else links nothing."""

import re
import urllib.parse

import pytest
import requests
from joserfc.jwk import OctKey, RSAKey

from gateway import store
from gateway.store import accounts as account_store
from gateway.store import enrollment as enrollment_store
from smart_auth import accounts, digital_id, enrollment, idp_client, verification
from tests.enrollment_helpers import STAFF, context, last_link
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, Provider
from tests.web_helpers import enrollment_app, portal_login, post, staff_login, text

BASE = "http://gateway.test"
CALLBACK = f"{BASE}/portal/verify/digital-id/callback"


@pytest.fixture
def provider():
    # The caches are per process and keyed by address: a port used again must not find the last test's keys.
    idp_client.metadata_cache.clear()
    idp_client.keys_cache.clear()
    op = Provider(CALLBACK).start()
    yield op
    op.stop()


def make_web(new_db_path, issuer, **config):
    settings = {"IDP_ISSUER": issuer, "IDP_CLIENT_ID": CLIENT_ID, "IDP_CLIENT_SECRET": CLIENT_SECRET, **config}
    app, db = enrollment_app(new_db_path, **settings)
    store.update_row(db, "patients", 1, {"address_line": "12 Oak Street", "postal_code": "62704"})
    return app.test_client(), db


@pytest.fixture
def web(new_db_path, provider):
    return make_web(new_db_path, provider.issuer)


def invited(client, db, pid=1, email="jose.r@example.com", relation="self"):
    """An account, logged in, holding an open invitation to chart ``pid``; returns the invitation."""
    account = accounts.create_account(db, email, "Secret-Pass1", confirmed=True)
    person = {"relation": relation, "email": email, "phone": "555-010-0001"}
    made = enrollment.invite_people(context(db), store.chart_row(db, "patients", pid), [person], STAFF)[0]
    verification.claim_invite(context(db), last_link(db), account)
    assert portal_login(client, email).status_code == 302
    return made


def start(client, made, data=None):
    response = post(client, f"/portal/verify/{made['uid']}/digital-id", data)
    assert response.status_code == 303, text(response)
    return response.headers["Location"]


def at_provider(url):
    """The person signs in at the provider; return the gateway address it sends them back to."""
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def back(client, callback_url):
    assert callback_url.startswith(CALLBACK + "?")
    return client.get(callback_url[len(BASE) :])


def verify(client, made):
    return back(client, at_provider(start(client, made)))


def links(db, patient_id):
    return [link for link in account_store.links_of_patient(db, patient_id) if link["status"] == "active"]


def history(db, patient_id=1):
    """(event, detail) of the chart's enrollment history, oldest first."""
    return [(e["event"], e["detail"]) for e in reversed(enrollment_store.events_of_patient(db, patient_id))]


def invite_row(db, made):
    return enrollment_store.invite_by_id(db, made["id"])


def test_a_matching_verified_identity_links_the_invited_chart_without_the_code(web):
    client, db = web
    made = invited(client, db)
    page = text(client.get(f"/portal/verify/{made['uid']}"))
    assert "Verify with a digital ID" in page
    before = client.get_cookie("gateway_session").value
    response = verify(client, made)
    assert (response.status_code, response.headers["Location"]) == (302, "/portal/records/")
    assert client.get_cookie("gateway_session").value != before
    assert [link["relation"] for link in links(db, 1)] == ["self"]
    assert (invite_row(db, made)["status"], invite_row(db, made)["failed_attempts"]) == ("linked", 0)
    assert history(db)[-2:] == [("verified", "by digital ID"), ("linked", "self")]


def test_the_authorization_request_is_code_flow_with_pkce_state_nonce_and_a_fixed_redirect(web):
    client, db = web
    made = invited(client, db)
    url = start(client, made, {"redirect_uri": "https://evil.example/steal", "next": "https://evil.example/"})
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert {k: v[0] for k, v in query.items() if k not in ("state", "nonce", "code_challenge")} == {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "redirect_uri": CALLBACK,
        "scope": "openid profile email address",
        "code_challenge_method": "S256",
        "acr_values": "http://idmanagement.gov/ns/assurance/ial/2 http://idmanagement.gov/ns/assurance/ial/2/aal/2"
        " urn:acr.login.gov:verified-facial-match-required",
    }
    # The test client talks to "localhost": the redirect_uri comes from GATEWAY_BASE_URL, never the request.
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32 and len(query["code_challenge"][0]) == 43


def test_a_different_name_does_not_link_and_tells_staff_which_field(web, provider):
    client, db = web
    made = invited(client, db)
    provider.claims["family_name"] = "Smith"
    response = verify(client, made)
    page = text(response)
    assert response.status_code == 400
    assert "do not match the record at Test Practice" in page
    assert "access code from your practice" in page and "code by text message" in page
    assert links(db, 1) == [] and invite_row(db, made)["status"] == "invited"
    assert history(db)[-1] == ("digital ID not matched", "family name did not match")
    assert "Smith" not in str(history(db))
    desk = client.application.test_client()
    staff_login(desk)
    row = re.search(r"<td>digital ID not matched</td>.*?</tr>", text(desk.get("/practice/patients/pat-1")), re.S)
    assert "family name did not match" in row.group(0) and "jose.r@example.com" in row.group(0)


def test_a_different_birth_date_does_not_link(web, provider):
    client, db = web
    made = invited(client, db)
    provider.claims["birthdate"] = "1980-05-18"
    assert verify(client, made).status_code == 400
    assert links(db, 1) == []
    assert history(db)[-1] == ("digital ID not matched", "date of birth did not match")
    assert "1980-05-18" not in str(history(db))


def test_accents_case_hyphens_and_an_address_the_chart_agrees_with_still_match(web, provider):
    client, db = web
    made = invited(client, db)
    provider.claims.update(
        given_name="JOSÉ",
        family_name="ramírez",
        address={"street_address": "12 OAK ST.\nApt 4", "postal_code": "62704-1234", "locality": "Springfield"},
    )
    assert verify(client, made).headers["Location"] == "/portal/records/"
    assert len(links(db, 1)) == 1


def test_an_address_the_chart_disagrees_with_does_not_link(web, provider):
    client, db = web
    made = invited(client, db)
    provider.claims["address"] = {"street_address": "9 Elm Road", "postal_code": "62704"}
    assert verify(client, made).status_code == 400
    assert history(db)[-1] == ("digital ID not matched", "address did not match")


@pytest.mark.parametrize(
    ("knob", "value", "reason"),
    [
        ("claims", {"acr": None}, "no IAL2 assurance (acr)"),
        ("claims", {"acr": "urn:acr.login.gov:auth-only"}, "no IAL2 assurance (acr)"),
        ("token_issuer", "https://other-provider.example", "token not accepted (iss)"),
        ("token_audience", "some-other-app", "token not accepted (aud)"),
        ("lifetime", -600, "token not accepted (exp)"),
        ("issued_ago", 1200, "token not accepted (iat)"),  # OIDC Core 3.1.3.7 item 10: issued too long ago
        ("signing_key", RSAKey.generate_key(2048, parameters={"kid": "op-key-1"}), "token not accepted (signature)"),
        # HS256 keyed with the client secret the gateway knows: never accepted in place of the provider's key
        ("signing_key", OctKey.import_key(CLIENT_SECRET, {"kid": "op-key-1"}), "token not accepted (signature)"),
    ],
)
def test_a_token_that_fails_a_check_links_nothing(web, provider, knob, value, reason):
    client, db = web
    made = invited(client, db)
    if knob == "claims":
        provider.claims.update(value)
    else:
        setattr(provider, knob, value)
    response = verify(client, made)
    assert response.status_code == 400
    assert "could not confirm your identity" in text(response) and "access code from your practice" in text(response)
    assert links(db, 1) == [] and invite_row(db, made)["failed_attempts"] == 0
    assert history(db)[-1] == ("digital ID refused", reason)


def test_a_replayed_id_token_or_callback_is_refused(web, provider):
    client, db = web
    made = invited(client, db)
    provider.claims["family_name"] = "Smith"
    first = at_provider(start(client, made))
    assert back(client, first).status_code == 400
    replayed = back(client, first)  # the same code and state again
    assert replayed.status_code == 400 and "Start again" in text(replayed)
    provider.claims["family_name"] = "Ramirez"
    provider.replay = provider.issued[0]  # an old ID token (its nonce was for the first sign-in)
    assert verify(client, made).status_code == 400
    assert history(db)[-1] == ("digital ID refused", "token not accepted (nonce)")
    assert links(db, 1) == []


def test_a_nonce_is_accepted_once_across_sessions_and_processes(web):
    _, db = web
    assert digital_id.first_use_of_nonce(db, "https://idp.example", "n-1", 2_000_000_000) is True
    assert digital_id.first_use_of_nonce(db, "https://idp.example", "n-1", 2_000_000_000) is False


def test_a_callback_carried_to_another_session_links_nothing(web):
    client, db = web
    made = invited(client, db)
    victim = client.application.test_client()
    invited(victim, db, pid=2, email="victim@example.com")
    response = back(victim, at_provider(start(client, made)))
    assert response.status_code == 400 and "Start again" in text(response)
    assert links(db, 1) == links(db, 2) == []


def test_the_invitation_scopes_the_chart_a_verified_identity_can_link(web):
    """José's verified identity, on an invitation to Anna's chart, links neither Anna's nor José's chart."""
    client, db = web
    made = invited(client, db, pid=2)
    assert verify(client, made).status_code == 400
    assert links(db, 1) == links(db, 2) == []
    assert history(db, 2)[-1] == ("digital ID not matched", "given name, family name, date of birth did not match")


def test_a_representatives_invitation_offers_no_digital_id(web):
    client, db = web
    made = invited(client, db, pid=2, relation="parent")
    assert "Verify with a digital ID" not in text(client.get(f"/portal/verify/{made['uid']}"))
    assert post(client, f"/portal/verify/{made['uid']}/digital-id").status_code == 404


def test_without_a_provider_there_is_no_button_and_no_door(new_db_path):
    app, db = enrollment_app(new_db_path)
    client = app.test_client()
    made = invited(client, db)
    assert "digital ID" not in text(client.get(f"/portal/verify/{made['uid']}"))
    assert post(client, f"/portal/verify/{made['uid']}/digital-id").status_code == 404
    assert client.get("/portal/verify/digital-id/callback?code=x&state=y").status_code == 404


def test_an_unreachable_provider_is_a_clear_page(new_db_path):
    client, db = make_web(new_db_path, "http://127.0.0.1:9")
    made = invited(client, db)
    response = post(client, f"/portal/verify/{made['uid']}/digital-id")
    assert response.status_code == 503
    assert "could not reach the digital ID service" in text(response)
    assert "access code from your practice" in text(response)


def test_the_person_cancelling_at_the_provider_returns_to_the_choices(web):
    client, db = web
    made = invited(client, db)
    url = start(client, made)
    state = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["state"][0]
    response = client.get(f"/portal/verify/digital-id/callback?error=access_denied&state={state}")
    assert response.status_code == 400 and "The digital ID sign-in did not finish" in text(response)
    assert "Verify with the code" in text(response) and links(db, 1) == []


def test_a_provider_that_names_the_person_only_in_userinfo_still_matches(web, provider):
    client, db = web
    made = invited(client, db)
    provider.userinfo_only = True
    assert verify(client, made).headers["Location"] == "/portal/records/"
    assert provider.requests[-3:] == ["/token", "/jwks", "/userinfo"]


def test_userinfo_about_another_subject_links_nothing(web, provider):
    client, db = web
    made = invited(client, db)
    provider.userinfo_only, provider.userinfo_sub = True, "someone-else"
    assert verify(client, made).status_code == 400
    assert links(db, 1) == [] and history(db)[-1] == ("digital ID refused", "userinfo not accepted (sub)")


def test_discovery_and_keys_are_fetched_once_while_fresh(new_db_path, provider):
    client, db = make_web(new_db_path, provider.issuer)
    made = invited(client, db, pid=2)
    for _ in range(2):
        assert verify(client, made).status_code == 400
    assert provider.requests.count("/.well-known/openid-configuration") == 1
    assert provider.requests.count("/jwks") == 1


def test_a_required_vector_of_trust_must_be_in_the_token(new_db_path, provider):
    client, db = make_web(new_db_path, provider.issuer, IDP_VOT_VALUES="P2.Cc")
    made = invited(client, db)
    assert verify(client, made).status_code == 400
    assert history(db)[-1] == ("digital ID refused", "no accepted vector of trust (vot)")
    provider.claims["vot"] = "P2.Cc"
    assert verify(client, made).headers["Location"] == "/portal/records/"


def test_a_discovery_document_past_the_size_cap_is_a_clear_page(web, provider):
    client, db = web
    made = invited(client, db)
    provider.discovery_padding = 70 * 1024
    response = post(client, f"/portal/verify/{made['uid']}/digital-id")
    assert response.status_code == 503 and "could not reach the digital ID service" in text(response)


def test_a_locked_invitation_stays_locked(web):
    client, db = web
    made = invited(client, db)
    for _ in range(5):
        post(client, f"/portal/verify/{made['uid']}/pin", {"pin": "WRONG-CODE"})
    assert invite_row(db, made)["status"] == "locked"
    assert "Verify with a digital ID" not in text(client.get(f"/portal/verify/{made['uid']}"))
    assert post(client, f"/portal/verify/{made['uid']}/digital-id").status_code == 404
    assert links(db, 1) == []


def test_an_invitation_locked_during_the_sign_in_is_not_linked(web):
    client, db = web
    made = invited(client, db)
    callback = at_provider(start(client, made))
    for _ in range(5):
        post(client, f"/portal/verify/{made['uid']}/pin", {"pin": "WRONG-CODE"})
    response = back(client, callback)
    assert response.status_code == 423 and "must re-invite you" in text(response)
    assert links(db, 1) == []


def test_a_discovery_document_naming_another_issuer_is_not_used(new_db_path, provider):
    """OpenID Connect Discovery 1.0 section 4.3: the issuer in the document must be the one configured, exactly."""
    client, db = make_web(new_db_path, provider.issuer + "/")
    made = invited(client, db)
    response = post(client, f"/portal/verify/{made['uid']}/digital-id")
    assert response.status_code == 503 and provider.requests == ["/.well-known/openid-configuration"]
