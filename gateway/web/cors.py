"""CORS for browser apps on the bearer-token doors: the FHIR API, SMART and OpenID discovery, token, revocation.

A single-page app (the JavaScript ``fhirclient``, any ``fetch``) calls these from its own origin, so the
browser asks first (a preflight ``OPTIONS``, without the token) and then lets the app read an answer, an
error's OperationOutcome too, only when it carries ``Access-Control-Allow-Origin`` (Fetch standard, 3.2
"CORS protocol"; SMART App Launch 2.x requires CORS on the token endpoint and the FHIR API). These doors
authenticate by bearer token or client credentials, never by cookie, so ``*`` is right: no origin is echoed
(so no ``Vary: Origin``) and no ``Access-Control-Allow-Credentials``, which the Fetch standard refuses with
``*`` anyway. SMART Health Links' manifests (``/shl/``) are
fetched by viewer web apps holding the link, never a cookie. Cookie-authenticated pages, the portal's grants
API and the practice API get none of it.

The headers are constants: the lean FHIR front (gateway/fhir/front.py) appends ``HEADERS`` to its 200s and
``init_app`` adds the same to everything Flask answers on these doors, errors included.
"""

from flask import request

PUBLIC_PATHS = frozenset(
    {
        "/oauth/token",
        "/oauth/revoke",
        "/oauth/register",
        "/oauth/jwks",
        "/oauth/smart-style.json",
        "/.well-known/openid-configuration",
    }
)
# What a FHIR client reads besides the simple response headers (Fetch 3.2.5, "CORS-safelisted response-header
# name"): versions, created and polled locations, Bulk Data progress, back-off, and the bearer error.
EXPOSED = "ETag, Location, Content-Location, Last-Modified, X-Progress, Retry-After, WWW-Authenticate"
HEADERS = (("Access-Control-Allow-Origin", "*"), ("Access-Control-Expose-Headers", EXPOSED))
PREFLIGHT = (
    ("Access-Control-Allow-Origin", "*"),
    ("Access-Control-Allow-Methods", "GET, HEAD, POST, OPTIONS"),
    ("Access-Control-Allow-Headers", "Authorization, Content-Type, Prefer, If-None-Match"),
    ("Access-Control-Max-Age", "7200"),  # Chromium's ceiling; a preflight per two hours at most
)


def is_public(path):
    """Whether ``path`` is a door browser apps call from another origin."""
    return path == "/fhir" or path.startswith(("/fhir/", "/shl/")) or path in PUBLIC_PATHS


def init_app(app):
    """Answer preflights on the public doors before any token check, and mark their every answer."""

    @app.before_request
    def preflight():
        if request.method == "OPTIONS" and is_public(request.path):
            return "", 204, PREFLIGHT
        return None

    @app.after_request
    def allow_browser_apps(response):
        if request.method != "OPTIONS" and is_public(request.path):
            response.headers.extend(HEADERS)
        return response
