"""Observations of kinds the demo chart does not hold (it has lab results only), put straight into the FHIR
projection so a test can tell a grant of "lab results" from a grant of every result."""

import uuid

from gateway import store
from gateway.store import projection
from mappers import REGISTRY, codes

KINDS = {"vital-signs": ("85354-9", "Blood pressure panel"), "social-history": ("72166-2", "Tobacco smoking status")}


def observation(patient_uid, category):
    """A minimal Observation of ``category`` (observation-category code) in the patient's compartment."""
    code, text = KINDS[category]
    return {
        "resourceType": "Observation",
        "id": str(uuid.uuid4()),
        "status": "final",
        "category": [{"coding": [{"system": codes.OBSERVATION_CATEGORY, "code": category}]}],
        "code": {"coding": [{"system": codes.LOINC, "code": code}], "text": text},
        "subject": {"reference": f"Patient/{patient_uid}"},
        "effectiveDateTime": "2026-11-20T09:00:00Z",
    }


def add_observations(path, patient_uid, categories=tuple(KINDS)):
    """Store one Observation of each category for the patient, with its search index rows; return their ids."""
    db = store.connect(path)
    rt, now = REGISTRY["Observation"], "2026-11-25T12:00:00Z"
    inserts, index_rows, ids = [], ([], [], [], []), []
    with store.transaction(db):
        pk = db.execute("SELECT coalesce(max(pk), 0) + 1 FROM resources").fetchone()[0]
        for number, category in enumerate(categories):
            resource = observation(patient_uid, category)
            body = projection._with_meta(resource, 1, now)
            entries = projection.index_entries(rt, resource, body)
            row, ctx = {"uid": resource["id"], "id": 0}, {"patient": patient_uid, "organization": None}
            projection.collect(
                rt, "test_observations", row, ctx, pk + number, 1, now, 0, body, entries, inserts, index_rows
            )
            ids.append(resource["id"])
        projection.write(db, inserts, [], [], index_rows)
    db.close()
    return ids
