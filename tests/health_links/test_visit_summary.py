"""The after-visit summary back to the patient the same way: the practice shares a visit as a link the portal
keeps; the patient sees it among the record's links, shows its QR code again, and a viewer opens the Encounter
and what was charted at it."""

import orjson
import pytest
from fhir.resources.R4B.bundle import Bundle

from gateway import store
from gateway.health_links import sharing
from gateway.health_links.link import parse_link
from gateway.health_links.payload import PayloadError
from gateway.store import accounts as account_store
from tests.health_links.helpers import decrypt, manifest, path_of
from tests.portal_helpers import bearer, build_portal_db, login, portal_client

SECRET = "visit-summary-test-secret"


@pytest.fixture(scope="module")
def portal(module_db_path):
    path = module_db_path("visit")
    db, summary = build_portal_db(path)
    patient = summary["patients"]["maria"]
    chart = store.chart_rows(db, "patients", uid=patient)[0]
    staff = next(
        s
        for s in (account_store.staff_by_id(db, n) for n in range(1, 10))
        if s and s["practice_id"] == chart["practice_id"]
    )
    visit = store.chart_rows(db, "encounters", patient_id=chart["id"])[0]["uid"]
    return path, db, patient, staff, visit


def test_the_practice_shares_a_visit_and_the_portal_keeps_the_link(portal):
    path, db, patient, staff, visit = portal
    shared = sharing.share_visit_summary(db, SECRET, staff, patient, visit, "http://gateway.test", 1_800_000_000)
    assert parse_link(shared.text).label == "After-visit summary, 2027-01-15"
    client = portal_client(path, SECRET_KEY=SECRET)
    login(client, "maria.garcia@example.com", "Portal-Demo-1")
    listing = client.get("/portal/share").get_data(as_text=True)
    assert f'href="/portal/share/{shared.uid}">Show the link' in listing
    page = client.get(f"/portal/share/{shared.uid}").get_data(as_text=True)
    assert f">{shared.text}</textarea>" in page
    location = manifest(client, shared.text).get_json()["files"][0]["location"]
    bundle = orjson.loads(decrypt(shared.text, client.get(path_of(location)).get_data(as_text=True))[1])
    Bundle.model_validate(bundle)
    assert ids(bundle) == {f"Encounter/{visit}"} | charted_at(client, db, patient, visit) | people(client, db, patient)


def ids(bundle, keep=lambda resource: True):
    return {f"{e['resource']['resourceType']}/{e['resource']['id']}" for e in bundle["entry"] if keep(e["resource"])}


def charted_at(client, db, patient, visit):
    """What the FHIR API's $everything holds that refers to the visit."""
    everything = client.get(f"/fhir/Patient/{patient}/$everything", headers=bearer(db, patient)).get_json(force=True)
    return ids(everything, lambda r: f'"Encounter/{visit}"' in orjson.dumps(r).decode())


def people(client, db, patient):
    everything = client.get(f"/fhir/Patient/{patient}/$everything", headers=bearer(db, patient)).get_json(force=True)
    return ids(everything, lambda r: r["resourceType"] in ("Patient", "Practitioner", "Organization"))


def test_another_practices_staff_or_an_unknown_visit_cannot_share(portal):
    _, db, patient, staff, _ = portal
    stranger = dict(staff, practice_id=staff["practice_id"] + 100)
    with pytest.raises(sharing.ShareError) as caught:
        sharing.share_visit_summary(db, SECRET, stranger, patient, "x", "http://gateway.test", 1_800_000_000)
    assert str(caught.value) == "There is no such chart at this practice."
    with pytest.raises(PayloadError) as caught:
        sharing.share_visit_summary(db, SECRET, staff, patient, "no-such-visit", "http://gateway.test", 1_800_000_000)
    assert str(caught.value) == "There is no such visit in this record."


def test_a_kept_link_is_not_shown_to_another_record_or_under_another_secret(portal):
    path, db, patient, staff, visit = portal
    shared = sharing.share_visit_summary(db, SECRET, staff, patient, visit, "http://gateway.test", 1_800_000_000)
    client = portal_client(path, SECRET_KEY="another-secret")
    login(client, "maria.garcia@example.com", "Portal-Demo-1")
    assert client.get(f"/portal/share/{shared.uid}").status_code == 404
    keala = portal_client(path, SECRET_KEY=SECRET)
    login(keala, "keala.kahale@example.org", "Portal-Demo-3")
    assert keala.get(f"/portal/share/{shared.uid}").status_code == 404
