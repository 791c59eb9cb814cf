"""The demo outbox's emails as their recipients see them: each HTML part in a sandboxed frame of its own, and
the links of plain-text parts and text messages named by their words ("Access your records"), not their URLs.

Only the demo outbox page (``portal_signup.outbox``) uses these; this module touches no other part of it.
"""

import re
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort
from markupsafe import Markup, escape

from gateway import store
from gateway.store import outbox as outbox_store
from gateway.web.enrollment_context import outbox_visible
from gateway.web.headers import talisman

bp = Blueprint("portal_outbox_html", __name__, url_prefix="/portal/outbox")

# Sandboxed twice, so the message's markup is never trusted: the iframe's sandbox attribute and the CSP
# sandbox directive (CSP3 §6.3.2; HTML "iframe sandbox") allow neither scripts nor the page's origin, and
# default-src 'none' stops every remote image, style sheet and font (a tracking pixel loads nothing). A link
# may still open, on a click, in the whole window, as it would from a mail client.
SANDBOX = "allow-popups allow-top-navigation-by-user-activation"
FRAME_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; frame-ancestors 'self';"
    f" sandbox {SANDBOX}"
)
# "Access your records: https://…" (a label, a colon, the URL) or a bare URL.
LINK = re.compile(r"(?:([A-Z][^.:?!\n]{1,60}): )?(https?://[^\s<>\"]+)")


def framed(html):
    """The message's HTML with links opening in the whole window (a framed page cannot show in the frame)."""
    base = '<base target="_top">'
    head = re.search(r"<head[^>]*>", html, re.IGNORECASE)
    if head:
        return html[: head.end()] + base + html[head.end() :]
    opening = re.search(r"<html[^>]*>", html, re.IGNORECASE)
    at = opening.end() if opening else 0
    return html[:at] + f"<head>{base}</head>" + html[at:]


@bp.app_template_filter("linked_words")
def linked_words(text):
    """Plain text with each URL a link whose words are its label ("Access your records"), or its host."""
    parts, last = [], 0
    for match in LINK.finditer(text or ""):
        label, url = match.group(1), match.group(2)
        parts.append(escape(text[last : match.start()]))
        words = label or f"{urlsplit(url).netloc} link"
        parts.append(Markup('<a href="{}">{}</a>').format(url, words))
        last = match.end()
    parts.append(escape((text or "")[last:]))
    return Markup("").join(parts)


@bp.get("/<int:message_id>/html")
@talisman(content_security_policy=FRAME_POLICY, frame_options="SAMEORIGIN")
def email_html(message_id):
    """One kept email's HTML part, for the outbox page's sandboxed frame (demo only, like the outbox)."""
    if not outbox_visible():
        abort(404)
    message = outbox_store.message_by_id(store.current(), message_id)
    if not message or message["status"] != "outbox" or message["channel"] != "email" or not message["body_html"]:
        abort(404)
    return Response(framed(message["body_html"]), mimetype="text/html")
