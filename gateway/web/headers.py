"""Security headers for the web pages (Flask-Talisman), and no-store for pages and downloads with health data."""

import base64
import hashlib
import pathlib

from flask import request
from flask_talisman import Talisman

TEMPLATES = pathlib.Path(__file__).parent.parent / "templates"
# No inline script or style anywhere; nothing may frame a page (clickjacking of login and consent).
# No form-action: browsers apply it to the redirect after a form, which would block the consent page's
# redirect back to the app (the redirect_uri is another origin).
PAGE_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "frame-ancestors": "'none'",
}


def style_hash(template):
    """The CSP source for a style sheet a template inlines in a <style> element (CSP3 hash-source)."""
    text = (TEMPLATES / template).read_text()
    text = text[:-1] if text.endswith("\n") else text  # Jinja drops the one trailing newline of an include
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


# The printable summary is also a file people keep and open offline, so its style sheet is inline.
PRINT_POLICY = dict(PAGE_POLICY, **{"style-src": f"'self' {style_hash('portal/summary_print.css')}"})


class PageHeaders(Talisman):
    """Talisman for the pages, believing HTTPS only as the request (after the trusted ProxyFix) reports it."""

    def _set_response_headers(self, response):
        # FHIR API answers keep exactly the lean front's headers (gateway/fhir_front.py answers most of them).
        if request.path == "/fhir" or request.path.startswith("/fhir/"):
            return response
        return super()._set_response_headers(response)

    def _set_hsts_headers(self, headers):
        # Talisman would also believe anyone's X-Forwarded-Proto; GATEWAY_TRUSTED_PROXIES decides that.
        if request.is_secure:
            super()._set_hsts_headers(headers)


talisman = PageHeaders()


def no_store(response):
    """Pages and portal or console downloads may hold health data: no browser or proxy keeps a copy."""
    if response.mimetype == "text/html" or request.path.startswith(("/portal/", "/practice/")):
        response.headers["Cache-Control"] = "no-store"
    return response


def init_app(app):
    # force_https off: the demo serves http://127.0.0.1; production's TLS proxy redirects, and HSTS holds it.
    # The session cookie's Secure flag follows each request instead (gateway/sessions.py).
    talisman.init_app(
        app,
        force_https=False,
        frame_options="DENY",
        content_security_policy=PAGE_POLICY,
        referrer_policy="same-origin",
        session_cookie_secure=False,
        permissions_policy={},
    )
    app.after_request(no_store)
