"""Provenance from a target's stored facts: US Core 6.1.0 author and transmitter agents, valid R4B."""

import pytest
from fhir.resources.R4B.provenance import Provenance

from mappers import provenance

FACTS = {"type": "Condition", "id": "dx-1", "recorded": "2024-01-15T15:00:00Z"}


def test_a_practitioner_authors_on_behalf_of_the_practice_which_transmits():
    resource = provenance.to_fhir(FACTS, {"organization": "org-1", "provider": "prac-1"})
    Provenance.model_validate(resource)
    assert resource == {
        "resourceType": "Provenance",
        "id": "Condition-dx-1",
        "meta": {"profile": [provenance.PROFILE]},
        "target": [{"reference": "Condition/dx-1"}],
        "recorded": "2024-01-15T15:00:00Z",
        "agent": [
            {
                "type": {"coding": [provenance.AUTHOR]},
                "who": {"reference": "Practitioner/prac-1"},
                "onBehalfOf": {"reference": "Organization/org-1"},
            },
            {"type": {"coding": [provenance.TRANSMITTER]}, "who": {"reference": "Organization/org-1"}},
        ],
    }


def test_without_a_practitioner_the_practice_is_the_author():
    resource = provenance.to_fhir(FACTS, {"organization": "org-1", "provider": None})
    Provenance.model_validate(resource)
    assert resource["agent"] == [
        {"type": {"coding": [provenance.AUTHOR]}, "who": {"reference": "Organization/org-1"}},
        {"type": {"coding": [provenance.TRANSMITTER]}, "who": {"reference": "Organization/org-1"}},
    ]


@pytest.mark.parametrize(
    "provenance_id, target",
    [
        ("Condition-dx-1", ("Condition", "dx-1")),
        ("Patient-5b0e6a53-8f3c-4c1e-9d8e-2f4a7c1b9e60", ("Patient", "5b0e6a53-8f3c-4c1e-9d8e-2f4a7c1b9e60")),
        ("dx1", None),
        ("Condition-", None),
        ("-dx-1", None),
        ("Cond1tion-dx-1", None),
    ],
)
def test_a_provenance_id_names_its_target(provenance_id, target):
    assert provenance.target_of(provenance_id) == target
