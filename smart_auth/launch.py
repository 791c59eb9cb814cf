"""EHR launch: a staff user opens an app for a chart; the launch handle carries that context to the
app's authorization request (SMART App Launch 2.0.0, "EHR Launch").

A handle is short-lived and used once: the first authorization that ends (approved or denied) uses it up, and
a reused or expired one is refused with ``invalid_request`` (what the SMART certification tests expect for an
invalid launch). The staff user approves each app once; the approval is kept per (staff user, app).
"""

import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from gateway import store
from gateway.store import oauth as oauth_store

LAUNCH_TTL = 300  # long enough for the app to start and redirect, short enough that a leaked URL goes stale
UNKNOWN = "The launch is unknown, or was made for another app or user."
USED = "This launch has already been used: launch the app again from the chart."
EXPIRED = "This launch has expired: launch the app again from the chart."
NOT_THIS_CHART = "That visit is not on this chart."


class LaunchRefused(Exception):
    """A launch handle that cannot be used; ``description`` says why, for the app's error redirect."""

    def __init__(self, description):
        super().__init__(description)
        self.description = description


@dataclass(frozen=True)
class Launch:
    """What a launch handle stands for: the app, the staff user, the chart (FHIR Patient id) and, for a launch
    from a visit, the encounter (FHIR Encounter id)."""

    client_id: str
    staff_uid: str
    patient_id: str
    encounter_id: str | None = None


def launch_app(db, client, staff_uid, patient_id, fhir_base, encounter_id=None):
    """Create a launch context and return the URL that opens the app with ``iss`` and ``launch``.

    A launch from a visit names the encounter; one that is not the chart's raises LaunchRefused (nothing is saved).
    """
    if not client.launch_uri:
        raise ValueError(f"{client.name} has no launch URL")
    if encounter_id is not None and not oauth_store.encounter_of_patient(db, encounter_id, patient_id):
        raise LaunchRefused(NOT_THIS_CHART)
    handle, now = secrets.token_urlsafe(24), int(time.time())
    with store.transaction(db):
        oauth_store.save_launch(
            db, handle, client.client_id, staff_uid, patient_id, now, now + LAUNCH_TTL, encounter_id
        )
    joiner = "&" if "?" in client.launch_uri else "?"
    return client.launch_uri + joiner + urlencode({"iss": fhir_base, "launch": handle})


def resolve_launch(conn, handle, client_id, staff_uid):
    """The launch a handle stands for, if it is this client's and this staff user's, unused and unexpired.

    Raise LaunchRefused otherwise.
    """
    row = oauth_store.find_launch(conn, handle) if handle else None
    if row is None or row["client_id"] != client_id or row["staff_uid"] != staff_uid:
        raise LaunchRefused(UNKNOWN)
    if row["used_at"] is not None:
        raise LaunchRefused(USED)
    if row["expires_at"] <= time.time():
        raise LaunchRefused(EXPIRED)
    return Launch(row["client_id"], row["staff_uid"], row["patient_id"], row["encounter_id"])


def use_launch(db, handle):
    """Use a launch up; raise LaunchRefused when another request used it first."""
    with store.transaction(db):
        if not oauth_store.use_launch(db, handle, int(time.time())):
            raise LaunchRefused(USED)


def approved(conn, staff_uid, client_id, scope):
    """Whether the staff user already approved this app for at least ``scope``."""
    row = oauth_store.staff_approval(conn, staff_uid, client_id)
    return row is not None and set(scope.split()) <= set(row["scope"].split())


def approve(db, staff_uid, client_id, scope):
    """Remember that the staff user approved this app for ``scope``."""
    with store.transaction(db):
        oauth_store.save_staff_approval(db, staff_uid, client_id, scope, int(time.time()))


def approvals_of(conn, staff_uid):
    """The apps the staff user approved, for the practice console."""
    return oauth_store.staff_approvals(conn, staff_uid)


def withdraw(db, staff_uid, client_id):
    """Take back the staff user's approval of an app (it asks again next launch); False when there was none."""
    with store.transaction(db):
        return oauth_store.delete_staff_approval(db, staff_uid, client_id)
