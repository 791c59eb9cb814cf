"""The portal's record pages for every demo chart: each page shows exactly what the FHIR API returns for the
same record (the same resources, and on the detail pages the same codes)."""

import pytest

from fixtures.demo_data import PATIENTS
from fixtures.demo_practice import uid
from fixtures.demo_screenings import SCREENINGS
from gateway.record_sections import all_sections
from mappers.simple_observation import SECTION_CATEGORIES as SIMPLE_OBSERVATION_CATEGORIES
from smart_auth import accounts
from tests.portal_helpers import EVERYONE, bearer, build_portal_db, fhir_ids, login, portal_client, show_record

PAGES = ("/portal/records/", "/portal/download", "/portal/send", "/portal/apps", "/portal/people", "/portal/history")


@pytest.fixture(scope="module")
def portal(module_db_path):
    path = module_db_path("portal")
    db, summary = build_portal_db(path)
    return path, db, summary


@pytest.fixture(scope="module")
def everyone(portal):
    """A client logged in as the account linked to every demo chart, and its links by patient handle."""
    path, db, summary = portal
    client = portal_client(path)
    token = login(client, *EVERYONE)
    account = db.execute("SELECT id FROM accounts WHERE email = ?", (EVERYONE[0],)).fetchone()[0]
    by_patient = {link["patient_id"]: link for link in accounts.linked_records(db, account)}
    links = {handle: by_patient[pid] for handle, pid in summary["patient_ids"].items()}
    return client, token, links


def api_resources(client, db, patient_uid, rtype, query=""):
    response = client.get(f"/fhir/{rtype}?patient={patient_uid}&_count=1000{query}", headers=bearer(db, patient_uid))
    assert response.status_code == 200
    return {f"{rtype}/{e['resource']['id']}": e["resource"] for e in response.get_json(force=True).get("entry", [])}


@pytest.mark.parametrize("handle", list(PATIENTS))
def test_every_page_renders_and_names_whose_record_it_is(everyone, handle):
    client, token, links = everyone
    link = links[handle]
    show_record(client, token, link["id"])
    for path in PAGES + tuple(f"/portal/records/{s.slug}" for s in all_sections()):
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert f"Viewing the record of <strong>{link['first_name']} {link['last_name']}</strong>" in html, path
        assert 'aria-label="Record sections"' in html


@pytest.mark.parametrize("handle", list(PATIENTS))
def test_sections_show_what_the_api_returns_with_the_same_codes(everyone, portal, handle):
    client, token, links = everyone
    _, db, _ = portal
    uid = links[handle]["patient_uid"]
    show_record(client, token, links[handle]["id"])
    for section in all_sections():
        shown = fhir_ids(client.get(f"/portal/records/{section.slug}").get_data(as_text=True))
        assert len(shown) == len(set(shown)), section.slug
        expected = {}
        for rtype in section.types:
            if section.slug == "screenings" and rtype == "Observation":
                continue  # one entry per administration, its QuestionnaireResponse (the Observations repeat it)
            # Vital signs, social history, screenings and other findings have sections of their own; the lab results
            # section shows the other Observations.
            query = f"&category={section.category}" if section.category and rtype == section.types[0] else ""
            if rtype == "Observation" and not section.category:
                claimed = ("vital-signs", "social-history", "survey", *SIMPLE_OBSERVATION_CATEGORIES)
                query = "".join(f"&category:not={code}" for code in claimed)
            if rtype == "DiagnosticReport":  # narrative reports are read among the visit notes, as documents
                query = "&category=LAB"
            expected.update(api_resources(client, db, uid, rtype, query))
        assert set(shown) == set(expected), section.slug
        for ref, resource in expected.items():
            detail = client.get(f"/portal/records/{section.slug}/{resource['id']}").get_data(as_text=True)
            concepts = [v for k, v in resource.items() if k in ("code", "vaccineCode", "medicationCodeableConcept")]
            for concept in concepts:
                for coding in concept.get("coding", ()):
                    assert f"<code>{coding['code']}</code>" in detail, (ref, coding)


# Sections only some demo patients have something in (few people carry an implant; the children's charts have
# no social history form).
ADULTS = {"maria", "james", "linh", "david", "david_lakeside", "wei", "keala", "thomas"}
SOME_HAVE = {
    "implants": {"james", "thomas"},
    "social-history": ADULTS,
    "screenings": set(SCREENINGS),
    "findings": {"james", "sofia", "thomas", "wei"},
}


def test_every_demo_patient_has_something_in_every_section(everyone):
    client, token, links = everyone
    for handle, link in links.items():
        show_record(client, token, link["id"])
        for section in all_sections():
            shown = fhir_ids(client.get(f"/portal/records/{section.slug}").get_data(as_text=True))
            assert bool(shown) == (handle in SOME_HAVE.get(section.slug, {handle})), (handle, section.slug)


def test_unshared_labs_are_not_shown(everyone, portal):
    client, token, links = everyone
    _, db, _ = portal
    show_record(client, token, links["linh"]["id"])
    shown = set(fhir_ids(client.get("/portal/records/lab-results").get_data(as_text=True)))
    unshared = {
        f"DiagnosticReport/{uid}"
        for (uid,) in db.execute(
            "SELECT uid FROM lab_results WHERE shared_with_patient = 0 AND patient_id = ?",
            (links["linh"]["patient_id"],),
        )
    }
    assert unshared and not (unshared & shown)


