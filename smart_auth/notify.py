"""Email (SMTP) and SMS (a Twilio-style HTTP form POST) sent from a queue after the response, or kept in the outbox.

Every message is a row in ``outbox``. With no sender configured (the demo) the whole message stays there with
status ``outbox``, attachments included, for the demo page to show. Otherwise the row is ``queued`` and a sender
(``deliver_due``: a thread of each server process, or ``fhir-gateway outbox send``) claims it, delivers it and
settles it ``sent`` or, after the last attempt, ``failed``, keeping only who, what kind and whether delivery
worked, so failures can be shown to staff without the database holding live links or codes. Pages never wait
on a mail server or SMS provider, so they answer alike whether or not a message goes out.
"""

import base64
import secrets
import smtplib
import ssl
import time
from email.message import EmailMessage

import orjson

from gateway import outbound, store
from gateway.store import outbox as outbox_store
from gateway.store.chart import utc_now

ATTEMPTS = 5  # deliveries tried before a message is finally failed
BACKOFF = 30  # seconds before the second attempt, doubling after each failure
SMTP_DEADLINE = 15  # seconds for a whole SMTP conversation, however slowly the server replies
SMS_DEADLINE = 10  # seconds for the whole SMS provider call


def _truthy(value):
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


def _setting(config, key, default):
    value = config.get(key)
    return default if value in (None, "") else float(value)


class Undelivered(Exception):
    """A delivery attempt that did not work; ``permanent`` when trying again cannot help."""

    def __init__(self, reason, permanent=False):
        super().__init__(reason)
        self.permanent = permanent


class Notifier:
    """Queues messages for the ``SMTP_*`` and ``SMS_*`` settings of a configuration dict (or keeps them whole)."""

    def __init__(self, db, config, on_queued=None):
        self.db, self.config, self.on_queued = db, config, on_queued

    @property
    def email_configured(self):
        return bool(self.config.get("SMTP_HOST"))

    @property
    def sms_configured(self):
        return bool(self.config.get("SMS_URL"))

    def email(self, to, subject, text, html, kind, invite_id=None, attachments=()):
        """Queue (or keep in the outbox) an email with text and HTML parts; return its status, queued or outbox.

        ``attachments`` are ``(filename, media type, bytes)``.
        """
        files = [
            {"filename": name, "media_type": media_type, "data": base64.b64encode(data).decode()}
            for name, media_type, data in attachments
        ]
        row = {
            "channel": "email",
            "recipient": to,
            "subject": subject,
            "kind": kind,
            "invite_id": invite_id,
            "body_text": text,
            "body_html": html,
            "attachments": orjson.dumps(files).decode() if files else None,
        }
        return self._keep(row, self.email_configured)

    def sms(self, to, text, kind, invite_id=None):
        """Queue (or keep in the outbox) a text message; return its status, queued or outbox."""
        row = {"channel": "sms", "recipient": to, "kind": kind, "invite_id": invite_id, "body_text": text}
        return self._keep(row, self.sms_configured)

    def _keep(self, row, configured):
        row.update(
            status="queued" if configured else "outbox",
            created_at=utc_now(),
            next_attempt_at=int(time.time()) if configured else None,
        )
        with store.transaction(self.db):
            outbox_store.insert_message(self.db, row)
        if configured and self.on_queued:
            self.on_queued()
        return row["status"]


def attachments_of(message):
    """A message's attachments as dicts of filename, media_type and data (bytes); none once it was settled."""
    return [dict(file, data=base64.b64decode(file["data"])) for file in orjson.loads(message["attachments"] or "[]")]


def deliver_due(db, config, limit=100):
    """Deliver the messages that are due, claiming one at a time; return how many were settled or put back."""
    handled = 0
    while handled < limit:
        claim = secrets.token_hex(8)
        lease = _setting(config, "SMTP_DEADLINE", SMTP_DEADLINE) + _setting(config, "SMS_DEADLINE", SMS_DEADLINE)
        now = int(time.time())
        with store.transaction(db):
            # The lease outlasts any one delivery (both deadlines and a margin), so only a crashed sender loses it.
            message = outbox_store.claim_due(db, now, now + int(lease) + 60, claim)
        if message is None:
            break
        _settle(db, config, message, claim, _attempt(config, message))
        handled += 1
    return handled


def _attempt(config, message):
    """Deliver one claimed message; return None when it went, else the Undelivered that says why not."""
    try:
        if message["attempts"] > _setting(config, "OUTBOX_ATTEMPTS", ATTEMPTS):
            raise Undelivered("the sender stopped while sending it", permanent=True)
        if message["channel"] == "email":
            _smtp_send(config, message)
        else:
            _sms_post(config, message)
    except Undelivered as exc:
        return exc
    return None


