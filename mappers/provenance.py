"""A served resource's facts -> US Core Provenance (6.1.0): who authored the record and who sends it.

Provenance is not projected from a chart table: one Provenance per served resource would double the
projection (and the bulk load), so it is built when asked from what the store already holds of its target
(type, id, version, lastUpdated, practice, the Practitioner it references). This module is the pure part:
facts in, resource out. Its id is ``{TargetType}-{target id}`` (at most 22 + 1 + 36 characters for our
ids), so a read finds the target without another table.
"""

from ._common import BASE_SEARCH, US_CORE_PROFILE, SearchParam, Words, compact, meta, reference

PROFILE = US_CORE_PROFILE + "us-core-provenance"
NAME = "Provenance"
# US Core 6.1.0 us-core-provenance: the ProvenanceAuthor slice fixes agent.type to the base code system's
# "author", the ProvenanceTransmitter slice to US Core's own "transmitter".
AUTHOR = {
    "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
    "code": "author",
    "display": "Author",
}
TRANSMITTER = {
    "system": "http://hl7.org/fhir/us/core/CodeSystem/us-core-provenance-participant-type",
    "code": "transmitter",
    "display": "Transmitter",
}
TARGET = "target"
WORDS = Words("Record history", "who wrote each record and which practice sent it")


def target_param(target_types):
    """The ``target`` parameter (``_revinclude=Provenance:target``), pointing at ``target_types``."""
    return SearchParam(TARGET, "reference", (TARGET,), f"{BASE_SEARCH}Provenance-target", tuple(target_types))


def provenance_id(target_type, target_id):
    """The Provenance id of one target resource."""
    return f"{target_type}-{target_id}"


def target_of(provenance_id):
    """(target type, target id) a Provenance id names, or None when it names none."""
    target_type, dash, target_id = provenance_id.partition("-")
    if not dash or not target_type.isalpha() or not target_id:
        return None
    return target_type, target_id


def to_fhir(facts, ctx):
    """Return the Provenance of one target from its stored ``facts`` (type, id, recorded) and ``ctx``.

    ``ctx``: ``organization`` (the practice's Organization id, which holds and sends the record) and
    ``provider`` (the Practitioner the record references, its author, or None). With no Practitioner the
    practice is the author; a Practitioner author acts on behalf of the practice (US Core 6.1.0 provenance-1:
    an agent.who that is a Practitioner needs onBehalfOf).
    """
    organization = reference("Organization", ctx["organization"])
    provider = reference("Practitioner", ctx.get("provider"))
    author = {"type": {"coding": [AUTHOR]}, "who": provider or organization}
    if provider:
        author["onBehalfOf"] = organization
    return compact(
        {
            "resourceType": NAME,
            "id": provenance_id(facts["type"], facts["id"]),
            "meta": meta(PROFILE),
            "target": [reference(facts["type"], facts["id"])],
            "recorded": facts["recorded"],
            "agent": [author, {"type": {"coding": [TRANSMITTER]}, "who": organization}],
        }
    )
