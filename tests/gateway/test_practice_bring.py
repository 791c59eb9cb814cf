"""Check-in in the console: staff read a patient's SMART Health Link; its records show beside the chart's with the
new marked, nothing is written to the chart, every reading is in the chart's history, errors are in words, and
another practice's staff can neither read a link for the chart nor see the reading."""

import json

import pytest
import requests
import responses

from fixtures.demo_practice import uid
from gateway import store
from gateway.store import enrollment as enrollment_store
from tests.health_link_helpers import MANIFEST, encrypt, make_link, new_key
from tests.portal_helpers import build_portal_db, csrf, portal_client

MARIA = uid("patients", "maria")
SUNRISE = ("frontdesk@sunrisefamily.example.org", "Practice-Demo-1")
LAKESIDE = ("frontdesk@lakesideclinic.example.org", "Practice-Demo-2")
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
BROUGHT = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [
        {
            "resource": {
                "resourceType": "MedicationStatement",
                "id": "s1",
                "status": "active",
                "subject": {"reference": "Patient/p"},
                "medicationCodeableConcept": {
                    "coding": [{"system": RXNORM, "code": "314076"}],
                    "text": "Lisinopril 10mg tablet",
                },
            }
        },
        {
            "resource": {
                "resourceType": "MedicationStatement",
                "id": "s2",
                "status": "active",
                "subject": {"reference": "Patient/p"},
                "medicationCodeableConcept": {
                    "coding": [{"system": RXNORM, "code": "197361"}],
                    "text": "Amlodipine 5 MG Oral Tablet",
                },
            }
        },
    ],
}


@pytest.fixture()
def portal(new_db_path):
    path = new_db_path("bring")
    build_portal_db(path)
    return path


def staff(portal, who=SUNRISE):
    client = portal_client(portal)
    token = csrf(client, "/practice/login")
    answer = client.post("/practice/login", data={"email": who[0], "password": who[1], "csrf_token": token})
    assert answer.status_code == 302
    return client


def read(client, link, passcode="", patient=MARIA):
    token = csrf(client, "/practice/")
    return client.post(
        f"/practice/patients/{patient}/bring", data={"link": link, "passcode": passcode, "csrf_token": token}
    )


def events(portal, patient=MARIA):
    db = store.connect(portal)
    return [
        (e["event"], e["actor"], e["detail"])
        for e in enrollment_store.events_of_patient(db, store.chart_rows(db, "patients", uid=patient)[0]["id"])
        if e["event"].startswith("health link")
    ]


def test_the_form_works_without_javascript_and_offers_a_camera_scan(portal):
    page = staff(portal).get(f"/practice/patients/{MARIA}/bring").get_data(as_text=True)
    assert f'<form method="post" action="/practice/patients/{MARIA}/bring" class="stacked" id="bring-form">' in page
    assert '<textarea id="link" name="link"' in page and '<input id="passcode" name="passcode" type="password"' in page
    assert '<div id="scan" hidden>' in page and 'src="/static/scan_link.js" defer' in page


@responses.activate
def test_a_link_shows_beside_the_chart_with_the_new_marked_and_nothing_written(portal):
    key = new_key()
    responses.add(
        responses.POST,
        MANIFEST,
        json={"files": [{"contentType": "application/fhir+json", "embedded": encrypt(BROUGHT, key)}]},
    )
    db = store.connect(portal)
    before = len(store.chart_rows(db, "medications", patient_id=store.chart_rows(db, "patients", uid=MARIA)[0]["id"]))
    page = read(staff(portal), make_link(key))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "From shl.example.org: “Records of Alex”" in html
    assert html.count("New: not in our chart") == 1
    assert "Amlodipine 5 MG Oral Tablet" in html and "In our chart (same code)" in html
    assert "lisinopril 10 MG Oral Tablet" in html  # the chart's own side
    after = len(store.chart_rows(db, "medications", patient_id=store.chart_rows(db, "patients", uid=MARIA)[0]["id"]))
    assert after == before
    assert events(portal) == [
        ("health link read", "staff frontdesk@sunrisefamily.example.org", "from shl.example.org: 2 items")
    ]
    assert json.loads(responses.calls[0].request.body) == {"recipient": "Sunrise Family Medicine"}


