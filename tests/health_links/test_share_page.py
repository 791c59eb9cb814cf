"""The portal's "Share with a new doctor" page: in the record's menu, refuses a bad choice in words (400),
lists only the sharer's own links to a representative, and keeps the key out of every later page."""

import re

import pytest

from gateway import store
from gateway.health_links.link import parse_link
from smart_auth import accounts
from tests import chart
from tests.health_links.helpers import make_link
from tests.portal_helpers import login, portal_client

PATIENT = ("patient@example.com", "Patient-Pass1")
CAREGIVER = ("caregiver@example.com", "Caregiver-Pass1")


@pytest.fixture
def small(empty_db_path):
    db = store.connect(empty_db_path)
    chart.build(db)
    for (email, password), relation in ((PATIENT, "self"), (CAREGIVER, "caregiver")):
        account = accounts.create_account(db, email, password, name=relation.title(), confirmed=True)
        accounts.link_account_to_chart(db, account["id"], 1, relation)
    return empty_db_path


def logged_in(path, who):
    client = portal_client(path)
    return client, login(client, *who)


def test_the_page_is_in_the_record_menu_and_starts_with_the_summary_for_a_week(small):
    client, _ = logged_in(small, PATIENT)
    page = client.get("/portal/share")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    assert '<a href="/portal/share" aria-current="page">Share with a new doctor</a>' in html
    assert re.search(r'id="content-summary" name="content" value="summary"\s+checked', html)
    assert re.search(r'id="expiry-week" name="expiry" value="week"\s+checked', html)
    assert "No links yet." in html


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"content": "sections"}, "Choose at least one section to share."),
        ({"content": "sections", "sections": "x-rays"}, "There is no section called &#39;x-rays&#39;."),
        ({"content": "anything"}, "Choose what to share: the patient summary, the whole record or some sections."),
        ({"expiry": "forever"}, "Choose how long the link works: a day, a week, a month or until you revoke it."),
        ({"label": "x" * 81}, "Keep the name of the link to 80 characters."),
        ({"passcode": "123"}, "A passcode needs 4 to 64 characters."),
    ],
)
def test_a_bad_choice_is_refused_in_words(small, fields, message):
    client, token = logged_in(small, PATIENT)
    page, text = make_link(client, token, status=400, **fields)
    assert text is None
    assert message in page


def test_a_representative_sees_only_their_own_links_and_the_patient_sees_all(small):
    patient, patient_token = logged_in(small, PATIENT)
    caregiver, caregiver_token = logged_in(small, CAREGIVER)
    make_link(patient, patient_token, label="Patient's link")
    make_link(caregiver, caregiver_token, label="Caregiver's link")
    mine = caregiver.get("/portal/share").get_data(as_text=True)
    assert "Caregiver&#39;s link" in mine and "Patient&#39;s link" not in mine
    everyone = patient.get("/portal/share").get_data(as_text=True)
    assert "Caregiver&#39;s link" in everyone and "Patient&#39;s link" in everyone
    uid = re.search(
        r"/portal/share/([^/]+)/revoke\">Revoke<span class=\"visually-hidden\"> Patient&#39;s link", everyone
    )[1]
    assert caregiver.get(f"/portal/share/{uid}/revoke").status_code == 404
    assert caregiver.post(f"/portal/share/{uid}/revoke", data={"csrf_token": caregiver_token}).status_code == 404
    assert patient.get(f"/portal/share/{uid}/revoke").status_code == 200


def test_the_key_is_shown_once(small):
    client, token = logged_in(small, PATIENT)
    _, text = make_link(client, token, long_term="yes")
    assert parse_link(text).key not in client.get("/portal/share").get_data(as_text=True)
