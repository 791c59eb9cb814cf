"""Sending a record on: email through a real SMTP server with the attachment intact, FHIR endpoints through a
`responses` mock (accepted, refused, failing, timing out), a confirmation step, and a log of every attempt."""

import io

import orjson
import pytest
import requests
import responses
from pypdf import PdfReader

from gateway import store
from gateway.store import enrollment as enrollment_store
from tests.portal_helpers import build_portal_db, login, portal_client
from tests.smtp_server import SmtpServer

ENDPOINT = "https://fhir.example.org/r4"


@pytest.fixture(scope="module")
def portal_path(module_db_path):
    path = module_db_path("transmit")
    build_portal_db(path)
    return path


def maria(path, **config):
    client = portal_client(path, OUTBOX_SENDER="inline", **config)  # deliver after each request, before it returns
    return client, login(client, "maria.garcia@example.com", "Portal-Demo-1")


def choices(token, **changes):
    return {
        "format": "pdf",
        "start": "",
        "end": "",
        "method": "email",
        "recipient": "dr.lee@clinic.example",
        "csrf_token": token,
        **changes,
    }


def history(client):
    return client.get("/portal/history").get_data(as_text=True)


def test_email_needs_a_second_confirmation_naming_the_recipient(portal_path):
    client, token = maria(portal_path)
    page = client.post("/portal/send", data=choices(token))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1>Send to dr.lee@clinic.example?</h1>" in html and "Yes, send it to dr.lee@clinic.example" in html
    assert "sent a PDF summary" not in history(client)  # nothing has left yet


def test_email_arrives_with_the_pdf_attached_intact(portal_path):
    with SmtpServer() as smtp:
        client, token = maria(portal_path, **smtp.config)
        response = client.post("/portal/send/confirm", data=choices(token))
        assert response.status_code == 200, response.get_data(as_text=True)
        [message] = smtp.inbox.wait_for("dr.lee@clinic.example")
    assert message["Subject"] == "Health record of Maria Garcia"
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename().startswith("Maria-Garcia_summary_")
    text = PdfReader(io.BytesIO(attachment.get_content())).pages[0].extract_text()
    assert "Health summary of Maria Garcia" in text
    assert "sent a PDF summary to dr.lee@clinic.example" in history(client)


def test_an_email_is_queued_and_a_mail_server_that_refuses_it_is_tried_again_later(portal_path):
    client, token = maria(portal_path, SMTP_HOST="127.0.0.1", SMTP_PORT=1)  # nothing listens on port 1
    response = client.post("/portal/send/confirm", data=choices(token, recipient="nurse@clinic.example"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>Queued to be sent</h1>" in html
    assert "The email to nurse@clinic.example is queued to be sent in the next few minutes." in html
    assert "went to" not in html and "_summary_" in html and "is on its way to nurse@clinic.example. This is" in html
    assert "Queued to be sent: The email to nurse@clinic.example is queued" in history(client)
    assert "Failed" not in history(client)
    messages = enrollment_store.messages(store.connect(portal_path))
    [row] = [m for m in messages if m["recipient"] == "nurse@clinic.example"]
    assert (row["status"], row["attempts"]) == ("queued", 1) and row["error"].startswith("ConnectionRefusedError")
    assert row["attachments"] is not None  # held for the next attempt


def test_without_a_mail_server_the_email_is_kept_in_the_outbox_and_says_so(portal_path):
    client, token = maria(portal_path)
    response = client.post("/portal/send/confirm", data=choices(token, recipient="kept@clinic.example"))
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>Kept in the outbox, not sent</h1>" in html and "was not sent to kept@clinic.example" in html
    assert "Kept in the outbox, not sent: No mail server is set up here" in history(client)


@responses.activate
def test_fhir_push_posts_a_transaction_bundle_and_reports_the_answer(portal_path):
    responses.post(
        ENDPOINT,
        status=200,
        json={
            "resourceType": "Bundle",
            "type": "transaction-response",
            "entry": [{"response": {"status": "201 Created"}}] * 3,
        },
    )
    client, token = maria(portal_path)
    response = client.post(
        "/portal/send/confirm", data=choices(token, format="fhir", method="fhir", recipient=ENDPOINT)
    )
    assert response.status_code == 200
    assert "accepted the record (HTTP 200). It saved 3 of 3 entries." in response.get_data(as_text=True)
    sent = orjson.loads(responses.calls[0].request.body)
    assert sent["type"] == "transaction"
    assert all(e["request"]["method"] == "PUT" for e in sent["entry"])
    assert {e["resource"]["resourceType"] for e in sent["entry"]} >= {"Patient", "Condition", "Observation"}
    assert responses.calls[0].request.headers["Content-Type"] == "application/fhir+json"


@pytest.mark.parametrize(
    "reply,words",
    [
        (
            {
                "status": 400,
                "json": {
                    "resourceType": "OperationOutcome",
                    "issue": [
                        {"severity": "error", "code": "invalid", "diagnostics": "Bundle.type must be transaction"}
                    ],
                },
            },
            "refused the record (HTTP 400). It said: Bundle.type must be transaction",
        ),
        ({"status": 503, "body": "down"}, "had a problem (HTTP 503). Please try again later."),
        ({"body": requests.exceptions.ConnectTimeout()}, "did not answer within 8 seconds"),
        ({"body": requests.exceptions.ConnectionError()}, "Could not reach https://fhir.example.org/r4"),
    ],
)
@responses.activate
def test_fhir_push_failures_are_said_in_plain_words_logged_and_retryable(portal_path, reply, words):
    responses.post(ENDPOINT, **reply)
    client, token = maria(portal_path)
    response = client.post("/portal/send/confirm", data=choices(token, format="ips", method="fhir", recipient=ENDPOINT))
    assert response.status_code == 502
    html = response.get_data(as_text=True)
    assert words in html and 'role="alert"' in html
    assert "Try again" in html and f'name="recipient" value="{ENDPOINT}"' in html
    assert "Failed:" in history(client)


@pytest.mark.parametrize(
    "changes,message",
    [
        ({"recipient": "not an address"}, "Enter the email address to send to"),
        ({"method": "fhir", "recipient": ENDPOINT}, "A FHIR server takes FHIR data"),
        ({"method": "fhir", "format": "fhir", "recipient": "ftp://x.example"}, "starting with https://"),
        ({"method": "pigeon"}, "Choose how to send"),
    ],
)
def test_bad_choices_are_refused_before_anything_is_sent(portal_path, changes, message):
    client, token = maria(portal_path)
    for path in ("/portal/send", "/portal/send/confirm"):
        response = client.post(path, data=choices(token, **changes))
        assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_plain_http_endpoints_are_refused_in_production(portal_path):
    from gateway.exports import ExportError
    from gateway.portal.exports import _check

    choices = {"format": "fhir", "start": "", "end": "", "method": "fhir", "recipient": "http://fhir.example"}
    with portal_client(portal_path).application.test_request_context():
        assert _check(choices) == "http://fhir.example"  # outside production a local test server will do
    app = portal_client(portal_path, ENV="production", SECRET_KEY="x" * 32).application
    with app.test_request_context(), pytest.raises(ExportError) as refused:
        _check(choices)
    assert str(refused.value) == "Enter the FHIR server's base address, starting with https://."