def _settle(db, config, message, claim, problem):
    attempts, most = message["attempts"], _setting(config, "OUTBOX_ATTEMPTS", ATTEMPTS)
    with store.transaction(db):
        if problem is None:
            outbox_store.mark_sent(db, message["id"], claim, utc_now())
        elif problem.permanent:
            outbox_store.mark_failed(db, message["id"], claim, str(problem)[:300])
        elif attempts >= most:
            outbox_store.mark_failed(db, message["id"], claim, f"{problem} after {attempts} attempts"[:300])
        else:
            wait = _setting(config, "OUTBOX_BACKOFF", BACKOFF) * 2 ** (attempts - 1)
            outbox_store.retry_later(db, message["id"], claim, str(problem)[:300], int(time.time() + wait))


def _email_message(config, message):
    email = EmailMessage()
    email["From"] = config.get("SMTP_FROM") or "Patient portal <no-reply@localhost>"
    email["To"], email["Subject"] = message["recipient"], message["subject"]
    email.set_content(message["body_text"] or "")
    email.add_alternative(message["body_html"] or "", subtype="html")
    for file in attachments_of(message):
        maintype, _, subtype = file["media_type"].partition("/")
        email.add_attachment(file["data"], maintype=maintype, subtype=subtype, filename=file["filename"])
    return email


def _smtp_send(config, message):
    """Hand the email to the SMTP server within SMTP_DEADLINE seconds for the whole conversation.

    smtplib's timeout bounds each read, not the conversation: a server that trickles its replies one byte at a
    time would hold the sender for ever, so a watchdog shuts the socket at the deadline (gateway/outbound.py).
    """
    deadline, sockets, smtp = _setting(config, "SMTP_DEADLINE", SMTP_DEADLINE), [], None
    with outbound.watchdog(deadline, lambda: outbound.shut_sockets(sockets)) as fired:
        try:
            smtp = _WatchedSMTP(sockets, config["SMTP_HOST"], int(config.get("SMTP_PORT") or 25), timeout=deadline)
            if _truthy(config.get("SMTP_STARTTLS")):
                smtp.starttls(context=ssl.create_default_context(cafile=config.get("SMTP_CAFILE") or None))
            if config.get("SMTP_USER"):
                smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
            smtp.send_message(_email_message(config, message))
            smtp.quit()
        except (OSError, smtplib.SMTPException) as exc:
            if fired.is_set():
                raise Undelivered(f"the mail server did not finish within {deadline:g} seconds") from exc
            raise Undelivered(f"{type(exc).__name__}: {exc}", permanent=_refused(exc)) from exc
        finally:
            if smtp is not None:
                smtp.close()


class _WatchedSMTP(smtplib.SMTP):
    """smtplib.SMTP that hands every socket it talks on (plain, then TLS) to the watchdog's list."""

    def __init__(self, sockets, *args, **kwargs):
        self._watched = sockets
        super().__init__(*args, **kwargs)

    def _get_socket(self, host, port, timeout):
        sock = super()._get_socket(host, port, timeout)
        self._watched.append(sock)
        return sock

    def starttls(self, *args, **kwargs):
        reply = super().starttls(*args, **kwargs)
        self._watched.append(self.sock)
        return reply


def _refused(exc):
    """Did the server refuse the message itself (an SMTP 5xx reply, RFC 5321 section 4.2.1)?"""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    return isinstance(exc, smtplib.SMTPNotSupportedError) or (
        isinstance(exc, smtplib.SMTPResponseException) and 500 <= exc.smtp_code < 600
    )


def _sms_post(config, message):
    """POST the text to the provider within SMS_DEADLINE seconds; a refusal (4xx) is not retried."""
    deadline = _setting(config, "SMS_DEADLINE", SMS_DEADLINE)
    data = {"To": message["recipient"], "From": config.get("SMS_FROM") or "", "Body": message["body_text"] or ""}
    try:
        # The URL is the operator's, not a stranger's: public_only is not needed; no request thread waits here.
        response = outbound.request(
            "POST",
            config["SMS_URL"],
            public_only=False,
            deadline=deadline,
            data=data,
            auth=(config.get("SMS_SID") or "", config.get("SMS_TOKEN") or ""),
            bounded=False,
        )
    except outbound.Timeout as exc:
        raise Undelivered(f"the SMS provider did not answer within {deadline:g} seconds") from exc
    except outbound.OutboundError as exc:
        raise Undelivered(type(exc).__name__) from exc
    if response.status >= 300:
        retry = response.status >= 500 or response.status in (408, 429)  # busy or broken, not a refusal
        raise Undelivered(f"HTTP {response.status}", permanent=not retry)
