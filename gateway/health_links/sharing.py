"""Keeping the links a portal account shares: create, list, revoke, and answer a manifest request or a direct
file request (SMART Health Links STU1, "SHL Manifest Request" and "U flag").

What is kept: the manifest id and file location tokens only as SHA-256 hashes; the passcode as an argon2
hash with the attempts left. A fixed link (no ``L``) is encrypted once when made and keeps only that JWE: its
key exists only in the link. A long-term (``L``) link must re-encrypt each later visit, so its key is kept,
sealed under the deployment's secret (sealing.py). Every answer re-asks the proxy rule for the sharer, so a
link ends with its sharer's access to the record.
"""

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from gateway import store
from gateway.fhir.access import staff_chart
from gateway.health_links import link, payload, sealing
from gateway.store import health_links as link_store
from smart_auth import accounts

EXPIRIES = {"day": 86400, "week": 7 * 86400, "month": 30 * 86400, "never": None}
EXPIRY_WORDS = {"day": "A day", "week": "A week", "month": "A month", "never": "Until I revoke it"}
PASSCODE_ATTEMPTS = 5
PASSCODE_MIN, PASSCODE_MAX = 4, 64
RECIPIENT_MAX = 200
FILE_TTL = 300  # a file location works for 5 minutes (STU1: short-lived, at least one minute, at most one hour)
FHIR_JSON = "application/fhir+json"


class ShareError(ValueError):
    """A sharing choice the portal refuses, said in words."""


class NotActive(Exception):
    """No such link, or it expired, was revoked or ran out of passcode attempts (all answer 404 alike)."""


class BadManifestRequest(ValueError):
    """A manifest request that does not follow the spec (400, the message says what is wrong)."""


class WrongPasscode(Exception):
    """A wrong or missing passcode; ``remaining`` attempts are left before the link stops working."""

    def __init__(self, remaining):
        super().__init__(f"The passcode is not right; {remaining} attempts left.")
        self.remaining = remaining


@dataclass(frozen=True)
class Shared:
    """A link just made: its row uid and the ``shlink:/`` text (shown once: the key is not kept)."""

    uid: str
    text: str


def digest(secret_text):
    return hashlib.sha256(secret_text.encode()).hexdigest()


def iso_time(epoch):
    return dt.datetime.fromtimestamp(epoch, dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _check_choices(label, expiry, passcode):
    label = " ".join((label or "").split())
    if len(label) > link.LABEL_MAX:
        raise ShareError(f"Keep the name of the link to {link.LABEL_MAX} characters.")
    if expiry not in EXPIRIES:
        raise ShareError("Choose how long the link works: a day, a week, a month or until you revoke it.")
    if passcode and not PASSCODE_MIN <= len(passcode) <= PASSCODE_MAX:
        raise ShareError(f"A passcode needs {PASSCODE_MIN} to {PASSCODE_MAX} characters.")
    return label


def create_link(conn, secret, account, token, patient_id, base_url, choices, now):
    """Make a link to what ``token`` (the sharer's portal token) may see; ``choices`` holds label, content,
    sections, expiry, passcode, long_term and direct. Return a Shared."""
    label = _check_choices(choices.get("label"), choices.get("expiry"), choices.get("passcode"))
    content, sections = payload.check_choice(choices.get("content"), choices.get("sections", ()))
    passcode, long_term = choices.get("passcode") or None, bool(choices.get("long_term"))
    direct = bool(choices.get("direct")) and not passcode and not long_term  # U: one fixed file, no passcode
    body, count = payload.build(conn, token, patient_id, content, sections, base_url + "/fhir", iso_time(now))
    manifest_id, key, uid = secrets.token_urlsafe(32), link.new_key(), secrets.token_urlsafe(16)
    lifetime = EXPIRIES[choices["expiry"]]
    flags = "".join(f for f, on in (("L", long_term), ("P", passcode), ("U", direct)) if on)
    row = {
        "uid": uid,
        "manifest_hash": digest(manifest_id),
        "account_uid": account["uid"],
        "patient_uid": patient_id,
        "label": label or None,
        "content": content,
        "sections": ",".join(sections) or None,
        "flags": flags,
        "passcode_hash": accounts.hash_password(passcode) if passcode else None,
        "attempts_left": PASSCODE_ATTEMPTS if passcode else None,
        "sealed_key": sealing.seal_text(secret, uid, key) if long_term else None,
        "file_jwe": None if long_term else sealing.encrypt_file(key, body),
        "file_count": count,
        "file_updated_at": now,
        "created_at": now,
        "expires_at": now + lifetime if lifetime else None,
    }
    with store.transaction(conn):
        link_store.insert_health_link(conn, row)
    text = link.make_link(f"{base_url}/shl/{manifest_id}", key, row["expires_at"], flags, label or None)
    return Shared(uid, text)


def share_visit_summary(conn, secret, staff, patient_id, encounter_id, base_url, now):
    """The practice shares a visit's summary with the patient as a link the portal keeps (until revoked): the
    Encounter and what was charted at it. Its text is kept sealed so the portal can show it again."""
    chart = staff_chart(conn, staff, patient_id)
    if chart is None:
        raise ShareError("There is no such chart at this practice.")
    body, count = payload.build(
        conn, chart.token, patient_id, payload.VISIT, (encounter_id,), base_url + "/fhir", iso_time(now)
    )
    manifest_id, key, uid = secrets.token_urlsafe(32), link.new_key(), secrets.token_urlsafe(16)
    label = f"After-visit summary, {iso_time(now)[:10]}"
    text = link.make_link(f"{base_url}/shl/{manifest_id}", key, None, "", label)
    row = {
        "uid": uid,
        "manifest_hash": digest(manifest_id),
        "account_uid": staff["uid"],
        "patient_uid": patient_id,
        "label": label,
        "content": payload.VISIT,
        "flags": "",
        "sections": encounter_id,
        "kept_link": sealing.seal_text(secret, uid, text),
        "file_jwe": sealing.encrypt_file(key, body),
        "file_count": count,
        "file_updated_at": now,
        "created_at": now,
    }
    with store.transaction(conn):
        link_store.insert_health_link(conn, row)
    return Shared(uid, text)


def kept_link_text(conn, secret, record, token, uid, now):
    """The text of a link the portal keeps for the record (an after-visit summary), for a reader whose token
    sees the whole record (the practice made it with full access, so a limited representative gets None)."""
    if token.withheld or token.shared is not None:
        return None
    sealed = link_store.kept_link(conn, uid, record["patient_uid"], now)
    if sealed is None:
        return None
    try:
        return sealing.open_text(secret, uid, sealed)
    except sealing.SealError:
        return None


def links_of_record(conn, record, account, token=None):
    """The links of the record on screen: all of them for the patient, a representative's own otherwise, and
    those the portal keeps (after-visit summaries) for a reader who sees the whole record."""
    owner = None if record["relation"] == "self" else account["uid"]
    found = link_store.links_of_record(conn, record["patient_uid"], owner)
    if owner is not None and token is not None and not token.withheld and token.shared is None:
        kept = [row for row in link_store.links_of_record(conn, record["patient_uid"]) if row["kept"]]
        found = sorted([*found, *kept], key=lambda row: (-row["created_at"], -row["id"]))
    return found


def revoke(conn, record, account, uid, now):
    """Revoke one of the record's links (a representative only their own); False when there was none to revoke."""
    owner = None if record["relation"] == "self" else account["uid"]
    with store.transaction(conn):
        return link_store.revoke_link(conn, uid, record["patient_uid"], now, owner)
