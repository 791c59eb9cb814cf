"""Signed, expiring tokens for the links the gateway emails: invitations, email confirmation, password reset.

Each purpose has its own salt, so a token made for one cannot be replayed as another. Tokens carry only
opaque ids (never patient data); what makes them single-use is state the caller checks (an invitation's
link nonce, an account's password hash).
"""

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

INVITE_DAYS = 14
LIFETIMES = {"invite": INVITE_DAYS * 86400, "confirm": 3 * 86400, "reset": 3600}
PATHS = {"invite": "/portal/invite/", "confirm": "/portal/confirm/", "reset": "/portal/reset/"}


class LinkInvalid(Exception):
    """A link that was tampered with, made for another purpose, already used or unknown."""


class LinkExpired(LinkInvalid):
    """A genuine link that is too old."""


def make_token(secret, purpose, payload):
    """Sign ``payload`` (a small dict of opaque ids) for ``purpose``."""
    return URLSafeTimedSerializer(secret, salt=f"gateway-{purpose}").dumps(payload)


def read_token(secret, purpose, token, max_age=None):
    """Return the payload of a token made for ``purpose``, or raise LinkExpired / LinkInvalid."""
    serializer = URLSafeTimedSerializer(secret, salt=f"gateway-{purpose}")
    try:
        return serializer.loads(token or "", max_age=max_age or LIFETIMES[purpose])
    except SignatureExpired:
        raise LinkExpired("This link has expired.")
    except BadSignature:
        raise LinkInvalid("This link is not valid.")


def url(base_url, purpose, token):
    """The absolute URL of a link page."""
    return f"{base_url}{PATHS[purpose]}{token}"
