"""The portal's Medications section lists, under each prescription, its pharmacy fills in plain words."""

import re

import pytest

from fixtures.demo_practice import uid
from gateway.record_sections import days_words, quantity_words
from smart_auth import accounts
from tests.portal_helpers import build_portal_db, login, portal_client, show_record

MARIA = ("maria.garcia@example.com", "Portal-Demo-1")


@pytest.fixture(scope="module")
def maria(module_db_path):
    path = module_db_path("fills")
    db, summary = build_portal_db(path)
    client = portal_client(path)
    token = login(client, *MARIA)
    account = db.execute("SELECT id FROM accounts WHERE email = ?", (MARIA[0],)).fetchone()[0]
    links = {link["patient_id"]: link for link in accounts.linked_records(db, account)}
    show_record(client, token, links[summary["patient_ids"]["maria"]]["id"])
    return client


def fills_on(html):
    """{medicine name: [fill in words]} for every item card that lists fills."""
    found = {}
    for card in html.split('<li class="item"')[1:]:
        fills = re.search(r'<ul class="fills"[^>]*>(.*?)</ul>', card, re.S)
        if fills:
            name = re.search(r"<h3><a [^>]*>([^<]+)</a>", card).group(1)
            found[name] = [re.sub(r"\s+", " ", f).strip() for f in re.findall(r"<li>(.*?)</li>", fills.group(1), re.S)]
    return found


def test_each_prescription_shows_its_fills_oldest_first(maria):
    # Maria's fills (fixtures.demo_charts): both prescriptions 95 days ago, metformin again 4 days ago, lisinopril
    # being prepared; the portal tests' today is 2026-11-25, shown in the practice's zone (Los Angeles).
    html = maria.get("/portal/records/medications").get_data(as_text=True)
    assert fills_on(html) == {
        "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet": [
            "Filled Aug 22, 2026 at Capitol Pharmacy: 90 tablets, 90 days",
            "Filled Nov 21, 2026 at Capitol Pharmacy: 90 tablets, 90 days",
        ],
        "lisinopril 10 MG Oral Tablet": [
            "Filled Aug 22, 2026 at Capitol Pharmacy: 90 tablets, 90 days",
            "Being prepared at Capitol Pharmacy: 90 tablets, 90 days",
        ],
    }


def test_words():
    assert quantity_words({"value": 30, "unit": "{tablet}"}) == "30 tablets"
    assert quantity_words({"value": 1, "unit": "{inhaler}"}) == "1 inhaler"
    assert quantity_words({"value": 30.0, "unit": "g"}) == "30 g"
    assert quantity_words(None) == ""
    assert days_words({"value": 90, "unit": "day"}) == "90 days"
    assert days_words({"value": 1, "unit": "day"}) == "1 day"


def test_the_medicine_page_lists_its_fills_too(maria):
    html = maria.get(f"/portal/records/medications/{uid('medications', 'maria:0')}").get_data(as_text=True)
    assert "<h2>Pharmacy fills</h2>" in html
    assert fills_on('<li class="item"><h3><a href="">x</a></h3>' + html) == {
        "x": [
            "Filled Aug 22, 2026 at Capitol Pharmacy: 90 tablets, 90 days",
            "Filled Nov 21, 2026 at Capitol Pharmacy: 90 tablets, 90 days",
        ]
    }
