"""The authorization endpoint: request checks, errors (redirected only to registered URIs), login,
patient picker, consent, deny, remembered consent, GET and POST."""

import re

import pytest
from werkzeug.datastructures import MultiDict

from gateway import store

from .oauth_helpers import FHIR, KEALA, REDIRECT, form, query


def _error_of(response):
    assert response.status_code == 302
    assert response.headers["Location"].startswith(REDIRECT + "?")
    found = query(response.headers["Location"])
    assert "code" not in found
    return found


@pytest.mark.parametrize(
    "overrides, error",
    [
        ({"aud": "http://evil.example/fhir"}, "invalid_request"),
        ({"aud": None}, "invalid_request"),
        ({"aud": FHIR + "/Patient"}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),  # public client without PKCE
        ({"code_challenge_method": None}, "invalid_request"),  # method defaults to plain
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"scope": "patient/Condition.sr"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"launch": "xyz", "scope": "openid patient/*.rs"}, "invalid_scope"),  # launch needs the launch scope
    ],
)
def test_bad_requests_redirect_an_error_and_never_a_code(flow, overrides, error):
    flow.login(KEALA)
    found = _error_of(flow.authorize(**overrides))
    assert found["error"] == error
    assert found["state"] == "st-1"


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_id": "no-such-client"},
        {"client_id": None},
        {"redirect_uri": "http://evil.example/cb"},
        {"redirect_uri": REDIRECT + "/extra"},  # exact match only
        {"redirect_uri": None},  # SMART requires it
    ],
)
def test_an_unverified_redirect_uri_gets_an_error_page_not_a_redirect(flow, overrides):
    response = flow.authorize(**overrides)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert "cannot be used" in response.get_data(as_text=True)


def test_aud_with_a_trailing_slash_is_the_same_base(flow):
    assert flow.code(who=KEALA, patient="Keala", aud=FHIR + "/")


def test_not_logged_in_goes_to_the_portal_login_and_back(flow):
    response = flow.authorize()
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/portal/login?next=/oauth/authorize?response_type%3Dcode")


def test_one_linked_record_skips_the_picker(flow):
    flow.login(KEALA)
    response = flow.authorize()
    assert response.headers["X-Frame-Options"] == "DENY"  # no clickjacking of the consent page
    page = response.get_data(as_text=True)
    assert "Allow Demo patient app to see your record?" in page
    assert "Which record" not in page


def test_the_picker_lists_each_linked_record_with_practice_and_relation(flow):
    flow.login()
    response = flow.authorize()
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "Which record should Demo patient app see?" in page
    assert "Maria" in page and "Sofia" in page and "Sunrise Family Medicine" in page
    assert "your own record" in page and "you are their parent" in page
    born = re.findall(r"\(born (.*?)\) at", page)  # in the reader's date format, as every other date
    assert len(born) == 2 and all(
        re.fullmatch(r'<time datetime="[0-9-]{10}">[A-Z][a-z]{2} \d{1,2}, \d{4}</time>', b) for b in born
    )
    consent = flow.pick(page, "Sofia").get_data(as_text=True)
    assert "Allow Demo patient app to see Sofia&#39;s record?" in consent


def test_the_picker_chooses_nothing_for_the_person_and_continue_needs_a_choice(flow):
    # A parent authorizing an app for a child must not slip through with their own record pre-selected.
    flow.login()
    page = flow.authorize().get_data(as_text=True)
    hidden, radios = form(page, "/oauth/authorize")
    assert [checked for _, _, checked in radios] == [False, False]
    assert page.count('type="radio"') == page.count(" required") == 2
    response = flow.client.get("/oauth/authorize", query_string=hidden)  # Continue with nothing chosen
    again = response.get_data(as_text=True)
    assert response.status_code == 200 and "Choose one of the records below." in again
    assert "Allow Demo patient app" not in again


