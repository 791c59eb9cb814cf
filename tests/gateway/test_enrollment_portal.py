"""The invitee's pages: the invitation link, sign-up, confirmation, login with the invite, PIN and SMS
verification, forgot password, settings, profile and the demo outbox, through Flask's test client."""

import re

import pytest

from gateway import store
from smart_auth import accounts, enrollment
from smart_auth.notify import Notifier
from tests.enrollment_helpers import STAFF, context, last_link, last_sms_code
from tests.web_helpers import enrollment_app, portal_login, post, text


@pytest.fixture
def web(new_db_path):
    app, db = enrollment_app(new_db_path)
    return app.test_client(), db


def invite(db, pid=1, **person):
    person = {"relation": "self", "email": "jose@example.com", "phone": "555-010-0001", **person}
    made = enrollment.invite_people(context(db), store.chart_row(db, "patients", pid), [person], STAFF)[0]
    return made, last_link(db)


def sign_up(client, email, password="Secret-Pass1"):
    return post(client, "/portal/signup", {"email": email, "password": password, "name": "José"})


def test_new_patient_signs_up_confirms_and_verifies_by_pin(web):
    client, db = web
    made, token = invite(db)
    landing = client.get(f"/portal/invite/{token}")
    assert landing.status_code == 200 and "Test Practice" in text(landing) and "Ramírez" not in text(landing)
    done = sign_up(client, "jose.r@example.com")
    assert done.status_code == 200 and "Confirm my account" in text(done)
    portal_login(client, "jose.r@example.com")
    home = client.get("/portal/")
    assert home.headers["Location"] == f"/portal/verify/{made['uid']}"
    assert "First confirm your email" in text(client.get(home.headers["Location"]))
    refused = post(client, f"/portal/verify/{made['uid']}/pin", {"pin": made["pin"]})
    assert refused.status_code == 403 and "Confirm your email" in text(refused)
    client.get(f"/portal/confirm/{last_link(db, '/portal/confirm/')}")
    before = client.get_cookie("gateway_session").value
    response = post(client, f"/portal/verify/{made['uid']}/pin", {"pin": made["pin"]})
    assert response.status_code == 302 and client.get_cookie("gateway_session").value != before
    assert response.headers["Location"] == "/portal/records/"
    home = text(client.get("/portal/"))
    assert "Viewing the record of" in home and "José Ramírez" in home and "Finish linking" not in home


def test_sign_up_with_a_taken_email_answers_exactly_the_same(web):
    client, db = web
    accounts.create_account(db, "taken@example.com", "Secret-Pass1", confirmed=True)
    pages = [text(sign_up(client, email)).replace(email, "EMAIL") for email in ("taken@example.com", "new@example.com")]
    assert pages[0] == pages[1]


def test_sign_up_shows_each_unmet_password_rule(web):
    client, _ = web
    response = sign_up(client, "new@example.com", "short")
    html = text(response)
    assert response.status_code == 400
    for rule in ("at least 8 characters", "an uppercase letter", "a number or symbol"):
        assert f"The password needs {rule}." in html


def test_existing_account_logs_in_from_the_invite_and_verifies_by_sms(web):
    client, db = web
    accounts.create_account(db, "mom@example.com", "Secret-Pass1", confirmed=True)
    made, token = invite(db, pid=2, relation="parent", email="mom@example.com", phone="555-010-0009")
    client.get(f"/portal/invite/{token}")
    response = portal_login(client, "mom@example.com", next_url="/portal/invite/claim")
    assert response.headers["Location"] == "/portal/invite/claim"
    response = client.get("/portal/invite/claim")
    assert response.headers["Location"] == f"/portal/verify/{made['uid']}"
    wrong = post(client, f"/portal/verify/{made['uid']}/sms", {"phone": "555-010-7777"})
    right = post(client, f"/portal/verify/{made['uid']}/sms", {"phone": "(555) 010-0009"})
    assert wrong.status_code == right.status_code == 302
    page = text(client.get(f"/portal/verify/{made['uid']}"))
    assert "If that number is the one your practice has on file" in page and "Security code" in page
    bad = post(client, f"/portal/verify/{made['uid']}/code", {"code": "000000"})
    assert bad.status_code == 400 and "tries left" in text(bad)
    good = post(client, f"/portal/verify/{made['uid']}/code", {"code": last_sms_code(db)})
    assert good.status_code == 302
    assert "you are their parent" in text(client.get("/portal/"))


def test_a_used_or_forged_link_is_gone(web):
    client, db = web
    invite(db)
    token = last_link(db)
    client.get(f"/portal/invite/{token}")
    sign_up(client, "first@example.com")
    other = client.application.test_client()
    for link in (token, "forged-token"):
        response = other.get(f"/portal/invite/{link}")
        assert response.status_code == 410 and "Ask your practice" in text(response)


