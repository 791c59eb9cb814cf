"""Provenance, built when asked from its target's stored facts: a read by id and ``_revinclude=Provenance:target``.

Each is held to the token's scopes like any read: no Provenance scope, no Provenance (a 403 on a read, nothing
included in a search); a Provenance whose target the token may not read is "not there" (SMART App Launch
2.0.0, "Scopes for requesting FHIR resources": a token reads only the resources its scopes grant, and an
included resource is one of them).
"""

import orjson

from gateway import store
from gateway.errors import Forbidden, NotFound
from gateway.fhir.access import visibility
from gateway.fhir.search import PROVENANCE_TARGET
from mappers import provenance

NAME = provenance.NAME
# US Core 6.1.0 asks Provenance of the patient's own records (its CapabilityStatement lists
# searchRevInclude Provenance:target on the clinical types and Patient, not on Practitioner or Organization).
TARGET_TYPES = PROVENANCE_TARGET.targets


def body(facts):
    """The Provenance JSON of one target, versioned and dated as its target is."""
    resource = provenance.to_fhir(facts, facts)
    resource["meta"] = {"versionId": str(facts["version"]), "lastUpdated": facts["recorded"], **resource["meta"]}
    return orjson.dumps(resource)


def read(conn, token, provenance_id):
    """(JSON, versionId, lastUpdated) of one Provenance; Forbidden without a Provenance scope, else NotFound."""
    seen = visibility(token, "read", provenance.NAME)
    target = provenance.target_of(provenance_id)
    if target is None or target[0] not in TARGET_TYPES or seen.filters is not None:
        raise NotFound(f"Provenance/{provenance_id} is not known")
    try:
        target_seen = visibility(token, "read", target[0])
    except Forbidden:
        raise NotFound(f"Provenance/{provenance_id} is not known") from None
    facts = store.provenance_target(conn, *target, target_seen)
    if facts is None or seen.patient not in (None, facts["patient"]):
        raise NotFound(f"Provenance/{provenance_id} is not known")
    return body(facts), facts["version"], facts["recorded"]


def of_page(conn, token, pks):
    """[(Provenance id, JSON)] for the page's resources ``pks``, in page order; [] without a Provenance scope.

    A granular Provenance scope (``patient/Provenance.rs?...``) grants none: this server cannot evaluate
    its query on a resource it does not store (gateway.fhir.access.to_visibility does the same).
    """
    try:
        seen = visibility(token, "search", provenance.NAME)
    except Forbidden:
        return []
    if seen.filters is not None:
        return []
    found = store.provenance_facts(conn, pks)
    return [
        (provenance.provenance_id(f["type"], f["id"]), body(f)) for f in found if seen.patient in (None, f["patient"])
    ]
