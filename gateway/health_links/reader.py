"""Reading a SMART Health Link a patient brings: parse the link, fetch its manifest and files as a client (through
gateway/outbound.py), decrypt them and keep the FHIR resources they hold.

HL7 SMART Health Cards and Links IG STU1, "SMART Health Links": the ``shlink:/`` payload (url, key, exp, flag,
label), the manifest ``POST`` with ``recipient``/``passcode``, files ``embedded`` or by ``location``, the ``U``
flag's direct ``GET``, JWE compact with ``alg: dir`` and ``enc: A256GCM`` and optional ``zip: DEF``.
Everything read is a stranger's choice, so every size is bounded before it is held in memory.
"""

import base64
import socket
import time
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import quote, urlsplit

import orjson
from joserfc import jwe
from joserfc.errors import ExceededSizeError, JoseError
from joserfc.jwe import JWERegistry
from joserfc.jwk import OctKey

from gateway import outbound
from gateway.health_links import link, reader_cards

FHIR_TYPES = ("application/fhir+json",)
GONE = "This link no longer works: it may have been revoked or used up. Ask the patient for a new one."
PASSCODE_NEEDED = "This link is protected by a passcode. Ask the patient for it and enter it with the link."
SHC_TYPE = "application/smart-health-card"


class LinkError(Exception):
    """A link that could not be read; the message is for the staff member who pasted it."""

    reason = "failed"


class NotALink(LinkError):
    reason = "not a link"


class LinkExpired(LinkError):
    reason = "expired"


class PasscodeNeeded(LinkError):
    reason = "passcode needed"


class WrongPasscode(LinkError):
    reason = "wrong passcode"

    def __init__(self, message, remaining):
        super().__init__(message)
        self.remaining = remaining


class LinkGone(LinkError):
    reason = "no longer valid"


class HostRefused(LinkError):
    reason = "host refused"


class HostUnreachable(LinkError):
    reason = "unreachable"


class TooLarge(LinkError):
    reason = "too large"


class NotDecryptable(LinkError):
    reason = "not decryptable"


class NotFhir(LinkError):
    reason = "not FHIR"


@dataclass(frozen=True)
class Limits:
    """What one reading may cost: bytes fetched per answer, bytes decompressed in all, seconds in all, files."""

    public_only: bool = True
    allow_http: bool = False
    max_bytes: int = 5 * 1024 * 1024
    max_payload: int = 20 * 1024 * 1024
    deadline: float = 15.0
    max_files: int = 20


@dataclass
class Brought:
    """What a link held: where it came from, its label, the FHIR resources read and what was not checked."""

    host: str
    label: str
    resources: list = field(default_factory=list)
    notes: list = field(default_factory=list)


def _b64decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _parse_link(text):
    """The payload of a pasted link, bare ``shlink:/…`` or a viewer URL ending ``#shlink:/…``; NotALink if not.

    ``link.parse_link`` reads it as the spec defines; this says what is wrong in the check-in desk's words.
    """
    text = (text or "").strip()
    if "shlink:/" not in text or len(text) > 8192:
        raise NotALink(
            "This is not a SMART Health Link. Paste the whole link: it starts with shlink:/ or has #shlink:/ in it."
        )
    try:
        found = link.parse_link(text)
    except link.LinkError:
        raise NotALink("This SMART Health Link is damaged or of an unknown kind. Ask for it again.") from None
    return {"url": found.url, "key": found.key_bytes, "exp": found.exp, "flag": found.flag, "label": found.label or ""}


def read_link(text, recipient, passcode=None, *, limits=Limits(), now=None):
    """Read what a SMART Health Link shares; return Brought or raise a LinkError in words."""
    link = _parse_link(text)
    now = time.time() if now is None else now
    if link["exp"] is not None and link["exp"] <= now:
        try:
            day = datetime.fromtimestamp(link["exp"], timezone.utc).strftime(" on %B %-d, %Y")
        except (OverflowError, OSError, ValueError):
            day = ""
        raise LinkExpired(f"This link expired{day}. Ask the patient to make a new one.")
    if "P" in link["flag"] and not passcode:
        raise PasscodeNeeded(PASSCODE_NEEDED)
    host = _checked_host(link["url"], limits)
    ends = time.monotonic() + limits.deadline
    budget = _Budget(limits.max_payload)
    brought = Brought(host=host, label=link["label"])
    if "U" in link["flag"]:
        url = f"{link['url']}{'&' if '?' in link['url'] else '?'}recipient={quote(recipient, safe='')}"
        files = [{"jwe": _fetch("GET", url, limits, ends).body}]
    else:
        files = _manifest_files(link["url"], recipient, passcode, limits, ends)
    keys_of = _issuer_keys(limits, ends)
    for file in files:
        encrypted = file.get("jwe") or _fetch("GET", _location(file), limits, ends).body
        content_type, plaintext = _decrypt(encrypted, link["key"], limits, budget)
        _keep(brought, file.get("contentType") or content_type, plaintext, budget, keys_of)
    if not brought.resources:
        raise NotFhir("The link held no FHIR health records this console can read.")
    return brought


