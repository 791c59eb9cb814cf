"""The outbox as a queue: messages wait with their bodies, a sender delivers email through a real SMTP server
(aiosmtpd) and SMS through a Twilio-style HTTP API (responses, or slow loopback peers), retries with backoff
under a lease, fails finally for staff to see, forgets bodies once settled; with no sender, the demo outbox."""

import base64
import socket
import threading
import time

import orjson
import pytest
import responses

from gateway import store
from gateway.store import outbox as outbox_store
from gateway.store.enrollment import undelivered_messages_of_patient
from smart_auth import enrollment
from smart_auth.notify import Notifier
from tests.enrollment_helpers import STAFF, build, context, deliver, outbox
from tests.gateway.test_outbound import Trickle
from tests.smtp_server import Inbox, SmtpServer

SMS_URL = "https://sms.example/2010-04-01/Accounts/AC1/Messages.json"
SMS = {"SMS_URL": SMS_URL, "SMS_SID": "AC1", "SMS_TOKEN": "tok", "SMS_FROM": "+15550000000", "OUTBOX_BACKOFF": 0}


@pytest.fixture
def db(new_db_path):
    database = store.connect(new_db_path("notify"))
    build(database)
    return database


def test_an_email_waits_in_the_queue_with_its_body_and_leaves_it_behind_once_sent(db):
    with SmtpServer() as smtp:
        ctx = context(db, **smtp.config)
        patient = store.chart_row(db, "patients", 1)
        [invite] = enrollment.invite_people(ctx, patient, [{"relation": "self", "email": "jose@example.com"}], STAFF)
        [queued] = outbox(db)
        assert (queued["status"], queued["attempts"], smtp.inbox.messages) == ("queued", 0, [])
        assert "/portal/invite/" in queued["body_text"]  # held until sent: the sender needs it
        assert deliver(db, **smtp.config) == 1
        [message] = smtp.inbox.wait_for("jose@example.com")
    assert message["From"] == "Portal <portal@gateway.test>"
    assert "Access your records" in Inbox.text_of(message)
    assert "Access your records" in message.get_body(("html",)).get_content()
    assert invite["pin"] not in message.as_string()
    [row] = outbox(db)
    assert (row["status"], row["attempts"], row["body_text"], row["body_html"]) == ("sent", 1, None, None)
    assert row["sent_at"] is not None


def test_an_attachment_is_queued_and_arrives_intact_then_is_forgotten(db):
    pdf = b"%PDF-1.7 \x00\xff binary"
    with SmtpServer() as smtp:
        Notifier(db, smtp.config).email(
            "dr@example.com",
            "Record",
            "text",
            "<p>html</p>",
            "record",
            attachments=[("record.pdf", "application/pdf", pdf)],
        )
        deliver(db, **smtp.config)
        [message] = smtp.inbox.wait_for("dr@example.com")
    [attachment] = list(message.iter_attachments())
    assert (attachment.get_filename(), attachment.get_content_type()) == ("record.pdf", "application/pdf")
    assert attachment.get_content() == pdf
    assert outbox(db)[0]["attachments"] is None


def test_email_uses_starttls_when_asked(db, tmp_path):
    with SmtpServer(tls_dir=tmp_path) as smtp:
        assert Notifier(db, smtp.config).email("a@example.com", "Hi", "text", "<p>html</p>", "test") == "queued"
        deliver(db, **smtp.config)
        [message] = smtp.inbox.wait_for("a@example.com")
    assert message["Subject"] == "Hi" and outbox(db)[0]["status"] == "sent"


def test_a_refusal_by_the_mail_server_fails_at_once_without_retries(db, tmp_path):
    with SmtpServer(tls_dir=tmp_path) as smtp:
        config = {k: v for k, v in smtp.config.items() if k != "SMTP_STARTTLS"}  # the server requires STARTTLS
        Notifier(db, config).email("a@example.com", "Hi", "text", "<p>html</p>", "test")
        deliver(db, **config)
    [row] = outbox(db)
    assert (row["status"], row["attempts"], row["body_text"]) == ("failed", 1, None)
    assert row["error"].startswith("SMTPSenderRefused: (530")