def test_forgot_password_answers_the_same_for_unknown_emails(web):
    client, db = web
    accounts.create_account(db, "jose@example.com", "Secret-Pass1", confirmed=True)
    pages = [
        text(post(client, "/portal/forgot", {"email": e})).replace(e, "EMAIL")
        for e in ("jose@example.com", "nobody@example.com")
    ]
    assert pages[0] == pages[1]
    token = last_link(db, "/portal/reset/")
    page = f"/portal/reset/{token}"
    assert post(client, page, {"password": "Brand-New-2"}, page).status_code == 302
    assert client.get(page).status_code == 410
    assert portal_login(client, "jose@example.com", "Brand-New-2").status_code == 302


def test_settings_are_the_accounts_own_and_profile_shows_the_chart(web):
    client, db = web
    account = accounts.create_account(db, "jose@example.com", "Secret-Pass1", name="Pepe", confirmed=True)
    accounts.link_account_to_chart(db, account["id"], 1)
    portal_login(client, "jose@example.com")
    post(client, "/portal/settings", {"name": "Pepe R", "phone": "555-222-3333", "email": "jose@example.com"})
    store.update_row(db, "patients", 1, {"first_name": "Josef", "phone": "555-999-9999", "preferred_language": "en"})
    settings = text(client.get("/portal/settings"))
    assert 'value="Pepe R"' in settings and 'value="555-222-3333"' in settings
    profile = text(client.get("/portal/profile"))
    for fact in ("Male", "1980-05-17", "White", "Hispanic or Latino", "English"):
        assert fact in profile
    assert "Pepe R" in profile
    store.update_row(db, "patients", 1, {"race_code": "ASKU", "ethnicity_code": "UNK"})
    profile = text(client.get("/portal/profile"))
    assert "Asked but unknown" in profile and "ASKU" not in profile and "Unknown" in profile


def test_the_demo_outbox_shows_only_in_the_demo_without_smtp_and_outside_production(make_app, new_db_path):
    app, db = enrollment_app(new_db_path, DEMO=True)
    client = app.test_client()
    invite(db)
    page = client.get("/portal/outbox")
    assert page.status_code == 200 and "/portal/invite/" in text(page)
    assert "Demo outbox" in text(client.get("/portal/login"))
    for config in ({}, {"DEMO": True, "SMTP_HOST": "127.0.0.1"}, {"ENV": "production"}):
        locked = make_app(db.path, BASE_URL="http://x", SECRET_KEY="s3cret-value", **config).test_client()
        assert locked.get("/portal/outbox").status_code == 404
        assert "Demo outbox" not in text(locked.get("/portal/login"))


def test_someone_elses_invitation_page_is_not_found(web):
    client, db = web
    made, _ = invite(db)
    accounts.create_account(db, "stranger@example.com", "Secret-Pass1", confirmed=True)
    portal_login(client, "stranger@example.com")
    assert client.get(f"/portal/verify/{made['uid']}").status_code == 404
    assert post(client, f"/portal/verify/{made['uid']}/pin", {"pin": made["pin"]}).status_code == 404


def test_finalize_page_asks_for_date_of_birth(web):
    client, db = web
    made, token = invite(db)
    holder = accounts.create_account(db, "jose@example.com", "Secret-Pass1", confirmed=True)
    from smart_auth import verification

    verification.claim_invite(context(db), token, holder)
    verification.verify_access_code(context(db), holder, made["uid"], made["pin"])
    from gateway.store import enrollment as enrollment_store

    new = enrollment.reinvite(context(db), enrollment_store.invite_by_uid(db, made["uid"]), STAFF)
    portal_login(client, "jose@example.com")
    assert "Finalize access to your records" in text(client.get("/portal/"))
    page = text(client.get(f"/portal/verify/{new['uid']}"))
    assert "Date of birth" in page and re.search(r'name="birth_date"', page)
    ok = post(client, f"/portal/verify/{new['uid']}/pin", {"pin": new["pin"], "birth_date": "1980-05-17"})
    assert ok.status_code == 302


def test_the_demo_outbox_offers_a_kept_emails_attachment_for_download(new_db_path):
    app, db = enrollment_app(new_db_path, DEMO=True, SMS_URL="https://sms.example/Messages.json", OUTBOX_SENDER="off")
    client = app.test_client()
    Notifier(db, {}).email(
        "dr@example.com",
        "Record",
        "See the file.",
        "<p>See</p>",
        "record",
        attachments=[("Maria summary.pdf", "application/pdf", b"%PDF-1.7 record")],
    )
    Notifier(db, app.config).sms("555-010-0001", "Your code is 123456", "security code")  # queued, not kept
    page = text(client.get("/portal/outbox"))
    assert 'href="/portal/outbox/1/1" download>Maria summary.pdf</a> (application/pdf, 15 bytes)' in page
    assert "123456" not in page and "queued" in page
    download = client.get("/portal/outbox/1/1")
    assert download.status_code == 200 and download.data == b"%PDF-1.7 record"
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"] == "attachment; filename*=UTF-8''Maria%20summary.pdf"
    assert download.headers["Cache-Control"] == "no-store"
    for missing in ("/portal/outbox/1/2", "/portal/outbox/2/1", "/portal/outbox/99/1"):
        assert client.get(missing).status_code == 404
