"""Email through a real SMTP server (aiosmtpd), SMS through a Twilio-style HTTP API (responses), else the outbox."""
import pytest
import responses

from gateway import store
from smart_auth import enrollment
from smart_auth.notify import Notifier
from tests.enrollment_helpers import STAFF, build, context, outbox
from tests.smtp_server import Inbox, SmtpServer

SMS_URL = "https://sms.example/2010-04-01/Accounts/AC1/Messages.json"
SMS = {"SMS_URL": SMS_URL, "SMS_SID": "AC1", "SMS_TOKEN": "tok", "SMS_FROM": "+15550000000", "SMS_BACKOFF": 0}


@pytest.fixture
def db(tmp_path):
    database = store.connect(str(tmp_path / "notify.db"))
    build(database)
    return database


def test_email_goes_through_smtp_with_text_and_html_parts(db):
    with SmtpServer() as smtp:
        ctx = context(db, **smtp.config)
        patient = store.chart_row(db, "patients", 1)
        [invite] = enrollment.invite_people(ctx, patient, [{"relation": "self", "email": "jose@example.com"}], STAFF)
        [message] = smtp.inbox.wait_for("jose@example.com")
    assert message["From"] == "Portal <portal@gateway.test>"
    assert "Access your records" in Inbox.text_of(message)
    assert "Access your records" in message.get_body(("html",)).get_content()
    assert invite["pin"] not in message.as_string()
    [row] = outbox(db)
    assert row["status"] == "sent" and row["body_text"] is None  # a real send keeps no copy of the link


def test_email_uses_starttls_when_asked(db, tmp_path):
    with SmtpServer(tls_dir=tmp_path) as smtp:
        status = Notifier(db, smtp.config).email("a@example.com", "Hi", "text", "<p>html</p>", "test")
        [message] = smtp.inbox.wait_for("a@example.com")
    assert status == "sent" and message["Subject"] == "Hi"


def test_starttls_required_by_the_server_but_not_configured_is_a_recorded_failure(db, tmp_path):
    with SmtpServer(tls_dir=tmp_path) as smtp:
        config = {k: v for k, v in smtp.config.items() if k not in ("SMTP_STARTTLS",)}
        assert Notifier(db, config).email("a@example.com", "Hi", "text", "<p>html</p>", "test") == "failed"
    [row] = outbox(db)
    assert row["status"] == "failed" and "SMTP" in row["error"]


def test_unset_smtp_and_sms_keep_whole_messages_in_the_outbox(db):
    notifier = Notifier(db, {})
    assert notifier.email("a@example.com", "Subject", "text body", "<p>html</p>", "test") == "outbox"
    assert notifier.sms("555-010-0001", "sms body", "test") == "outbox"
    rows = outbox(db)
    assert [(r["channel"], r["body_text"], r["status"]) for r in rows] == [
        ("email", "text body", "outbox"), ("sms", "sms body", "outbox")]


@responses.activate
def test_sms_is_a_form_post_with_basic_auth():
    responses.post(SMS_URL, json={"sid": "SM1"}, status=201)
    db = store.connect(":memory:")
    assert Notifier(db, SMS).sms("+15550100001", "hello", "test") == "sent"
    call = responses.calls[0].request
    assert call.headers["Authorization"].startswith("Basic ")
    assert "To=%2B15550100001" in call.body and "From=%2B15550000000" in call.body and "Body=hello" in call.body


@responses.activate
def test_sms_retries_server_errors_then_succeeds():
    responses.post(SMS_URL, status=503)
    responses.post(SMS_URL, status=502)
    responses.post(SMS_URL, json={"sid": "SM1"}, status=201)
    db = store.connect(":memory:")
    assert Notifier(db, SMS).sms("+15550100001", "hello", "test") == "sent"
    assert len(responses.calls) == 3
    assert outbox(db)[0]["attempts"] == 3


@responses.activate
def test_sms_failures_are_recorded_for_staff(db):
    responses.post(SMS_URL, status=500)
    ctx = context(db, **SMS)
    patient = store.chart_row(db, "patients", 2)
    enrollment.invite_people(ctx, patient, [{"relation": "parent", "phone": "555-010-0009"}], STAFF)
    assert len(responses.calls) == 3
    from gateway.store.enrollment import failed_messages_of_patient
    [failure] = failed_messages_of_patient(db.conn, 2)
    assert failure["channel"] == "sms" and failure["error"] == "HTTP 500 after 3 attempts"


@responses.activate
def test_sms_client_errors_are_not_retried():
    responses.post(SMS_URL, status=400)
    db = store.connect(":memory:")
    assert Notifier(db, SMS).sms("+15550100001", "hello", "test") == "failed"
    assert len(responses.calls) == 1
