"""What a person reads on the portal must be true (issue 20): vaccines, appointments, dates, lost pages, emails."""

import re

import pytest

from gateway import store
from gateway.store import enrollment as enrollment_store
from smart_auth import accounts
from tests.portal_helpers import EVERYONE, build_portal_db, login, portal_client, show_record

MARIA = ("maria.garcia@example.com", "Portal-Demo-1")


@pytest.fixture(scope="module")
def portal(module_db_path):
    path = module_db_path("words")
    db, summary = build_portal_db(path)
    return path, db, summary


@pytest.fixture(scope="module")
def everyone(portal):
    path, db, summary = portal
    client = portal_client(path)
    token = login(client, *EVERYONE)
    account = db.execute("SELECT id FROM accounts WHERE email = ?", (EVERYONE[0],)).fetchone()[0]
    by_patient = {link["patient_id"]: link for link in accounts.linked_records(db, account)}
    links = {handle: by_patient[pid] for handle, pid in summary["patient_ids"].items()}
    return client, token, links


def page(everyone, handle, path):
    client, token, links = everyone
    show_record(client, token, links[handle]["id"])
    response = client.get(path)
    return response.status_code, response.get_data(as_text=True)


def text(html):
    """The words of a page, tags dropped and spaces joined."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_a_declined_vaccine_says_why_in_words_and_names_no_one_who_gave_it(everyone):
    _, html = page(everyone, "sofia", "/portal/records/immunizations")
    declined = text(html.split('class="item not-given"')[1].split("</li>")[0])
    assert "Why not given Patient objection" in declined
    assert "Given by" not in declined and "PATOBJ" not in html


def test_a_childs_vaccines_are_grouped_by_vaccine_with_plain_names_and_each_dose_date(everyone):
    _, html = page(everyone, "sofia", "/portal/records/immunizations")
    groups = re.findall(r'<h2 id="vaccine-\d+">([^<]+)</h2>', html)
    assert groups[:3] == ["Chickenpox (varicella)", "Diphtheria, tetanus and whooping cough (DTaP)", "Flu (influenza)"]
    dtap = html.split(">Diphtheria, tetanus and whooping cough (DTaP)</h2>")[1].split("</section>")[0]
    assert dtap.count('data-fhir="Immunization/') == 5
    assert "5 doses" in dtap


def test_a_cancelled_visit_is_listed_apart_from_upcoming_ones(everyone):
    _, html = page(everyone, "maria", "/portal/records/appointments")
    upcoming = html.split('id="h-upcoming"')[1].split("</section>")[0]
    past = html.split('id="h-past"')[1].split("</section>")[0]
    assert "Blood pressure check" not in upcoming and "Diabetes follow-up" in upcoming
    assert ">Past and cancelled</h2>" in html
    assert past.index("Blood pressure check") < past.index("Annual physical")  # the newest (a future date) first


def test_a_visits_times_do_not_repeat_its_date(everyone):
    _, html = page(everyone, "maria", "/portal/records/appointments")
    upcoming = text(html.split('id="h-upcoming"')[1].split("</section>")[0])
    assert re.search(
        r"[A-Z][a-z]{2} \d{1,2}, \d{4}, \d{1,2}:\d{2}\W[AP]M P[SD]T – \d{1,2}:\d{2}\W[AP]M From ", upcoming
    ), upcoming


@pytest.mark.parametrize("path", ["/portal/records/", "/portal/records/immunizations"])
def test_the_banner_writes_the_birth_date_as_every_other_date(everyone, path):
    _, links = everyone[1:]
    birth = links["maria"]["birth_date"]
    _, html = page(everyone, "maria", path)
    assert f"(born {birth})" not in html
    assert re.search(r'\(born <time datetime="' + birth + r'">[A-Z][a-z]{2} \d{1,2}, \d{4}</time>\)', html)


def test_an_item_of_another_record_is_a_portal_page_with_the_banner_and_switcher(everyone, portal):
    _, db, summary = portal
    _, html_sofia = page(everyone, "sofia", "/portal/records/immunizations")
    item = re.search(r'href="(/portal/records/immunizations/[^"]+)"', html_sofia).group(1)
    status, html = page(everyone, "maria", item)
    assert status == 404
    assert "<h1>Not in this record</h1>" in html
    assert "Viewing the record of <strong>Maria Garcia</strong>" in html
    assert 'action="/portal/switch"' in html
    assert "This item is not in Maria Garcia’s record." in text(html)


def test_an_unknown_section_is_a_portal_page_too(everyone):
    status, html = page(everyone, "maria", "/portal/records/no-such-section")
    assert status == 404 and "Viewing the record of <strong>Maria Garcia</strong>" in html


def test_the_recipients_email_names_the_sender_and_whose_record_it_is_once(portal):
    path, db, _ = portal
    client = portal_client(path, OUTBOX_SENDER="inline")
    token = login(client, *MARIA)
    form = {"format": "pdf", "start": "", "end": "", "method": "email", "csrf_token": token}
    client.post("/portal/send/confirm", data=dict(form, recipient="self@clinic.example"))
    account = db.execute("SELECT id FROM accounts WHERE email = ?", (MARIA[0],)).fetchone()[0]
    sofia = next(r for r in accounts.linked_records(db, account) if r["relation"] == "parent")
    show_record(client, token, sofia["id"])
    client.post("/portal/send/confirm", data=dict(form, recipient="child@clinic.example"))
    bodies = {m["recipient"]: m["body_text"] for m in enrollment_store.messages(store.connect(path))}
    assert bodies["self@clinic.example"].startswith(
        "Maria Garcia sent you a copy of their health record from the patient portal."
    )
    assert bodies["child@clinic.example"].startswith(
        "Maria Garcia sent you the health record of Sofia Garcia from the patient portal, as Sofia's parent."
    )


def test_lab_tests_have_everyday_names_and_the_detail_page_gives_the_loinc_name(everyone):
    _, html = page(everyone, "james", "/portal/records/lab-results")
    names = re.findall(r'<th scope="row"><a href="[^"]+">([^<]+)</a></th>', html)
    assert "Total bilirubin" in names and "Hemoglobin concentration in red cells (MCHC)" in names
    assert "Bilirubin.total" not in html and ">MCHC<" not in html
    panels = re.findall(r'<h2 id="panel-\d+"><a href="[^"]+">([^<]+)</a></h2>', html)
    assert panels == ["Comprehensive metabolic panel", "Complete blood count (CBC)", "Urine dipstick test (urinalysis)"]
    bilirubin = re.search(r'<a href="([^"]+)">Total bilirubin</a>', html).group(1)
    _, detail = page(everyone, "james", bilirubin)
    assert "<h1>Total bilirubin</h1>" in detail
    assert "<dt>LOINC name</dt><dd>Bilirubin.total [Mass/volume] in Serum or Plasma</dd>" in detail


def test_the_download_is_named_with_the_date_it_says_it_was_made(portal, monkeypatch):
    # 04:25 UTC on Nov 29 is 8:25 PM on Nov 28 in the practice's time zone (America/Los_Angeles by default).
    monkeypatch.setattr("gateway.portal.exports.utc_now", lambda: "2026-11-29T04:25:00Z")
    client = portal_client(portal[0])
    token = login(client, *MARIA)
    response = client.post("/portal/download", data={"format": "html", "start": "", "end": "", "csrf_token": token})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'filename="Maria-Garcia_summary_2026-11-28.html"' in response.headers["Content-Disposition"]
    assert 'Made <time datetime="2026-11-29T04:25:00Z">Nov 28, 2026, 8:25\u202fPM PST</time>' in html


def lab_row(html, name):
    row = html[html.index(f">{name}</a></th>") + 1 :]
    return text(row[: row.index("</tr>")])


def test_a_childs_lab_range_and_flag_are_a_childs(everyone):
    # Sofia was 6 at her blood count: hemoglobin 11.9 g/dL is normal for her age (11.5-15.5), though below an
    # adult woman's 12.0; her MCV of 78 fL is normal for 6-11 (77-95), though below an adult's 80.
    _, html = page(everyone, "sofia", "/portal/records/lab-results")
    assert lab_row(html, "Hemoglobin") == "Hemoglobin 11.9 g/dL 11.5–15.5 g/dL (ages 6–11)"
    assert lab_row(html, "Average red cell size (MCV)") == "Average red cell size (MCV) 78 fL 77–95 fL (ages 6–11)"
    assert lab_row(html, "Platelets") == "Platelets 260 thousand per µL 150–400 thousand per µL"


def test_an_adults_range_names_the_sex_it_is_for_when_it_depends_on_it(everyone):
    _, html = page(everyone, "james", "/portal/records/lab-results")
    row = lab_row(html, "Hemoglobin")
    assert row == "Hemoglobin 12.9 g/dL 13.5–17.5 g/dL (males 18 and over) ▼ Low (outside the normal range)"
