"""EHR launch: staff open an app for a chart; the app's authorization carries that chart as its patient."""

from urllib.parse import urlsplit

from .oauth_helpers import CONFIDENTIAL, FHIR, STAFF, Flow, basic, bearer, csrf_of, query


def _launch(web, summary, patient="sofia"):
    flow = Flow(web, CONFIDENTIAL)
    flow.login(STAFF, path="/practice/login")
    uid = summary["patients"][patient]
    page = web.get(f"/practice/launch/{uid}")
    assert page.status_code == 200 and "Launch Demo practice app" in page.get_data(as_text=True)
    response = web.post(
        f"/practice/launch/{uid}", data={"csrf_token": csrf_of(page.get_data(as_text=True)), "client_id": CONFIDENTIAL}
    )
    assert response.status_code == 302
    return flow, response.headers["Location"]


def test_launch_redirects_to_the_app_with_iss_and_launch(web, summary):
    _, location = _launch(web, summary)
    assert location.startswith("http://127.0.0.1:9000/launch?")
    found = query(location)
    assert found["iss"] == FHIR and found["launch"]


def test_ehr_launch_token_has_the_chart_as_patient(web, summary):
    flow, location = _launch(web, summary)
    response = flow.authorize(
        launch=query(location)["launch"], scope="launch openid fhirUser offline_access user/*.rs patient/*.rs"
    )
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
    body = token.get_json()
    assert token.status_code == 200, body
    assert body["patient"] == summary["patients"]["sofia"]
    assert body["need_patient_banner"] is False  # the EHR shows the patient already (SMART 2.2 launch context)
    assert body["smart_style_url"] == "http://gateway.test/oauth/smart-style.json"
    assert web.get(urlsplit(body["smart_style_url"]).path).status_code == 200
    # user/ scopes are narrowed to the launched chart (see smart_auth.consent)
    assert body["scope"] == "launch openid fhirUser offline_access patient/*.rs"
    other = summary["patients"]["maria"]
    assert web.get(f"/fhir/Patient/{other}", headers=bearer(body["access_token"])).status_code == 404
    assert web.get(f"/fhir/Patient/{body['patient']}", headers=bearer(body["access_token"])).status_code == 200
    refreshed = web.post(
        "/oauth/token", headers=basic(), data={"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    ).get_json()
    assert (refreshed["need_patient_banner"], refreshed["smart_style_url"]) == (False, body["smart_style_url"])


def test_a_launch_needs_the_staff_user_who_made_it(web, summary):
    _, location = _launch(web, summary)
    stranger = Flow(web.application.test_client(), CONFIDENTIAL)
    stranger.login(("frontdesk@lakesideclinic.example.org", "Practice-Demo-2"), path="/practice/login")
    found = query(stranger.authorize(launch=query(location)["launch"], scope="launch patient/*.rs").headers["Location"])
    assert found["error"] == "invalid_request" and "code" not in found


def test_an_unknown_launch_is_refused(web, summary):
    flow = Flow(web, CONFIDENTIAL)
    flow.login(STAFF, path="/practice/login")
    found = query(flow.authorize(launch="made-up", scope="launch patient/*.rs").headers["Location"])
    assert found["error"] == "invalid_request"


def test_staff_cannot_launch_for_another_practices_chart(web, summary):
    Flow(web).login(STAFF, path="/practice/login")
    assert web.get(f"/practice/launch/{summary['patients']['wei']}").status_code == 404


def test_an_ehr_launch_without_a_practice_login_goes_to_the_practice_login(web):
    response = Flow(web, CONFIDENTIAL).authorize(launch="anything", scope="launch patient/*.rs")
    assert response.status_code == 302 and response.headers["Location"].startswith("/practice/login?next=")
