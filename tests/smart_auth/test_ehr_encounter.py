"""EHR launch from a visit: the launch context carries the encounter, and the token says which (SMART App Launch
2.2, "Scopes for requesting context data" and "Launch context arrives with your access_token")."""

import re

from gateway import store

from .oauth_helpers import CONFIDENTIAL, STAFF, Flow, basic, bearer, csrf_of, form, query

ENCOUNTER_SCOPE = "launch launch/encounter openid fhirUser offline_access patient/*.rs"


def _visits(odb, summary, patient):
    pid = store.chart_rows(odb, "patients", uid=summary["patients"][patient])[0]["id"]
    return [row["uid"] for row in store.chart_rows(odb, "encounters", patient_id=pid)]


def _launch_from_visit(web, summary, encounter, patient="sofia"):
    flow = Flow(web, CONFIDENTIAL)
    flow.login(STAFF, path="/practice/login")
    uid = summary["patients"][patient]
    page = web.get(f"/practice/launch/{uid}")
    data = {"csrf_token": csrf_of(page.get_data(as_text=True)), "client_id": CONFIDENTIAL}
    if encounter is not None:
        data["encounter"] = encounter
    return flow, web.post(f"/practice/launch/{uid}", data=data)


def _tokens(web, flow, response):
    if response.status_code == 200:  # the staff consent page, the first time this app is launched
        hidden, _ = form(response.get_data(as_text=True), "/oauth/authorize/launch-decide")
        response = flow.client.post("/oauth/authorize/launch-decide", data={**dict(hidden), "decision": "allow"})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    code = query(response.headers["Location"])["code"]
    token = web.post(
        "/oauth/token",
        headers=basic(),
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": flow.params()["redirect_uri"],
            "code_verifier": flow.verifier,
        },
    )
    assert token.status_code == 200, token.get_json()
    return token.get_json()


def _authorized(web, summary, odb, scope, with_visit=True):
    visit = _visits(odb, summary, "sofia")[0]
    flow, response = _launch_from_visit(web, summary, visit if with_visit else None)
    assert response.status_code == 302
    return visit, _tokens(web, flow, flow.authorize(launch=query(response.headers["Location"])["launch"], scope=scope))


def test_the_launch_page_offers_the_charts_visits(web, summary, odb):
    Flow(web).login(STAFF, path="/practice/login")
    page = web.get(f"/practice/launch/{summary['patients']['sofia']}").get_data(as_text=True)
    assert re.findall(r'<option value="([^"]*)"', page) == [""] + _visits(odb, summary, "sofia")


def test_a_launch_from_a_visit_gives_the_encounter_and_it_can_be_read(web, summary, odb):
    visit, body = _authorized(web, summary, odb, ENCOUNTER_SCOPE)
    assert body["encounter"] == visit
    assert body["patient"] == summary["patients"]["sofia"]
    assert body["scope"] == ENCOUNTER_SCOPE
    # SMART 2.2 "fhirContext": Patient and Encounter are "not permitted within the fhirContext array unless they
    # include a role other than 'launch'"; the visit is the launch context, so it comes only as `encounter`.
    assert "fhirContext" not in body
    read = web.get(f"/fhir/Encounter/{visit}", headers=bearer(body["access_token"]))
    assert (read.status_code, read.get_json()["id"]) == (200, visit)


def test_without_launch_encounter_in_scope_there_is_no_encounter(web, summary, odb):
    _, body = _authorized(web, summary, odb, "launch openid fhirUser offline_access patient/*.rs")
    assert "encounter" not in body
    assert body["scope"] == "launch openid fhirUser offline_access patient/*.rs"


def test_a_launch_without_a_visit_does_not_grant_launch_encounter(web, summary, odb):
    _, body = _authorized(web, summary, odb, ENCOUNTER_SCOPE, with_visit=False)
    assert "encounter" not in body
    assert body["scope"] == "launch openid fhirUser offline_access patient/*.rs"


def test_a_visit_of_another_patient_is_refused_when_the_launch_is_made(web, summary, odb):
    other = _visits(odb, summary, "maria")[0]
    before = odb.execute("SELECT count(*) FROM launch_contexts").fetchone()[0]
    _, response = _launch_from_visit(web, summary, other)
    assert response.status_code == 400
    assert "That visit is not on this chart." in response.get_data(as_text=True)
    assert odb.execute("SELECT count(*) FROM launch_contexts").fetchone()[0] == before  # no launch was made


def test_an_unknown_visit_is_refused_when_the_launch_is_made(web, summary, odb):
    _, response = _launch_from_visit(web, summary, "no-such-visit")
    assert response.status_code == 400
    assert "That visit is not on this chart." in response.get_data(as_text=True)


def test_refresh_keeps_the_encounter(web, summary, odb):
    visit, body = _authorized(web, summary, odb, ENCOUNTER_SCOPE)
    refreshed = web.post(
        "/oauth/token", headers=basic(), data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    ).get_json()
    assert (refreshed["encounter"], refreshed["patient"]) == (visit, body["patient"])
    narrower = web.post(
        "/oauth/token",
        headers=basic(),
        data={
            "grant_type": "refresh_token",
            "refresh_token": refreshed["refresh_token"],
            "scope": "launch offline_access patient/*.rs",
        },
    ).get_json()
    assert narrower["scope"] == "launch offline_access patient/*.rs"
    assert "encounter" not in narrower


def test_introspection_returns_the_encounter(web, summary, odb):
    visit, body = _authorized(web, summary, odb, ENCOUNTER_SCOPE)
    for token in (body["access_token"], body["refresh_token"]):
        found = web.post("/oauth/introspect", headers=basic(), data={"token": token}).get_json()
        assert (found["active"], found["patient"], found["encounter"]) == (True, body["patient"], visit)
    _, plain = _authorized(web, summary, odb, "launch offline_access patient/*.rs")
    found = web.post("/oauth/introspect", headers=basic(), data={"token": plain["access_token"]}).get_json()
    assert "encounter" not in found


def test_a_standalone_launch_is_not_granted_launch_encounter(flow):
    body = flow.tokens(scope="launch/patient launch/encounter openid fhirUser patient/*.rs")
    assert "encounter" not in body
    assert body["scope"] == "launch/patient openid fhirUser patient/*.rs"


def test_discovery_lists_launch_encounter_for_ehr_launch_only(web):
    body = web.get("/fhir/.well-known/smart-configuration").get_json()
    assert "launch/encounter" in body["scopes_supported"]
    assert "context-ehr-encounter" in body["capabilities"]
    assert "context-standalone-encounter" not in body["capabilities"]


def test_the_standalone_consent_page_says_why_no_visit_is_told(flow):
    flow.login()
    page = flow.authorize(scope="launch/patient launch/encounter patient/*.rs").get_data(as_text=True)
    if "Which record" in page:
        page = flow.pick(page, "Maria").get_data(as_text=True)
    assert "The app is not told of a visit when you open it yourself." in page
    assert "Know which visit the app was opened from" not in page


def test_a_link_from_a_visit_opens_the_launch_page_with_that_visit_chosen(web, summary, odb):
    Flow(web).login(STAFF, path="/practice/login")
    visit = _visits(odb, summary, "sofia")[-1]
    page = web.get(f"/practice/launch/{summary['patients']['sofia']}?encounter={visit}").get_data(as_text=True)
    assert re.findall(r'<option value="([^"]*)" selected>', page) == [visit]