def test_lab_results_show_value_unit_range_and_flag(everyone):
    client, token, links = everyone
    show_record(client, token, links["maria"]["id"])
    html = client.get("/portal/records/lab-results").get_data(as_text=True)
    # Maria's glucose of 182 mg/dL against 70-99 is flagged high.
    row = html[html.index(">Glucose (blood sugar)<") :]
    row = row[: row.index("</tr>")]
    assert "182" in row and "mg/dL" in row and "70–99 mg/dL" in row and "High" in row


def test_appointments_are_split_into_upcoming_and_past_with_provider_and_place(everyone):
    client, token, links = everyone
    show_record(client, token, links["maria"]["id"])
    html = client.get("/portal/records/appointments").get_data(as_text=True)
    upcoming, past = html.split('id="h-past"')
    assert "Diabetes follow-up" in upcoming and "Please bring your glucose log" not in past
    assert "Annual physical" in past
    assert "<dt>With</dt>" in upcoming


def test_dates_follow_the_browser_language(everyone):
    client, token, links = everyone
    show_record(client, token, links["maria"]["id"])
    spanish = client.get("/portal/records/diagnoses", headers={"Accept-Language": "es-MX,es;q=0.9"})
    english = client.get("/portal/records/diagnoses", headers={"Accept-Language": "en-US"})
    assert "<time datetime=" in english.get_data(as_text=True)
    months = ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic")
    assert any(f" {m} " in spanish.get_data(as_text=True) for m in months)


def test_unknown_section_and_item_are_404(everyone, portal):
    client, token, links = everyone
    show_record(client, token, links["maria"]["id"])
    assert client.get("/portal/records/nope").status_code == 404
    assert client.get("/portal/records/diagnoses/not-an-id").status_code == 404
    # Another person's diagnosis is "not there" on this record's page.
    other = next(iter(api_resources(client, portal[1], links["keala"]["patient_uid"], "Condition").values()))
    assert client.get(f"/portal/records/diagnoses/{other['id']}").status_code == 404


def test_pages_need_a_login(portal):
    client = portal_client(portal[0])
    response = client.get("/portal/records/diagnoses")
    assert response.status_code == 302 and "/portal/login" in response.headers["Location"]


def test_visits_list_each_visit_with_provider_place_and_discharge(everyone):
    client, token, links = everyone
    show_record(client, token, links["james"]["id"])
    html = client.get("/portal/records/visits").get_data(as_text=True)
    stay = html[html.index(">Hospital admission<") :]
    stay = stay[: stay.index("</dl>")]
    assert "Mercy General Hospital, cardiac unit" in stay
    assert "Discharged to home or self care (routine discharge)" in stay
    assert "<dt>With</dt>" in stay
    assert html.count(">Office visit<") == 3 and html.count(">Follow-up visit<") == 1


def test_care_team_names_each_member_and_role_and_lists_contacts(everyone):
    client, token, links = everyone
    show_record(client, token, links["sofia"]["id"])
    html = client.get("/portal/records/care-team").get_data(as_text=True)
    team = html[html.index("Care team</") :]
    for role, member in [
        ("Primary care physician", "Rosa Delgado, FNP-C"),
        ("Family Medicine", "Dr. Anita Patel, MD"),
        ("Caregiver", "Maria Garcia (mother)"),
    ]:
        assert f"<dt>{role}</dt>" in team and member in team, (role, member)
    assert "<dt>Relationship</dt>" in html and "(916) 555-0142, maria.garcia@example.com" in html


def test_referrals_and_orders_list_each_order_with_its_kind_who_signed_it_and_why(everyone):
    client, token, links = everyone
    show_record(client, token, links["maria"]["id"])
    html = client.get("/portal/records/orders").get_data(as_text=True)
    assert "<h1>Referrals and orders</h1>" in html
    referral = html[html.index(">Assistance with application for food pantry program<") :]
    referral = referral[: referral.index("</dl>")]
    assert "<dd>SDOH</dd>" in referral
    assert "<dd>Food insecurity</dd>" in referral
    assert "<dt>Ordered by</dt>" in referral
    assert (
        html.count(">Hemoglobin A1c/Hemoglobin.total in Blood<") == 2
    )  # the third, not yet shared with her, is withheld


def test_the_screenings_section_names_the_instrument_the_score_and_each_answer(everyone):
    client, token, links = everyone
    show_record(client, token, links["maria"]["id"])
    page = client.get("/portal/records/screenings").get_data(as_text=True)
    assert sorted(fhir_ids(page)) == sorted(f"QuestionnaireResponse/{uid('screenings', f'maria:{n}')}" for n in (0, 1))
    assert "PHQ-9" in page and "AHC HRSN" in page
    assert "<dt>Score</dt><dd>7</dd>" in page
    assert "<dt>Feeling down, depressed, or hopeless?</dt><dd>Several days</dd>" in page
    assert "<dt>What is your living situation today?</dt><dd>I have a steady place to live</dd>" in page
    assert "PHQ-9 total score" not in page  # the score is shown once, as the score
