"""The console's record page shows staff what the patient sees, the connected apps and the access history."""
import pytest

from fixtures.demo_practice import uid
from gateway.record_sections import all_sections
from tests.portal_helpers import build_portal_db, csrf, fhir_ids, login, portal_client


@pytest.fixture(scope="module")
def portal(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("console") / "console.db")
    build_portal_db(path)
    return path


def staff_login(client, email="frontdesk@sunrisefamily.example.org", password="Practice-Demo-1"):
    token = csrf(client, "/practice/login")
    response = client.post("/practice/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302


def test_console_record_shows_what_the_portal_shows(portal):
    staff = portal_client(portal)
    staff_login(staff)
    page = staff.get(f"/practice/records/{uid('patients', 'maria')}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for section in all_sections():
        assert f'id="h-{section.slug}">{section.title}</h2>' in html
    patient = portal_client(portal)
    login(patient, "maria.garcia@example.com", "Portal-Demo-1")
    shown = []
    for section in all_sections():
        shown += fhir_ids(patient.get(f"/portal/records/{section.slug}").get_data(as_text=True))
    assert set(fhir_ids(html)) == set(shown)
    assert "<td>Maria Garcia</td><td>self</td><td>active</td>" in html
    assert page.headers["Cache-Control"] == "no-store"


def test_staff_views_are_in_the_console_history_but_not_the_patients(portal):
    staff = portal_client(portal)
    staff_login(staff)
    staff.get(f"/practice/records/{uid('patients', 'maria')}")
    html = staff.get(f"/practice/records/{uid('patients', 'maria')}").get_data(as_text=True)
    assert "opened the patient&#39;s record in the console" in html and "Sunrise front desk" in html
    patient = portal_client(portal)
    login(patient, "maria.garcia@example.com", "Portal-Demo-1")
    assert "in the console" not in patient.get("/portal/history").get_data(as_text=True)


def test_another_practices_chart_is_not_found(portal):
    staff = portal_client(portal)
    staff_login(staff)
    assert staff.get(f"/practice/records/{uid('patients', 'keala')}").status_code == 404
    assert staff.get("/practice/records/no-such-chart").status_code == 404
    assert portal_client(portal).get(f"/practice/records/{uid('patients', 'maria')}").status_code == 302


def test_the_chart_page_links_to_the_record_page(portal):
    staff = portal_client(portal)
    staff_login(staff)
    maria = uid("patients", "maria")
    html = staff.get(f"/practice/patients/{maria}").get_data(as_text=True)
    assert f'href="/practice/records/{maria}"' in html
