"""The demo outbox shows each email as the recipient sees it: the HTML part in a sandboxed frame (no scripts,
no remote loads), with the button its text promises, and links shown by their words, not their URLs."""

import re

import pytest

from gateway import store
from smart_auth import enrollment
from smart_auth.notify import Notifier
from tests.enrollment_helpers import STAFF, context, last_link
from tests.web_helpers import enrollment_app, text

FRAME_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; frame-ancestors 'self';"
    " sandbox allow-popups allow-top-navigation-by-user-activation"
)


@pytest.fixture
def demo(new_db_path):
    app, db = enrollment_app(new_db_path, DEMO=True, OUTBOX_SENDER="off")
    return app.test_client(), db


def invite_jose(db):
    person = {"relation": "self", "email": "jose@example.com", "phone": "555-010-0001", "text_link": True}
    enrollment.invite_people(context(db), store.chart_row(db, "patients", 1), [person], STAFF)
    return last_link(db)


def test_the_outbox_frames_each_emails_html_in_a_sandbox_and_names_links_by_their_words(demo):
    client, db = demo
    token = invite_jose(db)
    page = text(client.get("/portal/outbox"))
    [email_id] = re.findall(r'src="/portal/outbox/(\d+)/html"', page)
    assert (
        f'<iframe class="email-html" sandbox="allow-popups allow-top-navigation-by-user-activation" '
        f'src="/portal/outbox/{email_id}/html" title="The email to jose@example.com, as it looks"></iframe>'
    ) in page
    link = f'<a href="http://gateway.test/portal/invite/{token}">Access your records</a>'
    assert page.count(link) == 2  # the email's plain-text part and the text message
    assert f">http://gateway.test/portal/invite/{token}" not in page  # never a long URL as the words


def test_the_framed_email_has_its_button_and_a_policy_that_forbids_scripts_and_remote_loads(demo):
    client, db = demo
    token = invite_jose(db)
    email_id = re.search(r'src="/portal/outbox/(\d+)/html"', text(client.get("/portal/outbox"))).group(1)
    framed = client.get(f"/portal/outbox/{email_id}/html")
    assert framed.status_code == 200 and framed.mimetype == "text/html"
    assert framed.headers["Content-Security-Policy"] == FRAME_POLICY
    assert framed.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert framed.headers["Cache-Control"] == "no-store"
    html = text(framed)
    assert html.startswith('<!doctype html><html lang="en"><head><base target="_top"><meta charset="utf-8">')
    assert re.search(rf'<a href="http://gateway.test/portal/invite/{token}"[^>]*>Access your records</a>', html)


def test_a_hostile_html_part_is_served_only_under_the_sandbox_policy(demo):
    client, db = demo
    Notifier(db, {}).email(
        "x@example.com", "Hi", "Hi", '<img src="https://evil.example/t.gif"><script>alert(1)</script>', "record"
    )
    page = text(client.get("/portal/outbox"))
    frame = re.search(r"<iframe[^>]*>", page).group(0)
    assert "allow-scripts" not in frame and "allow-same-origin" not in frame
    framed = client.get("/portal/outbox/1/html")
    assert framed.headers["Content-Security-Policy"] == FRAME_POLICY
    assert "<script>alert(1)</script>" not in page  # only the sandboxed frame carries the message's markup


@pytest.mark.parametrize("case", ["text message", "queued", "missing"])
def test_no_html_part_to_frame_is_not_found(new_db_path, case):
    app, db = enrollment_app(new_db_path, DEMO=True, OUTBOX_SENDER="off")
    client = app.test_client()
    if case == "text message":
        Notifier(db, {}).sms("555-010-0001", "Hello", "security code")
    elif case == "queued":  # on its way to a mail server: its parts are not the demo's to show
        Notifier(db, {"SMTP_HOST": "127.0.0.1"}).email("x@example.com", "Hi", "Hi", "<p>Hi</p>", "record")
    assert client.get("/portal/outbox/1/html").status_code == 404


def test_outside_the_demo_the_framed_email_is_not_found(new_db_path):
    app, db = enrollment_app(new_db_path)
    invite_jose(db)
    assert app.test_client().get("/portal/outbox/1/html").status_code == 404
