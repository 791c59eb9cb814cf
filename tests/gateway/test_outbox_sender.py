"""Messages leave from a queue after the response: pages that may send answer alike whether or not a message
goes out (no timing oracle for "has an account" or "is the phone on file"), and a sender thread delivers them."""

import contextlib
import http.server
import threading
import time
from urllib.parse import parse_qs

import requests
from werkzeug.serving import make_server

from gateway import outbox_sender, store
from smart_auth import accounts, enrollment
from smart_auth.notify import Notifier
from tests.enrollment_helpers import STAFF, context, last_link, outbox
from tests.smtp_server import SmtpServer
from tests.web_helpers import enrollment_app

DELAY = 1.0  # what each slow peer takes per message; no page may wait for it
FAST = 0.5


class SlowSms:
    """A Twilio-style SMS provider on loopback that takes DELAY seconds to accept each message."""

    def __init__(self, delay=DELAY):
        self.bodies = []
        received = self.bodies

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                time.sleep(delay)
                received.append(parse_qs(body.decode()))
                self.send_response(201)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.config = {
            "SMS_URL": f"http://127.0.0.1:{self.server.server_port}/Messages.json",
            "SMS_SID": "AC1",
            "SMS_TOKEN": "tok",
            "SMS_FROM": "+15550000000",
        }
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count=1, timeout=5):
        deadline = time.monotonic() + timeout
        while len(self.bodies) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.bodies

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@contextlib.contextmanager
def live(app):
    """Serve ``app`` on a loopback port with a real threaded HTTP server; yield a session and the base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with requests.Session() as http:
            yield http, f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        outbox_sender.sender_of(app).stop()


def form_post(http, url, page, data):
    """POST a form with the CSRF token of ``page``; return (response, seconds the POST took)."""
    import re

    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get(page).text).group(1)
    started = time.monotonic()
    response = http.post(url, data={**data, "csrf_token": token}, allow_redirects=False)
    return response, time.monotonic() - started


def test_forgot_password_answers_as_fast_for_a_known_email_and_the_mail_goes_out_afterwards(new_db_path):
    with SmtpServer(delay=DELAY) as smtp:
        app, db = enrollment_app(new_db_path, **smtp.config)
        accounts.create_account(db, "jose@example.com", "Secret-Pass1", confirmed=True)
        with live(app) as (http, base):
            form = f"{base}/portal/forgot"
            form_post(http, form, form, {"email": "warm-up@example.com"})
            unknown, unknown_took = form_post(http, form, form, {"email": "nobody@example.com"})
            known, known_took = form_post(http, form, form, {"email": "jose@example.com"})
            assert unknown.status_code == known.status_code == 200
            assert unknown_took < FAST and known_took < FAST, (unknown_took, known_took)
            [message] = smtp.inbox.wait_for("jose@example.com")
        assert "/portal/reset/" in message.get_body(("plain",)).get_content()
    [row] = outbox(db)
    assert (row["status"], row["attempts"], row["body_text"]) == ("sent", 1, None)


def test_text_me_a_code_answers_as_fast_for_the_right_phone_and_the_text_goes_out_afterwards(new_db_path):
    with SlowSms() as sms:
        app, db = enrollment_app(new_db_path, **sms.config)
        accounts.create_account(db, "mom@example.com", "Secret-Pass1", confirmed=True)
        person = {"relation": "parent", "email": "mom@example.com", "phone": "555-010-0009"}
        [made] = enrollment.invite_people(context(db), store.chart_row(db, "patients", 2), [person], STAFF)
        with live(app) as (http, base):
            http.get(f"{base}/portal/invite/{last_link(db)}")
            login, _ = form_post(
                http,
                f"{base}/portal/login",
                f"{base}/portal/login",
                {"email": "mom@example.com", "password": "Secret-Pass1", "next": "/portal/invite/claim"},
            )
            assert login.status_code == 302
            http.get(f"{base}/portal/invite/claim")
            page, url = f"{base}/portal/verify/{made['uid']}", f"{base}/portal/verify/{made['uid']}/sms"
            wrong, wrong_took = form_post(http, url, page, {"phone": "555-010-7777"})
            right, right_took = form_post(http, url, page, {"phone": "(555) 010-0009"})
            assert wrong.status_code == right.status_code == 302
            assert wrong_took < FAST and right_took < FAST, (wrong_took, right_took)
            [sent] = sms.wait_for(1)
    assert sent["To"] == ["555-010-0009"] and "code" in sent["Body"][0]
    [row] = outbox(db, channel="sms")
    assert (row["status"], row["attempts"], row["body_text"]) == ("sent", 1, None)


def test_the_sender_thread_starts_in_the_serving_process_and_again_after_a_fork(new_db_path, monkeypatch):
    app, _ = enrollment_app(new_db_path, SMTP_HOST="127.0.0.1", SMTP_PORT=1)
    sender = outbox_sender.sender_of(app)
    try:
        assert not sender.running  # create_app runs in the server's master too: no thread to lose in the fork
        assert app.test_client().get("/portal/login").status_code == 200
        assert sender.running
        first = sender._thread
        monkeypatch.setattr(outbox_sender.os, "getpid", lambda: -1)  # as a forked worker sees it
        assert not sender.running
        app.test_client().get("/portal/login")
        assert sender.running and sender._thread is not first
    finally:
        sender.stop()
    assert not sender._thread.is_alive()


def test_the_sender_thread_also_finds_messages_queued_elsewhere_by_polling(new_db_path):
    with SmtpServer() as smtp:
        app, db = enrollment_app(new_db_path, **smtp.config, OUTBOX_POLL=0.2)
        sender = outbox_sender.sender_of(app)
        try:
            sender.ensure_running()
            time.sleep(0.3)
            Notifier(db, smtp.config).email("cron@example.com", "From elsewhere", "t", "<p>h</p>", "test")  # no wake
            [message] = smtp.inbox.wait_for("cron@example.com", timeout=3)
        finally:
            sender.stop()
    assert message["Subject"] == "From elsewhere"


def test_without_a_sender_configured_no_thread_starts(new_db_path):
    app, _ = enrollment_app(new_db_path)
    app.test_client().get("/portal/login")
    assert not outbox_sender.sender_of(app).running
