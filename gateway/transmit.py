"""Sending an export to a third party: by email through the notification sender, or to a FHIR endpoint as a
transaction Bundle. Each returns a Result in plain words; the caller logs it as a disclosure."""

import re
import socket
from dataclasses import dataclass
from html import escape
from urllib.parse import urlsplit

import orjson

from gateway import outbound
from gateway.exports import FHIR_FORMATS, ExportError, transaction_bundle

PUSH_DEADLINE = 8  # seconds, the whole call: long enough for a server to save a record, short for a thread
_EMAIL = re.compile(r"[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


@dataclass(frozen=True)
class Result:
    """How a transmission ended: ``outcome`` is sent, queued (to be sent), kept (in the outbox, not sent) or failed;
    ``message`` is for people."""

    outcome: str
    message: str

    @property
    def ok(self):
        return self.outcome != "failed"


def check_recipient(method, recipient, fmt, allow_http, public_only=False):
    """Validate where a record may be sent; return the cleaned recipient or raise ExportError.

    ``public_only`` (production) also refuses a FHIR server that is not on the public internet; push_fhir
    checks again at connect time (gateway/outbound.py).
    """
    recipient = (recipient or "").strip()
    if method == "email":
        if not _EMAIL.match(recipient) or len(recipient) > 254:
            raise ExportError("Enter the email address to send to, like name@example.com.")
        return recipient
    if method != "fhir":
        raise ExportError("Choose how to send: by email or to a FHIR server.")
    if fmt not in FHIR_FORMATS:
        raise ExportError("A FHIR server takes FHIR data: choose the full record or the patient summary.")
    parts = urlsplit(recipient)
    schemes = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in schemes or not parts.netloc:
        raise ExportError("Enter the FHIR server's base address, starting with https://.")
    if public_only:
        try:
            public = outbound.public_addresses(parts.hostname, parts.port or 443)
        except (socket.gaierror, UnicodeError, ValueError):
            raise ExportError(f"No server called {parts.hostname} could be found. Check the address.") from None
        if not public:
            raise ExportError(
                "Records can only be sent to a FHIR server on the public internet, "
                "not to a private or local network address."
            )
    return recipient.rstrip("/")


def send_email(notifier, export, to, person, sender, relation="self"):
    """Queue the export as an email attachment; ``person`` is whose record it is, ``sender`` who sends it, as
    ``relation`` (self, parent, guardian, caregiver)."""
    subject = f"Health record of {person}"
    opening = email_opening(sender, person, relation)
    text = f"{opening}\n\nThe file {export.filename} is attached.\n"
    html = f"<p>{escape(opening)}</p><p>The file <strong>{escape(export.filename)}</strong> is attached.</p>"
    attachment = (export.filename, export.mimetype.split(";")[0], export.body)
    status = notifier.email(to, subject, text, html, "record", attachments=[attachment])
    if status == "queued":
        return Result("queued", f"The email to {to} is queued to be sent in the next few minutes.")
    return Result("kept", f"No mail server is set up here, so the email to {to} was kept in the outbox, not sent.")


def email_opening(sender, person, relation):
    """The email's first sentence as a person would write it: whose record, and who sends it in what role."""
    if relation == "self":
        return f"{sender} sent you a copy of their health record from the patient portal."
    first = person.split(" ")[0]
    return f"{sender} sent you the health record of {person} from the patient portal, as {first}'s {relation}."


def push_fhir(endpoint, export, public_only=False):
    """POST the export to a FHIR server as a transaction Bundle; report the server's answer in words.

    With ``public_only`` the connection may go to public internet addresses only (see gateway/outbound.py).
    """
    try:
        response = outbound.request(
            "POST",
            endpoint,
            public_only=public_only,
            deadline=PUSH_DEADLINE,
            data=orjson.dumps(transaction_bundle(export)),
            headers={"Accept": "application/fhir+json", "Content-Type": "application/fhir+json"},
        )
    except outbound.Timeout:
        return Result("failed", f"The server at {endpoint} did not answer within {PUSH_DEADLINE} seconds.")
    except outbound.Blocked:
        return Result("failed", f"{endpoint} is not on the public internet; the record was not sent.")
    except outbound.Busy:
        return Result("failed", "Too many records are being sent right now. Please try again in a minute.")
    except outbound.OutboundError:
        return Result("failed", f"Could not reach {endpoint}. Check the address and try again.")
    answer = _answer(response)
    if 300 <= response.status < 400:  # a record is not re-sent to wherever a server points
        where = response.headers.get("Location", "another address")
        return Result(
            "failed",
            f"The server answered with a redirect (HTTP {response.status}) to {where}; "
            "enter that address if you trust it.",
        )
    if response.status < 300:
        return Result("sent", f"The server accepted the record (HTTP {response.status}). {answer}".strip())
    if response.status < 500:
        return Result("failed", f"The server refused the record (HTTP {response.status}). {answer}".strip())
    return Result("failed", f"The server had a problem (HTTP {response.status}). Please try again later.")


def _answer(response):
    """What a FHIR server said: the entries a transaction-response saved, or an OperationOutcome's words."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    if body.get("resourceType") == "Bundle":
        saved = [e for e in body.get("entry", ()) if str(e.get("response", {}).get("status", "")).startswith("2")]
        return f"It saved {len(saved)} of {len(body.get('entry', ()))} entries."
    if body.get("resourceType") == "OperationOutcome":
        words = [i.get("diagnostics") or (i.get("details") or {}).get("text", "") for i in body.get("issue", ())]
        return "It said: " + "; ".join(w for w in words if w)[:300] if any(words) else ""
    return ""
