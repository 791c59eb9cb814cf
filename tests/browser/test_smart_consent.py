"""The SMART sign-in pages in a real browser: login, record picker and consent, accessible and phone-sized."""

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from playwright.sync_api import expect

from tests.browser.conftest import LiveServer, assert_accessible, shot
from tests.smart_auth.oauth_helpers import MARIA, PUBLIC, REDIRECT, build, pkce
from tests.smart_auth.observation_kinds import add_observations


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("smart-live") / "live.db")
    summary = build(path)
    add_observations(path, summary["patients"]["maria"])  # the demo chart holds lab results only
    with LiveServer(path) as server:
        yield server


def _authorize_url(
    live,
    scope="launch/patient openid fhirUser offline_access patient/Patient.rs "
    "patient/Condition.rs patient/Observation.rs",
    challenge=None,
):
    challenge = challenge or pkce()[1]
    return f"{live.url}/oauth/authorize?" + urlencode(
        {
            "response_type": "code",
            "client_id": PUBLIC,
            "redirect_uri": REDIRECT,
            "scope": scope,
            "state": "b-1",
            "aud": f"{live.url}/fhir",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )


def _to_consent(page, live, challenge=None):
    page.route(REDIRECT.rsplit("/", 1)[0] + "/**", lambda route: route.fulfill(body="the app's callback"))
    page.goto(_authorize_url(live, challenge=challenge))
    assert "/portal/login" in page.url
    assert_accessible(page)
    page.get_by_label("Email").fill(MARIA[0])
    page.get_by_label("Password").fill(MARIA[1])
    page.get_by_role("button", name="Log in").click()
    page.get_by_role("heading", name="Which record should Demo patient app see?").wait_for()
    assert_accessible(page)
    return page


def test_pick_a_childs_record_untick_and_allow(page, live):
    _to_consent(page, live)
    shot(page, "smart-picker")
    page.get_by_label("Sofia", exact=False).check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Allow Demo patient app to see Sofia's record?").wait_for()
    assert "Keep access when you are not using the app" in page.content()
    assert_accessible(page)
    shot(page, "smart-consent")
    page.get_by_label("Health problems").uncheck()
    page.get_by_label("Problem list").check()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(REDIRECT + "**")
    found = parse_qs(urlsplit(page.url).query)
    assert page.url.startswith(REDIRECT) and found["state"] == ["b-1"] and found["code"]


def test_continue_needs_a_record_chosen_first(page, live):
    # A parent must not authorize an app for the wrong person by pressing Continue: nothing is pre-selected.
    _to_consent(page, live)
    expect(page.get_by_label("Maria", exact=False)).not_to_be_checked()
    expect(page.get_by_label("Sofia", exact=False)).not_to_be_checked()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Which record should Demo patient app see?").wait_for()
    assert "Allow" not in page.title()
    page.get_by_label("Maria", exact=False).check()  # (Sofia's consent may be remembered from another test)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name="Allow Demo patient app to see your record?").wait_for()


def test_deny_from_the_consent_page(page, live):
    _to_consent(page, live)
    page.get_by_label("Maria", exact=False).check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Deny").wait_for()
    page.get_by_role("button", name="Deny").click()
    page.wait_for_url(REDIRECT + "**")
    assert parse_qs(urlsplit(page.url).query)["error"] == ["access_denied"]


def test_consent_page_on_a_phone(phone, live):
    _to_consent(phone, live)
    phone.get_by_label("Maria", exact=False).check()
    phone.get_by_role("button", name="Continue").click()
    phone.get_by_role("button", name="Allow").wait_for()
    shot(phone, "smart-consent-phone")
    assert_accessible(phone)
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390


def test_lab_results_ticked_with_results_still_ticked_shares_lab_results_only(page, live):
    verifier, challenge = pkce()
    _to_consent(page, live, challenge)
    page.get_by_label("Maria", exact=False).check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Lab results", exact=True).check()
    expect(page.get_by_label("Results", exact=True)).to_be_checked()
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(REDIRECT + "**")
    code = parse_qs(urlsplit(page.url).query)["code"][0]
    token = requests.post(
        f"{live.url}/oauth/token",
        timeout=10,
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": PUBLIC,
            "code_verifier": verifier,
        },
    ).json()
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    search = f"{live.url}/fhir/Observation?patient={token['patient']}"
    vitals = requests.get(search + "&category=vital-signs", headers=headers, timeout=10)
    assert vitals.status_code == 200 and vitals.json()["total"] == 0 and "entry" not in vitals.json()
    every = requests.get(search, headers=headers, timeout=10).json()["entry"]
    assert {c["code"] for e in every for cat in e["resource"]["category"] for c in cat["coding"]} == {"laboratory"}
    page.goto(f"{live.url}/portal/apps")
    lines = page.locator("ul.scopes li").all_inner_texts()
    assert "See results of these kinds only: lab results" in lines
    assert not [line for line in lines if "results of all kinds" in line]
    shot(page, "smart-connected-apps-lab-only")
