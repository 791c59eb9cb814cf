"""The practice console's enrollment pages: status columns, the invite form without JavaScript, the
confirmation step, access codes, resend / cancel / re-invite / revoke, printing, demographics."""

import re

import pytest
import responses

from gateway import store
from gateway.store import accounts as account_store
from gateway.store import enrollment as enrollment_store
from smart_auth import pins
from tests.enrollment_helpers import deliver, outbox
from tests.web_helpers import enrollment_app, post, staff_login, text

SMS_URL = "https://sms.example/2010-04-01/Accounts/AC1/Messages.json"


@pytest.fixture
def web(new_db_path):
    app, db = enrollment_app(new_db_path)
    client = app.test_client()
    staff_login(client)
    return client, db


def invite_form(client, rows, action):
    data = {"rows": len(rows), "action": action}
    for i, row in enumerate(rows):
        data.update({f"people-{i}-{k}": v for k, v in row.items()})
    return post(client, "/practice/patients/pat-1/invite", data, "/practice/patients/pat-1/invite")


def test_patient_list_shows_status_and_an_invite_link(web):
    client, _ = web
    html = text(client.get("/practice/"))
    assert "Patient portal" in html and "Representatives" in html
    assert html.count("Invite to patient portal") == 2
    assert 'href="/practice/patients/pat-1"' in html


def test_the_invite_form_is_prefilled_from_the_chart(web):
    client, _ = web
    html = text(client.get("/practice/patients/pat-1/invite"))
    assert 'value="555-010-0001"' in html and 'value="self" selected' in html


def test_add_users_and_remove_work_without_javascript(web):
    client, _ = web
    rows = [{"relation": "self", "email": "jose@example.com", "phone": "555-010-0001"}]
    html = text(invite_form(client, rows, "add"))
    assert 'name="people-1-email"' in html and 'name="rows" value="2"' in html
    html = text(invite_form(client, rows + [{"relation": "parent", "email": "", "phone": ""}], "remove-0"))
    assert 'name="rows" value="1"' in html and 'value="parent" selected' in html


def test_review_lists_everything_then_invite_sends(web):
    client, db = web
    rows = [
        {"relation": "self", "email": "jose@example.com", "phone": "555-010-0001"},
        {"relation": "spouse", "email": "ana@example.com", "phone": "555-010-0002", "text_link": "1"},
    ]
    html = text(invite_form(client, rows, "review"))
    assert "Confirm: invite to the patient portal" in html and "ana@example.com" in html and "Spouse" in html
    assert outbox(db) == []
    response = invite_form(client, rows, "send")
    assert response.status_code == 302
    assert [(m["channel"], m["recipient"]) for m in outbox(db)] == [
        ("email", "jose@example.com"),
        ("email", "ana@example.com"),
        ("sms", "555-010-0002"),
    ]
    html = text(client.get("/practice/patients/pat-1"))
    codes = re.findall(r'<code class="pin">([A-Z0-9-]+)</code>', html)
    assert len(codes) == 2 and all(len(c.replace("-", "")) == 8 for c in codes)
    assert html.count("badge status-invited") == 2 and "Enrollment history" in html and "staff desk@example.com" in html


def test_bad_rows_rerender_with_a_message_per_row(web):
    client, _ = web
    response = invite_form(client, [{"relation": "parent", "email": "nope", "phone": ""}], "review")
    assert response.status_code == 400 and "email address like" in text(response)


