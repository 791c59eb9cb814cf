"""The console's record page shows staff what the patient sees, the connected apps and the access history."""

import pytest

from fixtures.demo_practice import uid
from gateway.record_sections import all_sections
from tests.portal_helpers import build_portal_db, csrf, fhir_ids, login, portal_client


@pytest.fixture(scope="module")
def portal(module_db_path):
    path = module_db_path("console")
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


CHART_ROUTES = [
    ("GET", "/practice/records/{}"),
    ("GET", "/practice/patients/{}"),
    ("GET", "/practice/patients/{}/invite"),
    ("POST", "/practice/patients/{}/invite"),
    ("GET", "/practice/patients/{}/demographics"),
    ("POST", "/practice/patients/{}/demographics"),
    ("GET", "/practice/launch/{}"),
    ("POST", "/practice/launch/{}"),
    ("GET", "/practice/patients/{}/bring"),
    ("POST", "/practice/patients/{}/bring"),
    ("POST", "/practice/records/{}/visits/<visit_uid>/summary"),
    ("GET", "/practice/records/{}/visits/<visit_uid>/summary/sent"),
]


def test_every_console_chart_route_is_listed_here(portal):
    from gateway.app import create_app

    app = create_app({"DB": portal})
    found = {
        (m, r.rule.replace("<patient_uid>", "{}"))
        for r in app.url_map.iter_rules()
        if r.rule.startswith("/practice/") and not r.rule.startswith("/practice/api/") and "<patient_uid>" in r.rule
        for m in r.methods - {"HEAD", "OPTIONS"}
    }
    assert found == set(CHART_ROUTES)


@pytest.mark.parametrize("method, route", CHART_ROUTES)
def test_another_practices_chart_is_not_found_on_every_console_chart_route(portal, method, route):
    """Sunrise's front desk asks for the Lakeside chart of the same man: the answer is the one for no chart."""
    staff = portal_client(portal)
    staff_login(staff)
    token = csrf(staff, "/practice/patients/" + uid("patients", "david"))

    def ask(patient_uid):
        data = (
            {"csrf_token": token, "first_name": "X", "last_name": "Y", "birth_date": "1990-01-01", "client_id": "x"}
            if method == "POST"
            else None
        )
        return staff.open(route.format(patient_uid), method=method, data=data)

    other, nothing = ask(uid("patients", "david_lakeside")), ask("no-such-chart")
    assert other.status_code == nothing.status_code == 404
    assert other.get_data() == nothing.get_data().replace(b"no-such-chart", uid("patients", "david_lakeside").encode())


def test_the_console_reads_with_a_token_held_to_the_one_chart(portal):
    """The practice check and the token are one decision: the token cannot read past the chart it was made for."""
    from gateway import records, store
    from gateway.errors import NotFound
    from gateway.fhir.access import staff_chart, visibility
    from gateway.store import accounts as account_store

    db = store.connect(portal)
    staff = account_store.staff_by_email(db, "frontdesk@sunrisefamily.example.org")
    maria, david = uid("patients", "maria"), uid("patients", "david")
    assert staff_chart(db, staff, uid("patients", "david_lakeside")) is None
    assert staff_chart(db, None, maria) is None
    chart = staff_chart(db, staff, maria)
    assert chart.patient["uid"] == maria and chart.token.subject == staff["uid"]
    assert visibility(chart.token, "search", "Condition").patient == maria
    records.require_patient(db, chart.token, maria)
    with pytest.raises(NotFound):
        records.require_patient(db, chart.token, david)  # same practice, another chart