def test_a_representative_not_on_file_is_told_one_thing_the_app_does_not_learn_who_signed_in(flow, odb):
    moved = "UPDATE patient_contacts SET email = ? WHERE email = ?"
    with store.transaction(odb):
        odb.execute(moved, ("someone.else@example.com", "maria.garcia@example.com"))
    try:
        flow.login()
        picker = flow.authorize(scope="openid fhirUser launch/patient patient/*.rs").get_data(as_text=True)
        consent = flow.pick(picker, "Sofia").get_data(as_text=True)
    finally:
        with store.transaction(odb):
            odb.execute(moved, ("maria.garcia@example.com", "someone.else@example.com"))
    assert "Confirm to the app that you signed in here" not in consent
    assert "<li>Confirm to the app that someone signed in here, without telling it who you are</li>" in consent
    assert "You are using someone else&#39;s record, so the app is not told who you are." in consent


def test_a_record_not_linked_to_the_account_is_refused(flow):
    flow.login()
    hidden, _ = form(flow.authorize().get_data(as_text=True), "/oauth/authorize")
    response = flow.client.get("/oauth/authorize", query_string=hidden + [("record", "999999")])
    assert response.status_code == 200 and "Choose one of the records" in response.get_data(as_text=True)


def test_consent_page_names_scopes_in_plain_words_and_discloses_offline_access(flow):
    flow.login(KEALA)
    page = flow.authorize(
        scope="launch/patient openid fhirUser offline_access patient/Condition.rs "
        "patient/Observation.rs patient/Patient.rs"
    ).get_data(as_text=True)
    for words in (
        "Health problems",
        "Results",
        "Personal details",
        "Keep access when you are not using the app",
        "Know who you are",
        "Problem list",
        "Lab results",
        "Vital signs",
    ):
        assert words in page
    _, boxes = form(page, "/oauth/authorize/decide")
    assert [v for _, v, checked in boxes if checked] == [
        "fhirUser",
        "offline_access",
        "patient/Condition.rs",
        "patient/Observation.rs",
        "patient/Patient.rs",
    ]


def test_deny_returns_access_denied_with_state(flow):
    flow.login(KEALA)
    found = _error_of(flow.decide(flow.authorize().get_data(as_text=True), decision="deny"))
    assert (found["error"], found["state"]) == ("access_denied", "st-1")


def test_post_authorize_works_like_get(flow):
    flow.login(KEALA)
    response = flow.authorize(method="POST")
    assert response.status_code == 200
    response = flow.decide(response.get_data(as_text=True))
    assert "code" in query(response.headers["Location"])


def test_the_consent_form_needs_the_csrf_token(flow):
    flow.login(KEALA)
    hidden, boxes = form(flow.authorize().get_data(as_text=True), "/oauth/authorize/decide")
    data = [(n, v) for n, v in hidden if n != "csrf_token"] + [("decision", "allow")]
    assert flow.client.post("/oauth/authorize/decide", data=MultiDict(data)).status_code == 400


def test_consent_is_remembered_for_the_same_app_record_and_scopes(flow):
    flow.code(who=KEALA, patient="Keala")
    again = flow.authorize()
    assert again.status_code == 302 and "code" in query(again.headers["Location"])
    wider = flow.authorize(scope="openid patient/*.rs patient/Condition.rs")
    assert wider.status_code == 200  # different scopes: ask again
    forced = flow.authorize(prompt="consent")
    assert forced.status_code == 200


def test_unticked_scopes_are_not_granted(flow):
    flow.login(KEALA)
    page = flow.authorize(
        scope="launch/patient openid patient/Patient.rs patient/Condition.rs patient/Immunization.rs"
    ).get_data(as_text=True)
    code = query(flow.decide(page, untick=["patient/Immunization.rs"]).headers["Location"])["code"]
    body = flow.exchange(code).get_json()
    assert body["scope"] == "launch/patient openid patient/Patient.rs patient/Condition.rs"
