"""The console's "Send after-visit summary to the portal": a button on each completed visit of the practice's
own charts, a confirmation page, then the sent page; the chart's enrollment history records it, the patient's
portal accounts are emailed a link to the portal's page (never the key), and the patient sees the kept link."""

import datetime as dt
import html
import re

import pytest

from fixtures.demo_practice import uid
from gateway import store
from gateway.health_links.link import parse_link
from gateway.store import enrollment as enrollment_store
from smart_auth import accounts
from tests.enrollment_helpers import outbox
from tests.portal_helpers import build_portal_db, csrf, login, portal_client

MARIA = uid("patients", "maria")
BUTTON = "Send after-visit summary to the portal</button>"


@pytest.fixture(scope="module")
def console(module_db_path):
    path = module_db_path("avs")
    db, _ = build_portal_db(path)
    chart = store.chart_rows(db, "patients", uid=MARIA)[0]
    visits = sorted(store.chart_rows(db, "encounters", patient_id=chart["id"]), key=lambda v: v["start_at"])
    store.insert_rows(
        db, "encounters", [{"patient_id": chart["id"], "status": "in-progress", "start_at": "2027-01-14T09:00:00Z"}]
    )
    ongoing = [v for v in store.chart_rows(db, "encounters", patient_id=chart["id"]) if v["status"] != "finished"]
    accounts.create_staff(db, "admin@lakesideclinic.example.org", "Lakeside-Admin-1", "Admin", 2)
    return path, db, visits[-1], ongoing[0]["uid"]


