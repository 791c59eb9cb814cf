"""Connected apps in the portal: the app a person allowed is listed in plain words, its reads show up in the
access history, and Revoke ends its grant, access token and refresh token at once."""

import datetime as dt
import re

import pytest

from gateway import store
from tests.smart_auth.oauth_helpers import MARIA, Flow, bearer, build


@pytest.fixture(scope="module")
def app(make_app, module_db_path):
    path = module_db_path("apps")
    build(path)
    return make_app(path, TESTING=True)


def csrf_of(html):
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def refresh(client, flow, token):
    return client.post(
        "/oauth/token", data={"grant_type": "refresh_token", "refresh_token": token, "client_id": flow.client_id}
    )


def test_revoke_ends_the_apps_next_call_and_next_refresh(app):
    client = app.test_client()
    flow = Flow(client)
    tokens = flow.tokens(who=MARIA, patient="Maria")
    patient = tokens["patient"]
    assert client.get(f"/fhir/Condition?patient={patient}", headers=bearer(tokens["access_token"])).status_code == 200
    page = client.get("/portal/apps").get_data(as_text=True)
    name = re.search(r"<h2>([^<]+)</h2>", page).group(1)
    assert "See everything in the record: all of the kinds of information listed by the practice" in page
    assert "Keep access when you are not using the app" in page
    assert "Last used" in page and "Not yet" not in page  # the search above used it
    history = client.get("/portal/history").get_data(as_text=True)
    assert name in history and "Health problems" in history
    grant_id = re.search(r'action="/portal/apps/(\d+)/revoke"', page).group(1)
    response = client.post(f"/portal/apps/{grant_id}/revoke", data={"csrf_token": csrf_of(page)})
    assert response.status_code == 302
    assert "can no longer read this record" in client.get("/portal/apps").get_data(as_text=True)
    assert client.get(f"/fhir/Patient/{patient}", headers=bearer(tokens["access_token"])).status_code == 401
    again = refresh(client, flow, tokens["refresh_token"])
    assert (again.status_code, again.get_json()) == (400, {"error": "invalid_grant"})
    assert f"/portal/apps/{grant_id}/revoke" not in client.get("/portal/apps").get_data(as_text=True)


def test_a_grant_of_another_record_cannot_be_revoked_from_this_one(app):
    client = app.test_client()
    flow = Flow(client)
    flow.tokens(who=MARIA, patient="Sofia")
    page = client.get("/portal/apps").get_data(as_text=True)  # Maria's own record is on screen
    assert "/revoke" not in page
    row = (
        store.connect(app.config["DB"])
        .execute("SELECT id FROM consent_grants WHERE revoked_at IS NULL ORDER BY id DESC LIMIT 1")
        .fetchone()
    )
    response = client.post(f"/portal/apps/{row[0]}/revoke", data={"csrf_token": csrf_of(page)})
    assert response.status_code == 404


def _last_used(client):
    """The "Last used" words of the first app listed on Connected apps."""
    page = client.get("/portal/apps").get_data(as_text=True)
    return re.search(r"<dt>Last used</dt><dd>(.*?)</dd>", page).group(1)


def test_a_re_granted_app_shows_use_of_its_current_grant_only(app):
    client = app.test_client()
    flow = Flow(client)
    old = flow.tokens(who=MARIA, patient="Maria")
    assert (
        client.get(f"/fhir/Condition?patient={old['patient']}", headers=bearer(old["access_token"])).status_code == 200
    )
    db = store.connect(app.config["DB"])
    with db:  # the old grant's read happened two minutes ago, before the grant below exists
        db.execute("UPDATE access_log.disclosures SET at = at - 120000")
    page = client.get("/portal/apps").get_data(as_text=True)
    grant_id = re.search(r'action="/portal/apps/(\d+)/revoke"', page).group(1)
    assert client.post(f"/portal/apps/{grant_id}/revoke", data={"csrf_token": csrf_of(page)}).status_code == 302
    new = Flow(client).tokens(who=MARIA, patient="Maria")
    assert _last_used(client) == "Not yet"
    assert (
        client.get(f"/fhir/Condition?patient={new['patient']}", headers=bearer(new["access_token"])).status_code == 200
    )
    newest = db.execute("SELECT max(at) FROM access_log.disclosures").fetchone()[0] // 1000
    used = dt.datetime.fromtimestamp(newest, dt.timezone.utc).isoformat().replace("+00:00", "Z")
    assert _last_used(client).startswith(f'<time datetime="{used}">')


LAB = "patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory"
ALL_RESULTS = (
    "See results of all kinds: lab results, vital signs, social history (such as smoking), questionnaire "
    "answers and social needs"
)


def _apps_lines(client):
    """The "It may" lines of the first app listed on Connected apps."""
    page = client.get("/portal/apps").get_data(as_text=True)
    return re.findall(r"<li>([^<]+)</li>", re.search(r'<ul class="scopes">(.*?)</ul>', page, re.S).group(1))


@pytest.mark.parametrize(
    "tick, lines",
    [
        ([LAB], ["Know which record you chose", "See results of these kinds only: lab results"]),
        ([], ["Know which record you chose", ALL_RESULTS]),
    ],
)
def test_connected_apps_says_exactly_what_was_granted(app, tick, lines):
    client = app.test_client()
    flow = Flow(client)
    flow.login(MARIA)
    page = flow.authorize(scope="launch/patient patient/Observation.rs", prompt="consent").get_data(as_text=True)
    page = flow.pick(page, "Maria").get_data(as_text=True)
    assert flow.decide(page, tick=tick).status_code == 302
    assert _apps_lines(client) == lines


def test_scope_words_are_plain():
    from smart_auth.scope_words import describe

    words = describe(f"launch/patient openid patient/Condition.rs {LAB} offline_access")
    assert words == [
        "Know which record you chose",
        "Confirm to the app that you signed in here",
        "See health problems of all kinds: problem list, diagnoses made at visits and health concerns",
        "See results of these kinds only: lab results",
        "Keep access when you are not using the app",
    ]
