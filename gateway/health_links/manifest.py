"""Answering a link's manifest request, its file locations and a ``U`` link's direct file request
(SMART Health Links STU1, "SHL Manifest Request", "U flag"), and logging each as a disclosure."""

import secrets

import orjson

from gateway import disclosures, records, store
from gateway.health_links import payload, sealing
from gateway.health_links.sharing import (
    FHIR_JSON,
    FILE_TTL,
    RECIPIENT_MAX,
    BadManifestRequest,
    NotActive,
    WrongPasscode,
    digest,
    iso_time,
)
from gateway.store import health_links as link_store
from smart_auth import accounts


def parse_request(body):
    """The manifest request body as (recipient, passcode, embeddedLengthMax); BadManifestRequest when it is not
    a JSON object with a ``recipient`` (STU1: "recipient" is required, "embeddedLengthMax" is optional)."""
    try:
        found = orjson.loads(body or b"")
    except orjson.JSONDecodeError:
        raise BadManifestRequest("The request body is not JSON.") from None
    if not isinstance(found, dict):
        raise BadManifestRequest("The request body must be a JSON object.")
    recipient, passcode, most = found.get("recipient"), found.get("passcode"), found.get("embeddedLengthMax")
    return check_recipient(recipient), _passcode(passcode), _length(most)


def check_recipient(recipient):
    if not isinstance(recipient, str) or not recipient.strip():
        raise BadManifestRequest('"recipient" is required: a string naming who is asking.')
    if len(recipient) > RECIPIENT_MAX:
        raise BadManifestRequest(f'"recipient" is longer than {RECIPIENT_MAX} characters.')
    return " ".join(recipient.split())


def _passcode(passcode):
    if passcode is not None and not isinstance(passcode, str):
        raise BadManifestRequest('"passcode" must be a string.')
    return passcode


def _length(most):
    if most is None:
        return None
    if not isinstance(most, int) or isinstance(most, bool) or most < 0:
        raise BadManifestRequest('"embeddedLengthMax" must be a whole number of characters, 0 or more.')
    return most


def _active(conn, manifest_id, now):
    row = link_store.active_link(conn, digest(manifest_id), now)
    if row is None:
        raise NotActive()
    return row


def _check_passcode(conn, row, passcode, now):
    """Count the attempt first (one UPDATE), then check it; a right passcode gives the attempt back."""
    with store.transaction(conn):
        left = link_store.take_passcode_attempt(conn, row["id"], now)
    if left is None:
        raise NotActive()
    if passcode and accounts.verify_password(row["passcode_hash"], passcode):
        with store.transaction(conn):
            link_store.give_back_attempt(conn, row["id"])
        return
    raise WrongPasscode(left)


def _file(conn, secret, row, base_url, now):
    """(JWE, resources in it): a fixed link's stored file, or a long-term link's record read and sealed now.

    Both ask the proxy rule again for the sharer: a link stops with its sharer's access to the record."""
    token = records.portal_token({"uid": row["account_uid"]}, {"patient_uid": row["patient_uid"]}, conn)
    if token is None:
        raise NotActive()
    if "L" not in row["flags"]:
        return row["file_jwe"], row["file_count"]
    try:
        key = sealing.open_text(secret, row["uid"], row["sealed_key"])
    except sealing.SealError:  # the deployment's secret changed: the link cannot be served any more
        raise NotActive() from None
    sections = tuple((row["sections"] or "").split(",")) if row["sections"] else ()
    body, count = payload.build(
        conn, token, row["patient_uid"], row["content"], sections, base_url + "/fhir", iso_time(now)
    )
    return sealing.encrypt_file(key, body), count


def answer_manifest(conn, secret, manifest_id, body, base_url, now):
    """The manifest (a dict) for a POST to a link's manifest URL; raises NotActive, BadManifestRequest or
    WrongPasscode. A file at most ``embeddedLengthMax`` characters long is embedded, any other is a location."""
    row = _active(conn, manifest_id, now)
    recipient, passcode, most = parse_request(body)
    if row["passcode_hash"]:
        _check_passcode(conn, row, passcode, now)
    jwe, count = _file(conn, secret, row, base_url, now)
    entry = {"contentType": FHIR_JSON}
    if most is not None and len(jwe) <= most:
        entry["embedded"] = jwe
    else:
        location = secrets.token_urlsafe(32)
        with store.transaction(conn):
            fresh = jwe if "L" in row["flags"] else None  # a fixed link's file is read from the link itself
            link_store.insert_file(conn, digest(location), row["id"], fresh, now + FILE_TTL, now)
        entry["location"] = f"{base_url}/shl/file/{location}"
    entry["lastUpdated"] = iso_time(now if "L" in row["flags"] else row["file_updated_at"])
    _opened(conn, row, recipient, count, now)
    return {"status": "can-change" if "L" in row["flags"] else "finalized", "files": [entry]}


def direct_file(conn, manifest_id, recipient, now):
    """A ``U`` link's one encrypted file, for ``GET <url>?recipient=…``; NotActive for any other link."""
    row = _active(conn, manifest_id, now)
    if "U" not in row["flags"]:
        raise NotActive()
    recipient = check_recipient(recipient)
    jwe, count = _file(conn, None, row, None, now)
    _opened(conn, row, recipient, count, now)
    return jwe


def file_at(conn, location, now):
    """The encrypted file behind a location a manifest handed out, while it and its link live; else NotActive."""
    found = link_store.file_at(conn, digest(location), now)
    if found is None:
        raise NotActive()
    return found


def _opened(conn, row, recipient, count, now):
    with store.transaction(conn):
        link_store.mark_opened(conn, row["id"], now)
    disclosures.log_shared_link(row, recipient, count)
