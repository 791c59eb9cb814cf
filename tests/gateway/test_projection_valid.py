"""Every projected resource of every demo patient validates against the FHIR R4 (R4B) models."""

import orjson
import pytest
from fhir.resources.R4B import get_fhir_model_class

from mappers import REGISTRY


@pytest.mark.parametrize("rtype", list(REGISTRY))
def test_every_demo_resource_validates(demo, rtype):
    rows = demo.execute("SELECT json FROM resources WHERE type = ? AND deleted = 0", [rtype]).fetchall()
    assert rows, f"the demo has no {rtype}"
    model = get_fhir_model_class(rtype)
    for (body,) in rows:
        resource = orjson.loads(body)
        model.model_validate(resource)
        # MedicationStatement and Appointment have no US Core profile; the rest claim theirs.
        claimed = set(resource["meta"].get("profile", []))
        us_core = {p for p in REGISTRY[rtype].profiles if "/us/core/" in p}
        assert claimed <= set(REGISTRY[rtype].profiles)
        assert bool(claimed) == bool(us_core)