def test_resend_cancel_reinvite_and_print(web):
    client, db = web
    invite_form(client, [{"relation": "self", "email": "jose@example.com", "phone": ""}], "send")
    [invite] = enrollment_store.invites_of_patient(db, 1)
    page = "/practice/patients/pat-1"
    code = re.search(r'<code class="pin">([A-Z0-9-]+)</code>', text(client.get(page))).group(1)
    printed = text(client.get(f"/practice/invites/{invite['uid']}/print"))
    assert code in printed and "Access your records" in printed
    post(client, f"/practice/invites/{invite['uid']}/resend", page=page)
    assert len(outbox(db)) == 2 and code in text(client.get(page))
    post(client, f"/practice/invites/{invite['uid']}/reinvite", {"confirm": "yes"}, page=page)
    new_code = re.search(r'<code class="pin">([A-Z0-9-]+)</code>', text(client.get(page))).group(1)
    assert new_code != code
    latest = enrollment_store.invites_of_patient(db, 1)[-1]
    post(client, f"/practice/invites/{latest['uid']}/cancel", {"confirm": "yes"}, page=page)
    html = text(client.get(page))
    assert '<code class="pin">' not in html and "Not invited (invitation cancelled" in html
    assert client.get(f"/practice/invites/{latest['uid']}/print").status_code == 404


def test_another_practices_chart_and_invites_are_not_found(web, tmp_path):
    client, db = web
    assert client.get("/practice/patients/pat-3").status_code == 404
    assert client.get("/practice/patients/pat-3/invite").status_code == 404
    from smart_auth import enrollment
    from tests.enrollment_helpers import context

    [other] = enrollment.invite_people(
        context(db), store.chart_row(db, "patients", 3), [{"relation": "self", "email": "x@example.com"}], "test"
    )
    assert client.get(f"/practice/invites/{other['uid']}/print").status_code == 404
    response = post(client, f"/practice/invites/{other['uid']}/cancel", page="/practice/")
    assert response.status_code == 404


def test_console_forms_need_csrf(web):
    client, _ = web
    response = client.post("/practice/patients/pat-1/invite", data={"rows": 1, "action": "send"})
    assert response.status_code == 400


def test_revoke_from_the_console(web):
    client, db = web
    from smart_auth import accounts

    account = accounts.create_account(db, "cli@example.com", "Secret-Pass1", confirmed=True)
    accounts.link_account_to_chart(db, account["id"], 1, "self")
    html = text(client.get("/practice/patients/pat-1"))
    link_uid = re.search(r"/practice/links/([0-9a-f]+)/revoke", html).group(1)
    post(client, f"/practice/links/{link_uid}/revoke", {"confirm": "yes"}, page="/practice/")
    html = text(client.get("/practice/patients/pat-1"))
    assert "Revoked" in html and "revoked" in html and "Revoke access" not in html


def test_demographics_edit_reprojects_the_chart(web):
    client, db = web
    page = "/practice/patients/pat-1/demographics"
    assert 'value="Ramírez"' in text(client.get(page))
    data = {
        "first_name": "José",
        "last_name": "Ramírez",
        "birth_date": "1980-05-18",
        "phone": "555-010-0003",
        "sex": "M",
        "race_code": "2028-9",
        "ethnicity_code": "2186-5",
        "preferred_language": "en",
    }
    assert post(client, page, data, page).status_code == 302
    row = store.chart_row(db, "patients", 1)
    assert (row["birth_date"], row["race_code"], row["preferred_language"]) == ("1980-05-18", "2028-9", "en")
    resource = db.execute("SELECT json, version FROM resources WHERE type = 'Patient' AND id = 'pat-1'").fetchone()
    assert b"1980-05-18" in resource[0] and resource[1] == 2
    bad = post(client, page, {**data, "birth_date": "someday", "race_code": "9999-9"}, page)
    assert bad.status_code == 400 and "YYYY-MM-DD" in text(bad) and "race" in text(bad)


def test_demographics_edits_are_audited_in_the_consoles_access_history_without_values(web):
    client, db = web
    page = "/practice/patients/pat-1/demographics"
    row = store.chart_row(db, "patients", 1)
    data = {
        k: row[k] or ""
        for k in (
            "first_name",
            "last_name",
            "birth_date",
            "phone",
            "sex",
            "race_code",
            "ethnicity_code",
            "preferred_language",
        )
    }
    assert post(client, page, {**data, "birth_date": "1980-05-18", "phone": "555-010-0777"}, page).status_code == 302
    assert post(client, page, {**data, "birth_date": "1980-05-18", "phone": "555-010-0777"}, page).status_code == 302
    staff_uid = account_store.staff_by_email(db, "desk@example.com")["uid"]
    rows = db.execute("SELECT patient_id, kind, actor, what, detail FROM disclosures ORDER BY id").fetchall()
    edits = [r for r in rows if r[3] != "opened the patient's record in the console"]
    assert edits == [
        ("pat-1", "staff", staff_uid, "changed the chart's date of birth, phone", '{"name":"Front desk"}'),
        ("pat-1", "staff", staff_uid, "saved the chart's demographics unchanged", '{"name":"Front desk"}'),
    ]
    history = text(client.get("/practice/records/pat-1"))
    assert "changed the chart&#39;s date of birth, phone" in history and "Front desk" in history
    assert "555-010-0777" not in repr(rows)


