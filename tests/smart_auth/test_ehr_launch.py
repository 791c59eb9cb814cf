"""EHR launch: staff open an app for a chart; the app's authorization carries that chart as its patient."""

import re
from urllib.parse import urlsplit

import pytest

from gateway import store
from gateway.store import oauth as oauth_store
from smart_auth import launch as launches

from .oauth_helpers import CONFIDENTIAL, FHIR, REDIRECT, STAFF, Flow, basic, bearer, csrf_of, form, query

LAUNCH_SCOPE = "launch openid fhirUser offline_access user/*.rs patient/*.rs"
USED = "This launch has already been used: launch the app again from the chart."
EXPIRED = "This launch has expired: launch the app again from the chart."


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


def _decide(flow, page, decision):
    """Answer the staff consent page with its own form (its hidden fields and CSRF token)."""
    hidden, _ = form(page.get_data(as_text=True), "/oauth/authorize/launch-decide")
    return flow.client.post("/oauth/authorize/launch-decide", data={**dict(hidden), "decision": decision})


def _approved(flow, launch, scope=LAUNCH_SCOPE):
    """Authorize an EHR launch, approving the app on the consent page if it is shown."""
    response = flow.authorize(launch=launch, scope=scope)
    return _decide(flow, response, "allow") if response.status_code == 200 else response


def test_ehr_launch_token_has_the_chart_as_patient(web, summary):
    flow, location = _launch(web, summary)
    response = _approved(flow, query(location)["launch"])
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


def _heading(response):
    return re.search(r"<h1>(.*?)</h1>", response.get_data(as_text=True), re.S).group(1)


def test_the_first_launch_of_an_app_asks_the_staff_user_and_the_next_does_not(web, summary):
    flow, location = _launch(web, summary)
    page = flow.authorize(launch=query(location)["launch"], scope="launch openid fhirUser patient/Observation.rs")
    assert page.status_code == 200
    assert _heading(page) == "Open Demo practice app with the chart of Sofia Garcia?"
    assert re.findall(r"<li><strong>(.*?)</strong>", page.get_data(as_text=True)) == [
        "Open with the record chosen in the practice console",
        "Confirm to the app that you signed in here",
        "Know who you are",
        "Results",
    ]
    response = _decide(flow, page, "allow")
    assert response.status_code == 302 and set(query(response.headers["Location"])) == {"code", "state"}
    _, again = _launch(web, summary)
    response = flow.authorize(launch=query(again)["launch"], scope="launch openid fhirUser patient/Observation.rs")
    assert response.status_code == 302 and set(query(response.headers["Location"])) == {"code", "state"}


def test_a_wider_request_than_approved_asks_again(web, summary):
    flow, location = _launch(web, summary)
    assert _approved(flow, query(location)["launch"], scope="launch patient/Observation.rs").status_code == 302
    _, again = _launch(web, summary)
    assert flow.authorize(launch=query(again)["launch"], scope="launch patient/*.rs").status_code == 200


def test_denying_sends_access_denied_and_uses_up_the_launch(web, summary):
    flow, location = _launch(web, summary)
    handle = query(location)["launch"]
    response = _decide(flow, flow.authorize(launch=handle, scope=LAUNCH_SCOPE), "deny")
    assert response.status_code == 302
    found = query(response.headers["Location"])
    assert (found["error"], found["state"], "code" in found) == ("access_denied", "st-1", False)
    again = query(flow.authorize(launch=handle, scope=LAUNCH_SCOPE).headers["Location"])
    assert (again["error"], again["error_description"]) == ("invalid_request", USED)
    # and the page shows the consent again next time: a denial is not remembered as an approval
    _, fresh = _launch(web, summary)
    assert flow.authorize(launch=query(fresh)["launch"], scope=LAUNCH_SCOPE).status_code == 200


def test_a_launch_is_single_use(web, summary):
    flow, location = _launch(web, summary)
    handle = query(location)["launch"]
    assert "code" in query(_approved(flow, handle).headers["Location"])
    response = flow.authorize(launch=handle, scope=LAUNCH_SCOPE)
    assert response.status_code == 302 and response.headers["Location"].startswith(REDIRECT + "?")
    found = query(response.headers["Location"])
    assert found == {"error": "invalid_request", "error_description": USED, "state": "st-1"}


def test_a_launch_lives_five_minutes(web, odb, summary):
    assert launches.LAUNCH_TTL == 300
    flow, location = _launch(web, summary)
    handle = query(location)["launch"]
    row = oauth_store.find_launch(odb, handle)
    assert row["expires_at"] - row["created_at"] == 300
    with store.transaction(odb):
        odb.execute("UPDATE launch_contexts SET expires_at = ? WHERE launch_hash = ?", (0, row["launch_hash"]))
    found = query(flow.authorize(launch=handle, scope=LAUNCH_SCOPE).headers["Location"])
    assert (found["error"], found["error_description"], "code" in found) == ("invalid_request", EXPIRED, False)


@pytest.mark.parametrize("redirect_uri", ["https://attacker.example/cb", REDIRECT + "/elsewhere"])
def test_a_used_launch_with_an_untrusted_redirect_uri_gets_an_error_page(web, summary, redirect_uri):
    flow, location = _launch(web, summary)
    handle = query(location)["launch"]
    _approved(flow, handle)
    response = flow.authorize(launch=handle, scope=LAUNCH_SCOPE, redirect_uri=redirect_uri)
    assert response.status_code == 400 and "Location" not in response.headers


def test_staff_see_the_apps_they_approved_and_can_take_an_approval_back(web, summary):
    flow, location = _launch(web, summary)
    assert _approved(flow, query(location)["launch"]).status_code == 302
    page = web.get("/practice/launch/approved")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert re.findall(r'<li class="item"><strong>(.*?)</strong>', text) == ["Demo practice app"]
    response = web.post(f"/practice/launch/approved/{CONFIDENTIAL}/revoke", data={"csrf_token": csrf_of(text)})
    assert (response.status_code, response.headers["Location"]) == (302, "/practice/launch/approved")
    after = web.get("/practice/launch/approved").get_data(as_text=True)
    assert re.findall(r'<li class="item"><strong>(.*?)</strong>', after) == []
    assert "You have not approved any app yet." in after
    _, again = _launch(web, summary)
    assert flow.authorize(launch=query(again)["launch"], scope=LAUNCH_SCOPE).status_code == 200
    gone = web.post(f"/practice/launch/approved/{CONFIDENTIAL}/revoke", data={"csrf_token": csrf_of(after)})
    assert gone.status_code == 404


def test_the_approved_apps_page_needs_a_staff_login(web):
    response = web.get("/practice/launch/approved")
    assert response.status_code == 302 and response.headers["Location"].startswith("/practice/login")


def test_another_site_cannot_approve_an_app_for_the_staff_user(web, summary):
    """The decision is a CSRF-checked form: a forged Allow is refused and leaves the launch unused."""
    flow, location = _launch(web, summary)
    page = flow.authorize(launch=query(location)["launch"], scope=LAUNCH_SCOPE)
    hidden = {name: value for name, value in form(page.get_data(as_text=True), "/oauth/authorize/launch-decide")[0]}
    forged = web.post("/oauth/authorize/launch-decide", data={**hidden, "csrf_token": "forged", "decision": "allow"})
    assert forged.status_code == 400 and "Location" not in forged.headers
    assert web.get("/practice/launch/approved").get_data(as_text=True).count('<li class="item">') == 0
    assert "code" in query(_decide(flow, page, "allow").headers["Location"])