def _checked_host(url, limits):
    """The host of a URL the link or its server chose, refused before any request when it may not be called."""
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:
        hostname = None
    schemes = ("https", "http") if limits.allow_http else ("https",)
    if not hostname or parts.scheme not in schemes:
        raise HostRefused("The link does not point to a secure (https://) web address; it was not opened.")
    if limits.public_only:
        try:
            public = outbound.public_addresses(parts.hostname, parts.port or 443)
        except (socket.gaierror, UnicodeError, ValueError):
            raise HostUnreachable(f"No server called {parts.hostname} could be found.") from None
        if not public:
            raise HostRefused(
                f"The link points to {parts.hostname}, which is not on the public internet; it was not opened."
            )
    return parts.hostname


def _fetch(method, url, limits, ends, json=None, expected=(200,)):
    """One outbound call within what is left of the reading's deadline; a LinkError in words when it fails."""
    host = _checked_host(url, limits)
    remaining = ends - time.monotonic()
    try:
        if remaining <= 0:
            raise outbound.Timeout(url)
        answer = outbound.request(
            method, url, public_only=limits.public_only, deadline=remaining, max_bytes=limits.max_bytes, json=json
        )
    except outbound.Blocked:
        raise HostRefused(
            f"The link points to {host}, which is not on the public internet; it was not opened."
        ) from None
    except outbound.Timeout:
        raise HostUnreachable(
            f"{host} did not answer within {limits.deadline:g} seconds. Try again in a minute."
        ) from None
    except outbound.TooLarge:
        raise TooLarge(f"{host} sent more than {_mb(limits.max_bytes)}; it was not read.") from None
    except outbound.Busy:
        raise HostUnreachable("Too many links are being read right now. Try again in a minute.") from None
    except outbound.OutboundError:
        raise HostUnreachable(f"Could not reach {host}. Check the link or try again in a minute.") from None
    if 300 <= answer.status < 400:  # never followed: the next address would be the server's choice, unchecked
        raise HostRefused(f"{host} answered with a redirect (HTTP {answer.status}); it was not followed.")
    if answer.status == 404:
        raise LinkGone(GONE)
    if answer.status not in expected:
        raise HostUnreachable(f"{host} could not share the records (HTTP {answer.status}). Try again later.")
    return answer


def _manifest_files(url, recipient, passcode, limits, ends):
    """POST the manifest request (spec: "SHL Manifest Request") and return its file entries."""
    body = {"recipient": recipient}
    if passcode:
        body["passcode"] = passcode
    answer = _fetch("POST", url, limits, ends, json=body, expected=(200, 401))
    if answer.status == 401:
        left = (_json_object_or_none(answer.body) or {}).get("remainingAttempts")
        if not passcode:
            raise PasscodeNeeded(PASSCODE_NEEDED)
        if isinstance(left, int) and left <= 0:
            raise LinkGone("The passcode was wrong too many times, so this link no longer works. Ask for a new one.")
        attempts = f"{left} attempt{'' if left == 1 else 's'} left" if isinstance(left, int) else "attempts limited"
        raise WrongPasscode(f"The passcode is not right ({attempts}). Check it with the patient.", left)
    manifest = _json_object(answer.body)
    if manifest.get("status") == "no-longer-valid":
        raise LinkGone(GONE)
    files = manifest.get("files")
    if not isinstance(files, list) or not all(isinstance(f, dict) for f in files):
        raise NotFhir("The link's server did not answer with a SMART Health Link manifest.")
    if len(files) > limits.max_files:
        raise TooLarge(f"The link lists {len(files)} files (at most {limits.max_files} are read).")
    return [dict(f, jwe=f["embedded"]) if isinstance(f.get("embedded"), str) else f for f in files]


def _json_object(body):
    try:
        value = orjson.loads(body)
    except ValueError:
        raise NotFhir("The link's server did not answer with a SMART Health Link manifest.") from None
    if not isinstance(value, dict):
        raise NotFhir("The link's server did not answer with a SMART Health Link manifest.")
    return value


def _location(file):
    location = file.get("location")
    if not isinstance(location, str):
        raise NotFhir("A file of the link's manifest has neither embedded content nor a location.")
    return location


def _registry(limits, budget):
    """A JWE registry allowing only what SMART Health Links use, with our caps instead of joserfc's defaults."""
    base = JWERegistry.algorithms
    zip_model = type(base["zip"]["DEF"])()
    zip_model.MAX_SIZE = max(1, budget.left)  # inflates at most this much, then stops (no zip bomb in memory)
    registry = JWERegistry(algorithms=["dir", "A256GCM", "DEF"])
    registry.algorithms = {
        "alg": {"dir": base["alg"]["dir"]},
        "enc": {"A256GCM": base["enc"]["A256GCM"]},
        "zip": {"DEF": zip_model},
    }
    registry.max_ciphertext_length = limits.max_bytes
    return registry


