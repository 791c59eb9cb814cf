"""Connected apps in the portal: the app a person allowed is listed in plain words, its reads show up in the
access history, and Revoke ends its grant, access token and refresh token at once."""
import re

import pytest

from gateway import store
from gateway.app import create_app
from tests.smart_auth.oauth_helpers import BASE, MARIA, Flow, bearer, build


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("apps") / "apps.db")
    build(path)
    return create_app({"DB": path, "BASE_URL": BASE, "TESTING": True})


def csrf_of(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def refresh(client, flow, token):
    return client.post("/oauth/token", data={"grant_type": "refresh_token", "refresh_token": token,
                                             "client_id": flow.client_id})


def test_revoke_ends_the_apps_next_call_and_next_refresh(app):
    client = app.test_client()
    flow = Flow(client)
    tokens = flow.tokens(who=MARIA, patient="Maria")
    patient = tokens["patient"]
    assert client.get(f"/fhir/Condition?patient={patient}", headers=bearer(tokens["access_token"])).status_code == 200
    page = client.get("/portal/apps").get_data(as_text=True)
    name = re.search(r"<h2>([^<]+)</h2>", page).group(1)
    assert "See diagnoses" in page or "See everything in the record" in page
    assert "Keep access while you are not using the app" in page
    assert "Last used" in page and "Not yet" not in page  # the search above used it
    history = client.get("/portal/history").get_data(as_text=True)
    assert name in history and "Condition" in history
    grant_id = re.search(r'action="/portal/apps/(\d+)/revoke"', page).group(1)
    response = client.post(f"/portal/apps/{grant_id}/revoke", data={"csrf_token": csrf_of(page)})
    assert response.status_code == 302
    assert "can no longer read this record" in client.get("/portal/apps").get_data(as_text=True)
    assert client.get(f"/fhir/Patient/{patient}", headers=bearer(tokens["access_token"])).status_code == 401
    assert refresh(client, flow, tokens["refresh_token"]).status_code in (400, 401)
    assert f'/portal/apps/{grant_id}/revoke' not in client.get("/portal/apps").get_data(as_text=True)


def test_a_grant_of_another_record_cannot_be_revoked_from_this_one(app):
    client = app.test_client()
    flow = Flow(client)
    flow.tokens(who=MARIA, patient="Sofia")
    page = client.get("/portal/apps").get_data(as_text=True)  # Maria's own record is on screen
    assert "/revoke" not in page
    row = store.connect(app.config["DB"]).conn.execute(
        "SELECT id FROM consent_grants WHERE revoked_at IS NULL ORDER BY id DESC LIMIT 1").fetchone()
    response = client.post(f"/portal/apps/{row[0]}/revoke", data={"csrf_token": csrf_of(page)})
    assert response.status_code == 404


def test_scope_words_are_plain():
    from gateway.portal_access import scope_words

    words = scope_words("launch/patient openid patient/Condition.rs patient/Observation.rs?category="
                        "http://terminology.hl7.org/CodeSystem/observation-category|laboratory offline_access")
    assert words == ["Know which record you chose", "Know who you are", "See diagnoses",
                     "See lab results (only laboratory)",
                     "Keep access while you are not using the app, until you revoke it"]
