"""Every served record of every demo patient has its Provenance, valid against R4B, through _revinclude."""

import orjson
import pytest
from fhir.resources.R4B.provenance import Provenance

from gateway.fhir.search import PROVENANCE_TARGET

FHIR = "/fhir"


@pytest.mark.parametrize("rtype", PROVENANCE_TARGET.targets)
def test_every_demo_record_has_one_valid_provenance(client, auth, demo, rtype):
    patients = [row[0] for row in demo.execute("SELECT id FROM resources WHERE type = 'Patient' AND deleted = 0")]
    seen = 0
    for patient in patients:
        bundle = client.get(
            f"{FHIR}/{rtype}?patient={patient}&_count=1000&_revinclude=Provenance:target",
            headers=auth("patient/*.rs", patient),
        ).get_json(force=True)
        matches = [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]
        included = [e["resource"] for e in bundle.get("entry", []) if e["search"]["mode"] == "include"]
        assert [p["target"][0]["reference"] for p in included] == [f"{rtype}/{m['id']}" for m in matches]
        for match, prov in zip(matches, included):
            Provenance.model_validate(prov)
            # The author is the Practitioner the record references; of several (a care team), the first by id.
            practitioners = sorted(set(_references(match, "Practitioner/")))
            author = prov["agent"][0]["who"]["reference"]
            assert author == (practitioners[0] if practitioners else f"Organization/{_practice(demo, match)}")
            assert prov["recorded"] == prov["meta"]["lastUpdated"] == match["meta"]["lastUpdated"]
        seen += len(matches)
    assert seen > 0, f"the demo has no {rtype}"


def _references(resource, prefix):
    text = orjson.dumps(resource).decode()
    return [prefix + part.split('"')[0] for part in text.split(f'"reference":"{prefix}')[1:]]


def _practice(demo, resource):
    row = demo.execute(
        "SELECT practice_id FROM resources WHERE type = ? AND id = ?", [resource["resourceType"], resource["id"]]
    )
    return row.fetchone()[0]
