"""Shared by the enrollment tests: a two-practice chart, an enrollment context, and reading the outbox."""

import re

from gateway import store
from gateway.store import enrollment as enrollment_store
from smart_auth import accounts, notify
from smart_auth.enrollment import Context
from smart_auth.notify import Notifier
from tests import chart

SECRET = "test-secret"
BASE = "http://gateway.test"
STAFF = "staff desk@example.com"


def build(db):
    """tests/chart.py plus a second practice where José (patient 1) is also seen, as patient 3."""
    chart.build(db)
    store.insert_rows(
        db,
        "practices",
        [{"id": 2, "uid": "org-2", "name": "Second Clinic", "mrn_system": "urn:oid:2.16.840.1.113883.3.9999.43"}],
    )
    store.insert_rows(
        db,
        "patients",
        [
            {
                "id": 3,
                "uid": "pat-3",
                "practice_id": 2,
                "mrn": "S001",
                "first_name": "José",
                "last_name": "Ramírez",
                "birth_date": "1980-05-17",
                "sex": "M",
                "phone": "555-010-0001",
                "email": "jose@example.com",
            }
        ],
    )
    accounts.create_staff(db, "desk@example.com", "Desk-Pass1", "Front desk", 1)
    accounts.create_staff(db, "desk2@example.com", "Desk-Pass2", "Second desk", 2)


def context(db, **config):
    return Context(db, SECRET, BASE, Notifier(db, config))


def deliver(db, **config):
    """Run the sender once over the queue, as the server's sender thread would after a response."""
    return notify.deliver_due(db, config)


def outbox(db, channel=None):
    """Outbox rows, oldest first."""
    return list(reversed(enrollment_store.messages(db, channel=channel)))


def last_link(db, path="/portal/invite/"):
    """The token of the newest link to ``path`` in the outbox."""
    for message in enrollment_store.messages(db):
        found = re.search(re.escape(path) + r"([A-Za-z0-9_.\-]+)", message["body_text"] or "")
        if found:
            return found.group(1)
    raise AssertionError(f"no {path} link in the outbox")


def last_sms_code(db):
    message = enrollment_store.messages(db, channel="sms")[0]
    return re.search(r"\b(\d{6})\b", message["body_text"]).group(1)
