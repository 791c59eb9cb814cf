"""A demo database with portal accounts, and a logged-in test client, for the portal's page tests."""

import datetime as dt
import re

from fixtures import demo_accounts, demo_practice
from gateway import store
from smart_auth import accounts
from smart_auth.tokens import issue_access_token
from tests.apps import build_app

TODAY = dt.date(2026, 11, 25)
EVERYONE = ("every.patient@example.com", "Every-Patient-1")


def build_portal_db(path):
    """The demo practice and demo accounts, plus one account linked (as self) to every demo chart."""
    db = store.connect(path)
    summary = demo_practice.load(db, TODAY)
    demo_accounts.load(db, summary)
    account = accounts.create_account(db, EVERYONE[0], EVERYONE[1], name="Test Everyone", confirmed=True)
    for patient_id in summary["patient_ids"].values():
        accounts.link_account_to_chart(db, account["id"], patient_id, "self")
    store.optimize(db)
    return db, summary


def portal_client(path, **config):
    return build_app(path, **config).test_client()


def csrf(client, path="/portal/login"):
    html = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client, email, password):
    token = csrf(client)
    response = client.post("/portal/login", data={"email": email, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    return token


def show_record(client, token, link_id):
    """Put one linked record on screen through the record switcher."""
    response = client.post("/portal/switch", data={"link_id": link_id, "csrf_token": token, "next": "/portal/"})
    assert response.status_code == 302


def bearer(db, patient_uid, scope="patient/*.rs", client_id="test-app", subject=None):
    token = issue_access_token(db, client_id, scope, patient_uid, subject=subject)
    return {"Authorization": f"Bearer {token}"}


def fhir_ids(html):
    """The ``Type/id`` of every resource a portal page shows (its ``data-fhir`` attributes), in page order."""
    return re.findall(r'data-fhir="([A-Za-z]+/[^"]+)"', html)