def staff_client(path, email="frontdesk@sunrisefamily.example.org", password="Practice-Demo-1"):
    client = portal_client(path)
    token = csrf(client, "/practice/login")
    response = client.post("/practice/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302
    return client, token


def action(visit_uid, patient=MARIA):
    return f"/practice/records/{patient}/visits/{visit_uid}/summary"


def shared_events(db, visit):
    events = enrollment_store.events_of_patient(db, visit["patient_id"])
    return [e for e in events if e["event"] == "after-visit summary shared"]


def test_the_button_is_on_completed_visits_only(console):
    path, db, visit, ongoing = console
    client, _ = staff_client(path)
    page = client.get(f"/practice/records/{MARIA}").get_data(as_text=True)
    finished = {v["uid"] for v in store.chart_rows(db, "encounters", status="finished")}
    forms = re.findall(r'<form method="post" action="/practice/records/[^/]+/visits/([^/]+)/summary">', page)
    assert set(forms) == {u for u in finished if f'data-fhir="Encounter/{u}"' in page}
    assert visit["uid"] in forms and ongoing not in forms and page.count(BUTTON) == len(forms)


def test_staff_confirm_then_the_patient_gets_it_in_the_portal(console):
    path, db, visit, _ = console
    client, token = staff_client(path)
    confirm = client.post(action(visit["uid"]), data={"csrf_token": token})
    body = html.unescape(confirm.get_data(as_text=True))
    assert confirm.status_code == 200
    assert "<h1>Send the after-visit summary to the portal?</h1>" in body
    assert (
        "It goes to their patient portal, as a link they can show as a QR code or share with another doctor. It is"
        " not sent by email: if they have a portal account, an email only tells them it is there." in body
    )
    assert shared_events(db, visit) == []
    posted = client.post(action(visit["uid"]), data={"csrf_token": token, "confirm": "yes"})
    assert posted.status_code == 303
    sent_page = posted.headers["Location"]
    assert sent_page.startswith(action(visit["uid"]) + "/sent?link=")
    sent = client.get(sent_page)
    body = html.unescape(sent.get_data(as_text=True))
    assert sent.status_code == 200
    assert "<h1>After-visit summary sent to the portal</h1>" in body
    assert '<p id="told">An email tells maria.garcia@example.com, every.patient@example.com it is there.</p>' in body
    assert [(e["actor"], e["detail"]) for e in shared_events(db, visit)] == [
        ("staff frontdesk@sunrisefamily.example.org", f"{visit['type_text']}, {visit['start_at'][:10]}")
    ]
    chart_page = html.unescape(client.get(f"/practice/patients/{MARIA}").get_data(as_text=True))
    assert "<td>after-visit summary shared</td><td>staff frontdesk@sunrisefamily.example.org</td>" in chart_page
    assert client.get(sent_page).status_code == 200  # a reload of the sent page sends nothing again
    assert len(shared_events(db, visit)) == 1
    mails = [m for m in outbox(db) if m["kind"] == "after-visit summary"]
    link_uid = re.search(r"/portal/share/([\w-]+)", mails[0]["body_text"]).group(1)
    assert sent_page.endswith(f"?link={link_uid}")
    assert [(m["recipient"], m["subject"]) for m in mails] == [
        (email, "Your after-visit summary from Sunrise Family Medicine is in your portal")
        for email in ("maria.garcia@example.com", "every.patient@example.com")
    ]
    assert mails[0]["body_text"].endswith(f"See it in the portal: http://gateway.test/portal/share/{link_uid}")
    patient = portal_client(path)
    login(patient, "maria.garcia@example.com", "Portal-Demo-1")
    listing = patient.get("/portal/share").get_data(as_text=True)
    assert f'href="/portal/share/{link_uid}">Show the link' in listing
    kept = re.search(r">(shlink:/[^<]+)</textarea>", patient.get(f"/portal/share/{link_uid}").get_data(as_text=True))
    assert parse_link(kept.group(1)).label == f"After-visit summary, {dt.datetime.now(dt.UTC).date().isoformat()}"
    assert all(kept.group(1).split("#")[-1] not in m["body_text"] + m["body_html"] for m in mails)


def test_refusals(console):
    path, db, visit, ongoing = console
    client, token = staff_client(path)
    keala = uid("patients", "keala")
    other_visit = store.chart_rows(db, "encounters", patient_id=store.chart_rows(db, "patients", uid=keala)[0]["id"])
    ana = next(p for p in store.chart_rows(db, "patients", practice_id=1) if p["uid"] != MARIA)
    ana_visit = store.chart_rows(db, "encounters", patient_id=ana["id"])[0]["uid"]
    assert client.post(action(ongoing), data={"csrf_token": token}).status_code == 404
    assert client.post(action(ana_visit), data={"csrf_token": token, "confirm": "yes"}).status_code == 404
    assert client.post(action("no-such-visit"), data={"csrf_token": token}).status_code == 404
    assert client.post(action(other_visit[0]["uid"], keala), data={"csrf_token": token}).status_code == 404
    assert client.post(action(visit["uid"]), data={"confirm": "yes"}).status_code == 400
    other, other_token = staff_client(path, "admin@lakesideclinic.example.org", "Lakeside-Admin-1")
    assert other.post(action(visit["uid"]), data={"csrf_token": other_token, "confirm": "yes"}).status_code == 404


def test_the_sent_page_is_only_for_a_summary_of_that_visit(console):
    path, db, visit, _ = console
    client, token = staff_client(path)
    posted = client.post(action(visit["uid"]), data={"csrf_token": token, "confirm": "yes"})
    link_uid = posted.headers["Location"].rsplit("=", 1)[1]
    assert client.get(f"{action(visit['uid'])}/sent?link={link_uid}").status_code == 200
    earlier = sorted(store.chart_rows(db, "encounters", status="finished", patient_id=visit["patient_id"]), key=str)
    other_visit = next(v["uid"] for v in earlier if v["uid"] != visit["uid"])
    assert client.get(f"{action(other_visit)}/sent?link={link_uid}").status_code == 404
    assert client.get(f"{action(visit['uid'])}/sent?link=forged").status_code == 404
    assert client.get(f"{action(visit['uid'])}/sent").status_code == 404
    other, _ = staff_client(path, "admin@lakesideclinic.example.org", "Lakeside-Admin-1")
    assert other.get(f"{action(visit['uid'])}/sent?link={link_uid}").status_code == 404
    anonymous = portal_client(path).get(f"{action(visit['uid'])}/sent?link={link_uid}")
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/practice/login?next=")