def test_unset_smtp_and_sms_keep_whole_messages_and_attachments_in_the_outbox(db):
    notifier = Notifier(db, {})
    assert (
        notifier.email(
            "a@example.com",
            "Subject",
            "text body",
            "<p>html</p>",
            "test",
            attachments=[("r.json", "application/fhir+json", b'{"a": 1}')],
        )
        == "outbox"
    )
    assert notifier.sms("555-010-0001", "sms body", "test") == "outbox"
    rows = outbox(db)
    assert [(r["channel"], r["body_text"], r["status"]) for r in rows] == [
        ("email", "text body", "outbox"),
        ("sms", "sms body", "outbox"),
    ]
    assert orjson.loads(rows[0]["attachments"]) == [
        {"filename": "r.json", "media_type": "application/fhir+json", "data": base64.b64encode(b'{"a": 1}').decode()}
    ]
    assert deliver(db) == 0 and outbox(db) == rows  # nothing in the demo outbox is ever sent


@responses.activate
def test_sms_is_a_form_post_with_basic_auth(db):
    responses.post(SMS_URL, json={"sid": "SM1"}, status=201)
    assert Notifier(db, SMS).sms("+15550100001", "hello", "test") == "queued"
    assert len(responses.calls) == 0
    deliver(db, **SMS)
    call = responses.calls[0].request
    assert call.headers["Authorization"].startswith("Basic ")
    assert "To=%2B15550100001" in call.body and "From=%2B15550000000" in call.body and "Body=hello" in call.body
    assert (outbox(db)[0]["status"], outbox(db)[0]["body_text"]) == ("sent", None)


@responses.activate
def test_server_errors_are_retried_after_an_exponential_backoff(db):
    for status in (503, 502):
        responses.post(SMS_URL, status=status)
    responses.post(SMS_URL, json={"sid": "SM1"}, status=201)
    config = dict(SMS, OUTBOX_BACKOFF=30)
    Notifier(db, config).sms("+15550100001", "hello", "test")
    for attempt, wait in ((1, 30), (2, 60)):
        before = int(time.time())
        assert deliver(db, **config) == 1 and deliver(db, **config) == 0  # not due again yet
        [row] = outbox(db)
        assert (row["status"], row["attempts"], row["body_text"]) == ("queued", attempt, "hello")
        assert before + wait <= row["next_attempt_at"] <= int(time.time()) + wait
        db.execute("UPDATE outbox SET next_attempt_at = 0")  # the wait has passed
    deliver(db, **config)
    assert len(responses.calls) == 3
    assert (outbox(db)[0]["status"], outbox(db)[0]["attempts"]) == ("sent", 3)


@responses.activate
def test_a_message_fails_finally_after_the_last_attempt_and_staff_see_it(db):
    responses.post(SMS_URL, status=500)
    ctx = context(db, **SMS, OUTBOX_ATTEMPTS=3)
    enrollment.invite_people(
        ctx, store.chart_row(db, "patients", 2), [{"relation": "parent", "phone": "555-010-0009"}], STAFF
    )
    deliver(db, **SMS, OUTBOX_ATTEMPTS=3)
    assert len(responses.calls) == 3
    [failure] = undelivered_messages_of_patient(db, 2)
    assert (failure["channel"], failure["error"], failure["attempts"]) == ("sms", "HTTP 500 after 3 attempts", 3)
    assert outbox(db)[0]["body_text"] is None  # the link is gone once nobody will send it


@responses.activate
def test_sms_refusals_are_not_retried(db):
    responses.post(SMS_URL, status=400)
    Notifier(db, SMS).sms("+15550100001", "hello", "test")
    deliver(db, **SMS)
    assert len(responses.calls) == 1
    assert (outbox(db)[0]["status"], outbox(db)[0]["error"]) == ("failed", "HTTP 400")


