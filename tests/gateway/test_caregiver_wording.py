"""A caregiver is told whose record they are about to join, and their menu says "Take this record"."""

from gateway import store
from gateway.portal.wording import whose_record
from gateway.store import enrollment as enrollment_store
from smart_auth import accounts, enrollment
from tests.enrollment_helpers import STAFF, context
from tests.web_helpers import enrollment_app, portal_login, text


def test_whose_record_names_the_patient_the_relation_and_the_pronoun():
    linh = {"relation": "caregiver", "first_name": "Linh", "last_name": "Nguyen", "patient_sex": "F"}
    assert whose_record(linh) == "Linh Nguyen's record, as her caregiver"
    assert whose_record({**linh, "patient_sex": "M", "relation": "parent"}) == "Linh Nguyen's record, as his parent"
    assert whose_record({**linh, "patient_sex": None}) == "Linh Nguyen's record, as their caregiver"
    assert whose_record({**linh, "relation": "self"}) == "your record"


def test_the_invited_caregiver_sees_whose_record_and_then_take_this_record(new_db_path):
    app, db = enrollment_app(new_db_path)
    store.insert_rows(
        db,
        "patients",
        [
            {
                "id": 10,
                "uid": "linh",
                "practice_id": 1,
                "mrn": "L010",
                "first_name": "Linh",
                "last_name": "Nguyen",
                "birth_date": "1950-03-02",
                "sex": "F",
            }
        ],
    )
    made = enrollment.invite_people(
        context(db), store.chart_row(db, "patients", 10), [{"relation": "caregiver", "email": "mai@example.com"}], STAFF
    )[0]
    mai = accounts.create_account(db, "mai@example.com", "Secret-Pass1", name="Mai Tran", confirmed=True)
    with store.transaction(db):
        enrollment_store.update_invite(db, made["id"], {"account_id": mai["id"]}, "2026-01-01T00:00:00Z")
    client = app.test_client()
    portal_login(client, "mai@example.com")
    # With no record yet, the portal goes straight to the invitation's verification (the first visit flows).
    assert client.get("/portal/").headers["Location"] == f"/portal/verify/{made['uid']}"
    verify = text(client.get(f"/portal/verify/{made['uid']}"))
    assert "to join Linh Nguyen&#39;s record, as her caregiver." in verify
    assert "your records" not in verify
    accounts.link_account_to_chart(db, mai["id"], 10, "caregiver")
    page = text(client.get("/portal/records/"))
    assert "Take this record" in page and "Take your record" not in page
    jose = accounts.create_account(db, "jose@example.com", "Secret-Pass1", confirmed=True)
    accounts.link_account_to_chart(db, jose["id"], 1, "self")
    own = app.test_client()
    portal_login(own, "jose@example.com")
    assert "Take your record" in text(own.get("/portal/records/"))