def test_asked_but_unknown_reads_the_same_in_the_console_and_in_fhir(web):
    client, db = web
    page = "/practice/patients/pat-1/demographics"
    data = {
        "first_name": "José",
        "last_name": "Ramírez",
        "birth_date": "1980-05-17",
        "sex": "M",
        "race_code": "ASKU",
        "ethnicity_code": "ASKU",
    }
    assert post(client, page, data, page).status_code == 302
    html = text(client.get(page))
    assert html.count('<option value="ASKU" selected>Asked but unknown</option>') == 2
    assert "declined" not in html
    resource = db.execute("SELECT json FROM resources WHERE type = 'Patient' AND id = 'pat-1'").fetchone()
    assert resource[0].count(b'"valueString":"Asked but unknown"') == 2


def test_sex_not_recorded_saves_as_unknown(web):
    client, db = web
    page = "/practice/patients/pat-1/demographics"
    data = {"first_name": "José", "last_name": "Ramírez", "birth_date": "1980-05-17", "sex": ""}
    response = post(client, page, data, page)
    assert response.status_code == 302 and response.headers["Location"] == "/practice/patients/pat-1"
    assert store.chart_row(db, "patients", 1)["sex"] == "U"
    resource = db.execute("SELECT json FROM resources WHERE type = 'Patient' AND id = 'pat-1'").fetchone()[0]
    assert b'"gender":"unknown"' in resource.replace(b" ", b"")
    assert '<option value="U" selected>Unknown</option>' in text(client.get(page))


def test_pins_never_appear_in_the_outbox_or_the_audit_log(web):
    client, db = web
    invite_form(
        client, [{"relation": "self", "email": "jose@example.com", "phone": "555-010-0001", "text_link": "1"}], "send"
    )
    code = re.search(r'<code class="pin">([A-Z0-9-]+)</code>', text(client.get("/practice/patients/pat-1"))).group(1)
    dump = repr(outbox(db)) + repr(enrollment_store.events(db))
    assert code not in dump and pins.normalize_pin(code) not in dump


@responses.activate
def test_the_chart_shows_staff_a_text_that_is_being_retried_then_one_that_failed(new_db_path):
    responses.post(SMS_URL, status=503)
    app, db = enrollment_app(new_db_path, SMS_URL=SMS_URL, OUTBOX_SENDER="inline", OUTBOX_ATTEMPTS=2, OUTBOX_BACKOFF=60)
    client = app.test_client()
    staff_login(client)
    rows = [{"relation": "self", "phone": "555-010-0001", "text_link": "1"}]
    assert invite_form(client, rows, "send").status_code == 302  # first attempt after the response: 503
    [queued] = outbox(db)
    assert (queued["status"], queued["attempts"], queued["error"]) == ("queued", 1, "HTTP 503")
    assert "555-010-0001 (invite):\n    HTTP 503, " in text(client.get("/practice/patients/pat-1"))
    assert "; trying again</li>" in text(client.get("/practice/patients/pat-1"))
    db.execute("UPDATE outbox SET next_attempt_at = 0")  # a minute has passed
    deliver(db, SMS_URL=SMS_URL, OUTBOX_ATTEMPTS=2)
    html = text(client.get("/practice/patients/pat-1"))
    assert "HTTP 503 after 2 attempts" in html and "; not sent after 2 attempt(s)</li>" in html
    assert len(responses.calls) == 2
