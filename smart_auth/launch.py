"""EHR launch: a staff user opens an app for a chart; the launch handle carries that context to the
app's authorization request (SMART App Launch 2.0.0, "EHR Launch").
"""

import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from gateway import store
from gateway.store import oauth as oauth_store

LAUNCH_TTL = 3600


@dataclass(frozen=True)
class Launch:
    """What a launch handle stands for: the app, the staff user and the chart (FHIR Patient id)."""

    client_id: str
    staff_uid: str
    patient_id: str


def launch_app(db, client, staff_uid, patient_id, fhir_base):
    """Create a launch context and return the URL that opens the app with ``iss`` and ``launch``."""
    if not client.launch_uri:
        raise ValueError(f"{client.name} has no launch URL")
    handle, now = secrets.token_urlsafe(24), int(time.time())
    with store.transaction(db):
        oauth_store.save_launch(db, handle, client.client_id, staff_uid, patient_id, now, now + LAUNCH_TTL)
    joiner = "&" if "?" in client.launch_uri else "?"
    return client.launch_uri + joiner + urlencode({"iss": fhir_base, "launch": handle})


def resolve_launch(conn, handle, client_id):
    """The launch a handle stands for, if it is this client's and has not expired; else None."""
    row = oauth_store.find_launch(conn, handle) if handle else None
    if row is None or row["client_id"] != client_id or row["expires_at"] <= time.time():
        return None
    return Launch(row["client_id"], row["staff_uid"], row["patient_id"])
