"""Sending email (SMTP) and SMS (a Twilio-style HTTP form POST), or keeping them in the outbox table.

Every message leaves a row in ``outbox``: the whole message when no sender is configured (the demo reads
it there), otherwise only who, what kind, and whether delivery worked, so failures can be shown to staff
without the database holding live links or codes.
"""
import smtplib
import ssl
import time
from email.message import EmailMessage

import requests

from gateway import store
from gateway.store import enrollment as enrollment_store
from gateway.store.chart import utc_now


def _truthy(value):
    return str(value or "").strip().lower() in ("1", "true", "yes", "on")


class Notifier:
    """Delivers messages with the ``SMTP_*`` and ``SMS_*`` settings of a configuration dict."""

    def __init__(self, db, config):
        self.db, self.config = db, config

    @property
    def email_configured(self):
        return bool(self.config.get("SMTP_HOST"))

    @property
    def sms_configured(self):
        return bool(self.config.get("SMS_URL"))

    def email(self, to, subject, text, html, kind, invite_id=None, attachments=()):
        """Send (or keep in the outbox) an email with text and HTML parts; return its outbox row's status.

        ``attachments`` are ``(filename, media type, bytes)``, sent with SMTP; an outbox copy keeps the text only.
        """
        row = {"channel": "email", "recipient": to, "subject": subject, "kind": kind, "invite_id": invite_id}
        if not self.email_configured:
            return self._keep(dict(row, body_text=text, body_html=html, status="outbox"))
        try:
            self._smtp_send(to, subject, text, html, attachments)
        except (OSError, smtplib.SMTPException) as exc:
            return self._keep(dict(row, status="failed", error=f"{type(exc).__name__}: {exc}"[:300], attempts=1))
        return self._keep(dict(row, status="sent", attempts=1))

    def _smtp_send(self, to, subject, text, html, attachments=()):
        c = self.config
        message = EmailMessage()
        message["From"] = c.get("SMTP_FROM") or "Patient portal <no-reply@localhost>"
        message["To"], message["Subject"] = to, subject
        message.set_content(text)
        message.add_alternative(html, subtype="html")
        for filename, media_type, data in attachments:
            maintype, _, subtype = media_type.partition("/")
            message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
        with smtplib.SMTP(c["SMTP_HOST"], int(c.get("SMTP_PORT") or 25), timeout=15) as smtp:
            if _truthy(c.get("SMTP_STARTTLS")):
                smtp.starttls(context=ssl.create_default_context(cafile=c.get("SMTP_CAFILE") or None))
            if c.get("SMTP_USER"):
                smtp.login(c["SMTP_USER"], c.get("SMTP_PASSWORD") or "")
            smtp.send_message(message)

    def sms(self, to, text, kind, invite_id=None):
        """Send (or keep in the outbox) a text message; return its outbox row's status."""
        row = {"channel": "sms", "recipient": to, "kind": kind, "invite_id": invite_id}
        if not self.sms_configured:
            return self._keep(dict(row, body_text=text, status="outbox"))
        attempts, error = self._sms_post(to, text)
        return self._keep(dict(row, status="failed" if error else "sent", error=error, attempts=attempts))

    def _sms_post(self, to, text):
        """POST the message, retrying server errors with exponential backoff; return (attempts, error or None)."""
        c = self.config
        tries, backoff = int(c.get("SMS_RETRIES") or 3), float(c.get("SMS_BACKOFF", 0.5))
        data = {"To": to, "From": c.get("SMS_FROM") or "", "Body": text}
        auth = (c.get("SMS_SID") or "", c.get("SMS_TOKEN") or "")
        error = None
        for attempt in range(1, tries + 1):
            try:
                response = requests.post(c["SMS_URL"], data=data, auth=auth, timeout=10)
            except requests.RequestException as exc:
                error = f"{type(exc).__name__}"
            else:
                if response.status_code < 300:
                    return attempt, None
                error = f"HTTP {response.status_code}"
                if response.status_code < 500:
                    return attempt, error  # the provider refused the message itself: retrying cannot help
            if attempt < tries:
                time.sleep(backoff * 2 ** (attempt - 1))
        return tries, f"{error} after {tries} attempts"

    def _keep(self, row):
        row.setdefault("attempts", 0)
        row["created_at"] = utc_now()
        with store.transaction(self.db.conn):
            enrollment_store.insert_message(self.db.conn, row)
        return row["status"]
