"""Making a link through the portal page and reading it back as a viewer would."""

import base64
import html
import re
from urllib.parse import urlsplit

from jwcrypto import jwe, jwk

from gateway.health_links.link import parse_link


def make_link(client, token, status=200, **fields):
    """POST the share form; return (page html, the shlink:/ text shown, or None)."""
    data = {"label": "For Dr. Lee", "content": "summary", "expiry": "week", "csrf_token": token, **fields}
    response = client.post("/portal/share", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == status, page[-800:]
    found = re.search(r'<textarea id="shlink"[^>]*>([^<]+)</textarea>', page)
    return page, html.unescape(found.group(1)) if found else None


def path_of(url):
    return urlsplit(url).path


def manifest(client, text, **body):
    """POST the link's manifest request; return the response."""
    body.setdefault("recipient", "Dr. Lee, Valley Clinic")
    return client.post(path_of(parse_link(text).url), json=body)


def decrypt(text, token):
    """Open a file with jwcrypto (a second, independent JOSE implementation): (protected header, plaintext)."""
    key = jwk.JWK(kty="oct", k=parse_link(text).key)
    found = jwe.JWE()
    found.deserialize(token, key=key)
    return found.jose_header, found.payload


def qr_png(page):
    return base64.b64decode(re.search(r'src="data:image/png;base64,([^"]+)"', page).group(1))
