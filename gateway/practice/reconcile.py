"""Side by side at check-in: what a patient's SMART Health Link holds beside what our chart holds, for medications,
allergies, problems and immunizations, with what is new marked. Nothing here writes to the chart: staff reconcile
by hand.

An item brought matches one of ours by a code of a system both sides may share (RxNorm for medications, SNOMED CT
or ICD-10-CM for problems and allergies, CVX for vaccines), else by its words; an immunization also by its day,
since a second dose of the same vaccine is new history.
"""

import re
from dataclasses import dataclass

from mappers.codes import CVX, ICD10CM, RXNORM, SNOMED

MATCH_SYSTEMS = {RXNORM, SNOMED, ICD10CM, "http://hl7.org/fhir/sid/icd-10", CVX}


@dataclass(frozen=True)
class Kind:
    slug: str
    title: str
    types: tuple
    concept: str  # the element holding the CodeableConcept that says what it is
    empty: str


KINDS = (
    Kind(
        "medications",
        "Medications",
        ("MedicationRequest", "MedicationStatement"),
        "medicationCodeableConcept",
        "No medications.",
    ),
    Kind("allergies", "Allergies", ("AllergyIntolerance",), "code", "No allergies."),
    Kind("problems", "Problems", ("Condition",), "code", "No problems."),
    Kind("immunizations", "Immunizations", ("Immunization",), "vaccineCode", "No immunizations."),
)


@dataclass(frozen=True)
class Item:
    name: str
    detail: str
    codes: frozenset
    words: str
    day: str
    new: bool = False
    matched_by: str = ""


def compare(chart_resources, brought_resources):
    """For each kind: ``(kind, ours, theirs)``, lists of Items; each item brought says whether it is new."""
    ours_refs, their_refs = _refs(chart_resources), _refs(brought_resources)
    compared = []
    for kind in KINDS:
        # A chart states one medication as an order and as a statement: list it once.
        ours = list(
            dict.fromkeys(_item(kind, r, ours_refs) for r in chart_resources if r.get("resourceType") in kind.types)
        )
        theirs = [
            _matched(kind, _item(kind, r, their_refs), ours)
            for r in brought_resources
            if r.get("resourceType") in kind.types
        ]
        compared.append((kind, ours, theirs))
    return compared


def _refs(resources):
    return {f"{r.get('resourceType')}/{r.get('id')}": r for r in resources if r.get("id")}


def _concept(kind, resource, refs):
    concept = resource.get(kind.concept)
    reference = (resource.get("medicationReference") or {}).get("reference", "")
    if concept is None and reference:
        medication = refs.get(reference) or _contained(resource, reference)
        concept = (medication or {}).get("code")
    return concept if isinstance(concept, dict) else {}


def _contained(resource, reference):
    if not reference.startswith("#"):
        return None
    return next((c for c in resource.get("contained") or () if c.get("id") == reference[1:]), None)


def _item(kind, resource, refs):
    concept = _concept(kind, resource, refs)
    codings = [c for c in concept.get("coding") or () if isinstance(c, dict)]
    name = concept.get("text") or next((c["display"] for c in codings if c.get("display")), "") or "Unnamed"
    codes = frozenset((c.get("system"), str(c.get("code"))) for c in codings if c.get("system") in MATCH_SYSTEMS)
    day = str(resource.get("occurrenceDateTime") or "")[:10] if kind.slug == "immunizations" else ""
    return Item(name, _detail(kind, resource, day), codes, _words(name), day)


def _detail(kind, resource, day):
    if kind.slug == "immunizations":
        return f"given {day}" if day else ""
    status = resource.get("status") or _code_of(resource.get("clinicalStatus"))
    return status or ""


def _code_of(concept):
    codings = (concept or {}).get("coding") or [{}]
    return codings[0].get("code", "")


def _words(text):
    """Text for matching: lower case, words only (so "Lisinopril 10 MG Oral Tablet" = "lisinopril 10mg oral tablet")."""
    return re.sub(r"[^a-z0-9]+", "", text.lower())


def _matched(kind, item, ours):
    def same_day(other):
        return kind.slug != "immunizations" or not (item.day and other.day) or item.day == other.day

    if item.codes and any(item.codes & other.codes and same_day(other) for other in ours):
        return Item(**{**item.__dict__, "matched_by": "code"})
    if item.words and any(item.words == other.words and same_day(other) for other in ours):
        return Item(**{**item.__dict__, "matched_by": "words"})
    return Item(**{**item.__dict__, "new": True})


def person(resources, chart_birth_date):
    """Whom the link is about (its first Patient): ``(name, birth date, same birth date as the chart?)``, or None."""
    patient = next((r for r in resources if r.get("resourceType") == "Patient"), None)
    if patient is None:
        return None
    names = [n for n in patient.get("name") or () if isinstance(n, dict)]
    first = names[0] if names else {}
    name = first.get("text") or " ".join([*first.get("given", []), first.get("family", "")]).strip() or "No name"
    born = str(patient.get("birthDate") or "")
    return name, born, not born or born == str(chart_birth_date or "")
