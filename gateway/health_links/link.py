"""Make and parse ``shlink:/`` links (SMART Health Links STU1, "Construct a SMART Health Link Payload").

A link is ``shlink:/`` + base64url (no padding) of a JSON payload: ``url`` (the manifest), ``key`` (43
characters: 32 random bytes, base64url), and optionally ``exp`` (epoch seconds), ``flag`` (single-letter
flags in alphabetical order: L long-term, P passcode, U direct file), ``label`` (at most 80 characters) and
``v`` (1). A viewer may prefix the link with its own address and ``#``: ``https://viewer.example/#shlink:/…``.
"""

import base64
import binascii
import secrets
from dataclasses import dataclass

import orjson

SCHEME = "shlink:/"
FLAGS = "LPU"
LABEL_MAX = 80
KEY_BYTES = 32


class LinkError(ValueError):
    """A ``shlink:/`` link that cannot be read as the spec defines it (the message says why)."""


@dataclass(frozen=True)
class HealthLink:
    """A parsed link: where the manifest is, the key that opens its files, and what the sharer said of it."""

    url: str
    key: str
    exp: int | None = None
    flag: str = ""
    label: str | None = None
    v: int = 1

    @property
    def key_bytes(self):
        return _b64decode(self.key)

    def payload(self):
        found = {"url": self.url, "key": self.key}
        if self.exp is not None:
            found["exp"] = self.exp
        if self.flag:
            found["flag"] = self.flag
        if self.label:
            found["label"] = self.label
        found["v"] = self.v
        return found


def new_key():
    """A fresh file key: 32 random bytes, base64url without padding (43 characters)."""
    return _b64encode(secrets.token_bytes(KEY_BYTES))


def make_link(url, key, exp=None, flag="", label=None, viewer=None):
    """The ``shlink:/`` text for a manifest ``url`` and ``key`` (checked as parse_link checks them);
    with ``viewer``, prefixed by that viewer's address and ``#``."""
    link = HealthLink(url, key, exp, "".join(sorted(flag)), label or None)
    _check(link)
    text = SCHEME + _b64encode(orjson.dumps(link.payload()))
    return f"{viewer}#{text}" if viewer else text


def parse_link(text):
    """Read a ``shlink:/`` link, bare or after a viewer's ``…#``; raise LinkError saying what is wrong."""
    text = (text or "").strip()
    if not text.startswith(SCHEME):
        _, found, rest = text.partition("#" + SCHEME)
        if not found:
            raise LinkError("This is not a SMART Health Link: it does not start with shlink:/")
        text = SCHEME + rest
    try:
        payload = orjson.loads(_b64decode(text[len(SCHEME) :]))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        raise LinkError("The link's payload is not base64url-encoded JSON.") from None
    if not isinstance(payload, dict):
        raise LinkError("The link's payload is not a JSON object.")
    for name in ("url", "key"):
        if not isinstance(payload.get(name), str):
            raise LinkError(f"The link has no {name}.")
    exp, flag, label, v = (payload.get(n) for n in ("exp", "flag", "label", "v"))
    if exp is not None and (not isinstance(exp, int | float) or isinstance(exp, bool)):
        raise LinkError("The link's exp is not a number of seconds.")
    if flag is not None and not isinstance(flag, str) or label is not None and not isinstance(label, str):
        raise LinkError("The link's flag and label must be text.")
    if v is not None and v != 1:
        raise LinkError(f"The link's version {v!r} is not one this gateway reads (1).")
    link = HealthLink(payload["url"], payload["key"], int(exp) if exp is not None else None, flag or "", label)
    _check(link)
    return link


def _check(link):
    if not link.url.startswith(("https://", "http://")):
        raise LinkError("The link's manifest url is not an http(s) address.")
    try:
        if len(link.key) != 43 or len(_b64decode(link.key)) != KEY_BYTES:
            raise LinkError("The link's key is not 32 bytes in base64url (43 characters).")
    except ValueError as exc:
        if isinstance(exc, LinkError):
            raise
        raise LinkError("The link's key is not 32 bytes in base64url (43 characters).") from None
    if any(c not in FLAGS for c in link.flag) or len(set(link.flag)) != len(link.flag):
        raise LinkError(f"The link's flag {link.flag!r} is not made of the letters L, P and U.")
    if "U" in link.flag and "P" in link.flag:  # "U" SHALL NOT be combined with "P" (STU1, flag U)
        raise LinkError("A link cannot be both a direct file (U) and passcode-protected (P).")
    if link.label is not None and len(link.label) > LABEL_MAX:
        raise LinkError(f"The link's label is longer than {LABEL_MAX} characters.")


def _b64encode(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64decode(text):
    if any(c in text for c in "+/="):
        raise binascii.Error("not base64url without padding")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
