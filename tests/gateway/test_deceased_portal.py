"""The portal for a deceased patient's representative: every page's banner, and the home page's list of records,
say plainly that Thomas has died, and his guardian still sees his whole record."""

import datetime as dt

import pytest

from tests.portal_helpers import bearer, build_portal_db, login, portal_client

ROSE = ("rose.begay@example.org", "Portal-Demo-4")
DIED = '<time datetime="2026-11-13T22:15:00Z">Nov 13, 2026, 2:15'  # twelve days before the portal tests' TODAY


@pytest.fixture(scope="module")
def rose(module_db_path):
    path = module_db_path("deceased")
    db, summary = build_portal_db(path)
    client = portal_client(path)
    login(client, *ROSE)
    return client, db, summary


def test_home_lists_the_record_with_the_death_date(rose):
    client, _, _ = rose
    html = client.get("/portal/").get_data(as_text=True)
    assert "Thomas Begay at Lakeside Pediatrics &amp; Internal Medicine — you are their guardian (died " + DIED in html


@pytest.mark.parametrize(
    "path", ["/portal/records/", "/portal/records/medications", "/portal/apps", "/portal/download"]
)
def test_every_page_says_he_has_died_and_that_the_guardian_may_still_see_it(rose, path):
    client, db, summary = rose
    born = db.execute("SELECT birth_date FROM patients WHERE id = ?", (summary["patient_ids"]["thomas"],)).fetchone()[0]
    html = client.get(path).get_data(as_text=True)
    day = dt.date.fromisoformat(born)
    assert f'(born <time datetime="{born}">{day:%b} {day.day}, {day.year}</time>; died {DIED}' in html
    assert "Thomas Begay has died.\n  As their guardian, you can still see this record and share it with apps." in html


def test_the_patient_resource_carries_the_death_date(rose):
    client, db, summary = rose
    uid = db.execute("SELECT uid FROM patients WHERE id = ?", (summary["patient_ids"]["thomas"],)).fetchone()[0]
    patient = client.get(f"/fhir/Patient/{uid}", headers=bearer(db, uid)).get_json(force=True)
    assert patient["deceasedDateTime"] == "2026-11-13T22:15:00Z"