@pytest.mark.parametrize(
    ("answer", "link", "passcode", "words", "detail"),
    [
        (None, make_link(new_key(), exp=1_000_000), "", "This link expired on January 12, 1970.", "expired"),
        (
            {"status": 401, "json": {"remainingAttempts": 2}},
            make_link(new_key(), flag="P"),
            "1111",
            "The passcode is not right (2 attempts left). Check it with the patient.",
            "wrong passcode",
        ),
        (
            {"body": requests.ConnectionError("refused")},
            make_link(new_key()),
            "",
            "Could not reach shl.example.org. Check the link or try again in a minute.",
            "unreachable",
        ),
        (
            {"json": {"files": [{"contentType": "text/plain", "embedded": "x.y.z"}]}},
            make_link(new_key()),
            "",
            "The records could not be decrypted with this link&#39;s key",
            "not decryptable",
        ),
        (
            {"json": {"hello": "world"}},
            make_link(new_key()),
            "",
            "did not answer with a SMART Health Link manifest.",
            "not FHIR",
        ),
    ],
)
@responses.activate
def test_errors_are_in_words_and_in_the_history(portal, answer, link, passcode, words, detail):
    if answer:
        responses.add(responses.POST, MANIFEST, **answer)
    html = read(staff(portal), link, passcode).get_data(as_text=True)
    assert words in html
    assert [(e, d.split(": ")[1]) for e, _, d in events(portal)] == [("health link failed", detail)]


def test_text_that_is_not_a_link_is_a_bad_request_in_words(portal):
    page = read(staff(portal), "https://example.org/not-a-link")
    assert page.status_code == 400
    assert "This is not a SMART Health Link." in page.get_data(as_text=True)


@responses.activate
def test_another_practice_can_neither_read_a_link_for_the_chart_nor_see_a_reading(portal):
    key = new_key()
    responses.add(
        responses.POST,
        MANIFEST,
        json={"files": [{"contentType": "application/fhir+json", "embedded": encrypt(BROUGHT, key)}]},
    )
    assert read(staff(portal), make_link(key)).status_code == 200
    lakeside = staff(portal, LAKESIDE)
    assert lakeside.get(f"/practice/patients/{MARIA}/bring").status_code == 404
    assert read(lakeside, make_link(key)).status_code == 404
    assert lakeside.get(f"/practice/patients/{MARIA}").status_code == 404
    assert "shl.example.org" not in lakeside.get(f"/practice/patients/{uid('patients', 'keala')}").get_data(
        as_text=True
    )
    assert len(responses.calls) == 1
    assert [e for e, _, _ in events(portal)] == ["health link read"]


@pytest.mark.parametrize(
    ("born", "words"),
    [
        (None, "The link is about <strong>Maria Garcia</strong>, born "),
        ("1901-01-01", "Check that the link is this patient’s before using it."),
    ],
)
@responses.activate
def test_the_page_says_whom_the_link_is_about_and_warns_when_the_birth_date_differs(portal, born, words):
    db = store.connect(portal)
    chart_born = store.chart_rows(db, "patients", uid=MARIA)[0]["birth_date"]
    patient = {"resourceType": "Patient", "id": "p", "name": [{"given": ["Maria"], "family": "Garcia"}]}
    patient["birthDate"] = born or chart_born
    bundle = {**BROUGHT, "entry": [{"resource": patient}, *BROUGHT["entry"]]}
    key = new_key()
    responses.add(
        responses.POST,
        MANIFEST,
        json={"files": [{"contentType": "application/fhir+json", "embedded": encrypt(bundle, key)}]},
    )
    html = read(staff(portal), make_link(key)).get_data(as_text=True)
    assert words in html
    assert ("before using it" in html) is (born is not None)


def test_only_public_https_hosts_are_read_in_production(portal):
    from gateway.app import create_app
    from gateway.practice.bring import limits

    for env, public in (("production", True), ("development", False)):
        app = create_app({"DB": portal, "ENV": env, "SECRET_KEY": "a-real-secret-for-this-test-only-0123456789"})
        with app.app_context():
            found = limits()
        assert (found.public_only, found.allow_http, found.max_bytes, found.deadline) == (
            public,
            not public,
            5 * 1024 * 1024,
            15.0,
        )
