"""The mapper registry: every projected FHIR resource type, its chart table, mapper and searches.

Each type's module declares once what the rest of the code knows of it (see ResourceType): the API,
the search engine, the CapabilityStatement, the consent words and the record pages all read
``REGISTRY``, so they cannot disagree, and adding a type is adding a module to ``_MODULES``.
Patient comes first; the rest follow in the order a patient summary lists them.
"""

from . import (
    allergy_intolerance,
    appointment,
    care_plan,
    care_team,
    condition,
    coverage,
    device,
    diagnostic_report,
    document_reference,
    encounter,
    goal,
    immunization,
    location,
    medication,
    medication_dispense,
    medication_request,
    medication_statement,
    observation,
    organization,
    patient,
    practitioner,
    practitioner_role,
    procedure,
    questionnaire,
    questionnaire_response,
    related_person,
    service_request,
    specimen,
)
from ._common import ResourceType, SearchParam, Source, UnmappableValue

_MODULES = (
    patient,
    organization,
    practitioner,
    location,
    practitioner_role,
    condition,
    medication_request,
    medication_statement,
    medication_dispense,
    medication,
    allergy_intolerance,
    immunization,
    procedure,
    device,
    care_plan,
    observation,
    questionnaire_response,
    questionnaire,
    diagnostic_report,
    document_reference,
    service_request,
    specimen,
    encounter,
    appointment,
    care_team,
    related_person,
    goal,
    coverage,
)

REGISTRY: dict[str, ResourceType] = {module.RESOURCE.name: module.RESOURCE for module in _MODULES}

__all__ = ["REGISTRY", "ResourceType", "SearchParam", "Source", "UnknownResourceType", "UnmappableValue", "get"]


class UnknownResourceType(KeyError):
    """A resource type the gateway does not project."""


def get(name):
    """Return the ResourceType registered under a FHIR resource type name."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownResourceType(name) from None