def test_two_senders_never_deliver_one_message_twice(db):
    with SmtpServer() as smtp:
        notifier = Notifier(db, smtp.config)
        for n in range(24):
            notifier.email(f"p{n}@example.com", f"Message {n}", "text", "<p>html</p>", "test")
        senders = [
            threading.Thread(target=deliver, args=(store.connect(db.path),), kwargs=smtp.config) for _ in range(4)
        ]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join(30)
        smtp.inbox.wait_for("@example.com", count=24)
        time.sleep(0.2)
        received = sorted(str(m["Subject"]) for m in smtp.inbox.messages)
    assert received == sorted(f"Message {n}" for n in range(24))
    assert {(r["status"], r["attempts"]) for r in outbox(db)} == {("sent", 1)}


def test_a_crashed_senders_message_is_taken_again_when_its_lease_runs_out(db):
    with SmtpServer() as smtp:
        notifier = Notifier(db, smtp.config)
        notifier.email("busy@example.com", "Busy", "t", "<p>h</p>", "test")
        notifier.email("crashed@example.com", "Crashed", "t", "<p>h</p>", "test")
        now = int(time.time())
        with store.transaction(db):
            outbox_store.claim_due(db, now, now + 600, "live-sender")  # still sending, elsewhere
            outbox_store.claim_due(db, now, now - 1, "dead-sender")  # its lease has run out
        assert deliver(db, **smtp.config) == 1
        [message] = smtp.inbox.wait_for("crashed@example.com")
    busy, crashed = outbox(db)
    assert (crashed["status"], crashed["attempts"]) == ("sent", 2)
    assert (busy["status"], busy["claim"]) == ("sending", "live-sender")
    assert not outbox_store.mark_sent(db, crashed["id"], "dead-sender", "late")  # a lost claim settles nothing


class TrickleSmtp:
    """A loopback 'mail server' that sends its greeting one byte at a time, for ever (a slow-loris peer)."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.config = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.sock.getsockname()[1]}
        self.stop = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        conn, _ = self.sock.accept()
        with conn:
            while not self.stop.wait(0.05):
                try:
                    conn.sendall(b"2")
                except OSError:
                    return

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.sock.close()


def test_a_mail_server_that_trickles_its_replies_is_cut_off_at_the_deadline(db):
    with TrickleSmtp() as peer:
        config = dict(peer.config, SMTP_DEADLINE=1)
        Notifier(db, config).email("a@example.com", "Hi", "text", "<p>html</p>", "test")
        started = time.monotonic()
        deliver(db, **config)
        took = time.monotonic() - started
    assert 0.9 < took < 2, took
    [row] = outbox(db)
    assert (row["status"], row["attempts"], row["error"]) == (
        "queued",
        1,
        "the mail server did not finish within 1 seconds",
    )


def test_an_sms_provider_that_trickles_its_answer_is_cut_off_at_the_deadline(db):
    with Trickle(interval=0.05) as peer:
        config = {"SMS_URL": peer.url, "SMS_DEADLINE": 0.5}
        Notifier(db, config).sms("+15550100001", "hello", "test")
        started = time.monotonic()
        deliver(db, **config)
        took = time.monotonic() - started
    assert 0.4 < took < 1.5, took
    [row] = outbox(db)
    assert (row["status"], row["attempts"], row["error"]) == (
        "queued",
        1,
        "the SMS provider did not answer within 0.5 seconds",
    )


def test_the_sender_gives_up_on_a_message_whose_senders_keep_crashing(db):
    Notifier(db, {"SMS_URL": SMS_URL}).sms("+15550100001", "hello", "test")
    db.execute("UPDATE outbox SET status = 'sending', attempts = 5, lease_until = 0")
    deliver(db, SMS_URL=SMS_URL, OUTBOX_ATTEMPTS=5)
    [row] = outbox(db)
    assert (row["status"], row["error"], row["body_text"]) == ("failed", "the sender stopped while sending it", None)