class _Budget:
    """Bytes of plaintext a reading may still hold."""

    def __init__(self, total):
        self.left = total

    def spend(self, count, what):
        if count >= self.left:
            raise TooLarge(f"The records behind this link are larger than {what}; they were not read.")
        self.left -= count


def _decrypt(encrypted, key, limits, budget):
    """(content type from the JWE header, plaintext) of one file; only ``dir`` + ``A256GCM`` are accepted."""
    if isinstance(encrypted, str):
        encrypted = encrypted.encode()
    try:
        result = jwe.decrypt_compact(encrypted.strip(), OctKey.import_key(key), registry=_registry(limits, budget))
    except ExceededSizeError:
        raise TooLarge(
            f"The records behind this link are larger than {_mb(limits.max_payload)}; they were not read."
        ) from None
    except (JoseError, ValueError, TypeError):
        raise NotDecryptable(
            "The records could not be decrypted with this link's key: the link may be damaged or altered."
        ) from None
    budget.spend(len(result.plaintext), _mb(limits.max_payload))
    return result.protected.get("cty", ""), result.plaintext


def _keep(brought, content_type, plaintext, budget, keys_of):
    """Add a decrypted file's FHIR resources to ``brought``; note what was skipped or not verified."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind in FHIR_TYPES:
        resource = _json_object_or_none(plaintext)
        if resource is None or not isinstance(resource.get("resourceType"), str):
            brought.notes.append("A file said to be FHIR was not FHIR JSON; it was skipped.")
            return
        brought.resources.extend(_valid(_flatten(resource), brought.notes))
    elif kind == SHC_TYPE:
        brought.resources.extend(_valid(_health_cards(plaintext, brought.notes, budget, keys_of), brought.notes))
    else:
        brought.notes.append(
            f"A file of type {kind or 'unknown'} was skipped: this console reads FHIR and health cards."
        )


def _json_object_or_none(data):
    try:
        value = orjson.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _flatten(resource):
    """The resources of a Bundle (and of Bundles inside it), or the resource itself."""
    if resource.get("resourceType") != "Bundle":
        return [resource]
    found = []
    for entry in resource.get("entry") or ():
        inner = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(inner, dict) and isinstance(inner.get("resourceType"), str):
            found.extend(_flatten(inner) if inner["resourceType"] == "Bundle" else [inner])
    return found


def _health_cards(plaintext, notes, budget, keys_of):
    """The FHIR resources of a SMART Health Card file, each card's signature checked where its issuer's keys are."""
    cards = (_json_object_or_none(plaintext) or {}).get("verifiableCredential")
    if not isinstance(cards, list) or not all(isinstance(c, str) for c in cards):
        notes.append("A health card file was not in the SMART Health Card format; it was skipped.")
        return []
    bundles = reader_cards.health_cards(cards, lambda raw: _inflate(raw, budget), keys_of, notes)
    return [resource for bundle in bundles for resource in _flatten(bundle)]


def _issuer_keys(limits, ends):
    """``keys_of(iss)`` for one reading: each issuer's published keys fetched once, through the same checks."""
    found = {}

    def keys_of(iss):
        if iss not in found:
            found[iss] = _fetch_issuer_keys(iss, limits, ends)
        return found[iss]

    return keys_of


def _fetch_issuer_keys(iss, limits, ends):
    try:
        answer = _fetch("GET", iss.rstrip("/") + "/.well-known/jwks.json", limits, ends)
    except LinkError as exc:
        return None, f"its issuer's keys could not be fetched: {exc.reason}"
    keys = reader_cards.issuer_key_set(_json_object_or_none(answer.body))
    return (keys, None) if keys else (None, "its issuer's keys could not be read")


def _inflate(raw, budget):
    """Raw DEFLATE (SMART Health Cards' ``zip: DEF``) inflated at most to what the budget still allows."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    data = inflater.decompress(raw, max(1, budget.left))
    if inflater.unconsumed_tail:
        raise TooLarge("A health card in this link is larger than this console reads; it was not read.")
    budget.spend(len(data), "this console reads")
    return data


def _valid(resources, notes):
    """The resources that are valid FHIR R4 (fhir.resources' R4B models, where installed); the rest noted."""
    try:
        from fhir.resources.R4B import get_fhir_model_class
    except ImportError:  # the models are a test dependency: without them only the shape was checked
        return resources
    kept, bad = [], 0
    for resource in resources:
        try:
            get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        except (ValueError, KeyError, TypeError):
            bad += 1
        else:
            kept.append(resource)
    if bad:
        notes.append(f"{bad} {'entry was' if bad == 1 else 'entries were'} not valid FHIR and not shown.")
    return kept


def _mb(count):
    return f"{count / (1024 * 1024):g} MB" if count >= 1024 * 1024 else f"{count // 1024} KB"


def link_host(text):
    """The host a pasted link's manifest is on, or None when the text is not a link (for the history)."""
    try:
        return urlsplit(_parse_link(text)["url"]).hostname
    except (NotALink, ValueError):
        return None
