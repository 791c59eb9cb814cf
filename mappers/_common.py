"""Shared pieces of the mappers: the registry's data classes and small FHIR datatype builders.

Every mapper module exposes ``RESOURCE``, a :class:`ResourceType`, whose ``to_fhir(row, ctx)`` is a
pure function: one chart row (a plain dict, as stored in the chart table ``table``) in, one FHIR R4
resource (a plain dict) out, or ``None`` when the row must not be projected for patient access. A type
kept in more than one chart table lists the others in ``sources``, each a :class:`Source` with its own
pure ``to_fhir`` (a module of its own that registers nothing, e.g. ``mappers.vital_signs``).

``ctx`` carries what the row alone cannot say, already resolved to FHIR ids by the store:

- ``patient``: the Patient's FHIR id (compartment rows), or ``None``.
- ``organization``: the practice's Organization FHIR id.
- ``mrn_system``: the practice's identifier system URI for MRNs.
- ``provider``: the FHIR id of the Practitioner in the row's ``provider_id`` column, or ``None``.
- ``report``: for ``lab_observations`` rows, the parent ``lab_results`` row (its ``uid`` is the
  DiagnosticReport id, ``shared_with_patient`` decides projection).
- ``races``: for ``patients`` rows, the self-reported ``patient_races`` answers by kind (``race``,
  ``ethnicity``), each a list of ``(code, display)`` in chart order; a kind with none uses the row's column.
- ``result_ids``: for ``lab_results`` rows, the FHIR ids of the report's Observations, in order.
- ``links``: the FHIR ids of rows the row links to, by column (``encounter_id``, ``appointment_id``,
  ``reason_diagnosis_id``, ``order_id``, ``specimen_id``); a lab observation carries its report's encounter,
  order and specimen.
- ``withheld``: for ``orders`` and ``specimens`` rows, True when every lab result naming the row is withheld
  from the patient (the order or specimen is then withheld too).
- ``location``: the FHIR id of the Location in the row's ``location_id`` column, or ``None``.
- ``prescription``: for ``dispenses`` rows, the filled ``medications`` row (its ``uid`` is the MedicationRequest).
- ``formulary``: for ``medications`` rows (and ``dispenses`` rows, through their prescription), the ``formulary``
  row the prescription orders (its ``uid`` is the Medication), or ``None``.

Mappers leave ``meta.versionId`` and ``meta.lastUpdated`` to the store; they set ``meta.profile``.
A chart value that FHIR needs as a code (a status, gender, intent, code system) but that no table
knows raises :class:`UnmappableValue` naming the element, rather than being guessed or dropped.
"""

from dataclasses import dataclass, field
from typing import Callable

from . import codes


@dataclass(frozen=True)
class SearchParam:
    """A FHIR search parameter: its name, type, the element paths it indexes and its canonical URL.

    ``paths`` are dotted element paths into the resource JSON (``"code"``, ``"name.family"``,
    ``"participant.actor"``); a list along the way is walked element by element. ``targets`` limits a
    reference parameter to those resource types.
    """

    name: str
    type: str  # "token" | "date" | "string" | "reference" | "uri"
    paths: tuple[str, ...]
    definition: str
    targets: tuple[str, ...] = ()
    documentation: str = ""
    # Names the compartment's patient: answered from the stored patient id, not from the search index.
    compartment: bool = False
    # A reference parameter on a canonical element (QuestionnaireResponse.questionnaire): its values are
    # absolute URLs, searched as they are written (R4 search.html#reference, "canonical references").
    canonical: bool = False


@dataclass(frozen=True)
class Words:
    """A resource type in plain language: its label and what it covers (consent page, app lists)."""

    label: str
    covers: str


@dataclass(frozen=True)
class Kind:
    """A kind of a resource type a person may grant alone: its category coding and its words."""

    system: str
    code: str
    words: str


@dataclass(frozen=True)
class Entry:
    """Where a generic record entry finds its name, status and date: dotted paths into the resource."""

    name: str
    status: str
    date: str


@dataclass(frozen=True)
class RecordSection:
    """The type's section of a patient's record (portal page, chart, printable summary, IPS).

    ``order`` places it among the sections; ``also`` lists types shown inside it (a report's results);
    ``entry`` says how to summarise one resource when the section has no layout of its own; ``category``
    narrows the section's own type (not its ``also``) to resources with that category code (vital-sign
    Observations), and leaves them out of the other sections that show the type.
    """

    slug: str
    title: str
    order: float
    loinc: str
    loinc_display: str
    empty: str
    also: tuple[str, ...] = ()
    entry: "Entry | None" = None
    ips: bool = True  # False: a section the IPS does not define, left out of $summary (shown everywhere else)
    # A category code, or several comma-separated (any of them), written as a search's category value is.
    category: str = ""


@dataclass(frozen=True)
class Source:
    """One more chart table a resource type is projected from, with the mapper for its rows.

    An EHR keeps one FHIR type in several places (Observations: lab results and the vitals flowsheet),
    so a type has its main ``table``/``to_fhir`` and any number of further sources. A source may declare
    a record ``section`` of its own (narrowed by category), as social history does.
    """

    table: str
    to_fhir: Callable[[dict, dict], "dict | None"]
    section: "RecordSection | None" = None


@dataclass(frozen=True)
class ResourceType:
    """One projected FHIR resource type: where its rows come from, how they map and how they search.

    Also what other layers show of it: ``words`` and ``kinds`` on the consent page and app lists,
    ``care_date`` for $everything's start/end, ``section`` in the portal, chart, summary and IPS.
    """

    name: str
    table: str
    to_fhir: Callable[[dict, dict], "dict | None"]
    profiles: tuple[str, ...]
    search_params: tuple[SearchParam, ...]
    compartment: bool = True
    # Outside the compartment: the practice's own directory (its sites, its clinicians' roles), which anyone
    # who may read a patient of the practice may read, whether or not their records reference it yet.
    practice_directory: bool = False
    # A definition (a form): no patient's data, the same for every practice, so any token that may read the type
    # reads all of it (see gateway.store.search.where_sql).
    definitional: bool = False
    includes: tuple[str, ...] = ()
    revincludes: tuple[str, ...] = field(default=())
    words: "Words | None" = None
    kinds: tuple[Kind, ...] = ()  # the categories a consent may narrow the type to (SMART granular scopes)
    care_date: "str | None" = None  # the date search parameter $everything's start/end filter on
    section: "RecordSection | None" = None
    sources: tuple[Source, ...] = ()  # further (table, mapper) pairs the type is also projected from

    @property
    def tables(self):
        """Every chart table the type is projected from: ``table`` first, then the sources'."""
        return (self.table, *(source.table for source in self.sources))

    def mapper(self, table):
        """The ``to_fhir`` for rows of one of the type's chart tables."""
        if table == self.table:
            return self.to_fhir
        for source in self.sources:
            if source.table == table:
                return source.to_fhir
        raise KeyError(f"{self.name} is not projected from {table}")

    @property
    def compartment_params(self):
        """The names of the search parameters that name the compartment's patient."""
        return tuple(param.name for param in self.search_params if param.compartment)


# --- Builders -----------------------------------------------------------------------------------
# Every mapper assembles its resource with these and passes it through compact() last, so builders
# may return None (or dicts holding None) for absent chart values.

US_CORE_PROFILE = "http://hl7.org/fhir/us/core/StructureDefinition/"
BASE_PROFILE = "http://hl7.org/fhir/StructureDefinition/"
US_CORE_SEARCH = "http://hl7.org/fhir/us/core/SearchParameter/"
BASE_SEARCH = "http://hl7.org/fhir/SearchParameter/"


class UnmappableValue(ValueError):
    """A chart value with no FHIR code, where FHIR requires one (a status, gender, intent...)."""


def lookup(table, value, element):
    """Return ``table[value]`` (case-insensitive); raise UnmappableValue naming ``element`` if absent."""
    found = table.get(str(value).strip().lower()) if value is not None else None
    if found is None:
        raise UnmappableValue(f"{element}: no FHIR code for chart value {value!r}")
    return found


def lookup_optional(table, value):
    """Return ``table[value]`` (case-insensitive), or None when the value is empty or unknown."""
    return table.get(str(value).strip().lower()) if value else None


def compact(value):
    """Return ``value`` with None, empty strings, lists and dicts removed at every depth."""
    # Written as plain loops with exact type checks: this runs for every chart row written.
    kind = type(value)
    if kind is dict:
        out = {}
        for key, item in value.items():
            item_kind = type(item)
            if item_kind is dict or item_kind is list:
                item = compact(item)
                if item:
                    out[key] = item
            elif item is not None and item != "":
                out[key] = item
        return out
    if kind is list:
        out = []
        for item in value:
            item_kind = type(item)
            if item_kind is dict or item_kind is list:
                item = compact(item)
                if item:
                    out.append(item)
            elif item is not None and item != "":
                out.append(item)
        return out
    return value


def meta(*profiles):
    """Return ``meta`` claiming the given profiles; base resource definitions are not claimed."""
    claimed = [url for url in profiles if not url.startswith(BASE_PROFILE)]
    return {"profile": claimed} if claimed else None


# v3-Confidentiality codes a clinician may mark a chart row with (FHIR R4 security labels, 8.2.3.2.1: the
# confidentiality classification goes in meta.security); "N" (normal) is every other row and is not sent.
CONFIDENTIALITY = {"R": "restricted", "V": "very restricted"}


def confidentiality(value):
    """``meta.security`` for a row's confidentiality column: None (normal), or R/V; anything else cannot be sent."""
    if not value:
        return None
    if value not in CONFIDENTIALITY:
        raise UnmappableValue(f"unknown confidentiality {value!r} (R or V)")
    return [{"system": codes.THO + "v3-Confidentiality", "code": value, "display": CONFIDENTIALITY[value]}]


def coding(system, code, display=None):
    """Return a Coding, or None when there is no code."""
    if not code:
        return None
    return {"system": system, "code": code, "display": display}


def codeable(*codings, text=None):
    """Return a CodeableConcept from the non-empty codings and text, or None when all are empty."""
    present = [item for item in codings if item]
    if not present and not text:
        return None
    return {"coding": present, "text": text}


def reference(resource_type, resource_id, display=None):
    """Return a literal Reference ``Type/id``, or None when there is no id."""
    if not resource_id:
        return None
    return {"reference": f"{resource_type}/{resource_id}", "display": display}


def encounter_reference(ctx):
    """Return the Reference to the Encounter (visit) a row was charted at, or None."""
    return reference("Encounter", ctx.get("links", {}).get("encounter_id"))


def order_reference(ctx):
    """Return ``basedOn``: the ServiceRequest (order) a row fulfils, as a one-Reference list, or None."""
    order = reference("ServiceRequest", ctx.get("links", {}).get("order_id"))
    return [order] if order else None


def specimen_reference(ctx):
    """Return the Reference to the Specimen a lab result was run on, or None."""
    return reference("Specimen", ctx.get("links", {}).get("specimen_id"))


def display_reference(resource_type, display):
    """Return a text-only Reference to something the gateway has no resource for, or None."""
    if not display:
        return None
    return {"type": resource_type, "display": display}


def number(value):
    """Return a decimal as int when it is integral (2.0 -> 2), so JSON shows what was charted."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def quantity(value, unit=None):
    """Return a Quantity; its UCUM system and code are set only when the unit is known UCUM."""
    if value is None:
        return None
    code = codes.ucum(unit)
    return {"value": number(value), "unit": unit, "system": codes.UCUM if code else None, "code": code}


def period(start, end=None):
    """Return a Period, or None when both ends are unknown."""
    if not start and not end:
        return None
    return {"start": start, "end": end}


def notes(text):
    """Return a one-Annotation list for a free-text note, or None."""
    return [{"text": text}] if text else None


def data_absent(reason="unknown"):
    """Return the element body US Core asks for when a required value is missing (data-absent-reason)."""
    return {"extension": [{"url": codes.EXT_DATA_ABSENT_REASON, "valueCode": reason}]}


def us_core_param(resource_type, name, type_, *paths, targets=(), canonical=False):
    """Return a SearchParam whose canonical is US Core's ``us-core-{resource}-{name}``."""
    url = f"{US_CORE_SEARCH}us-core-{resource_type.lower()}-{name}"
    return SearchParam(name, type_, paths, url, targets, canonical=canonical)


def patient_param(resource_type, path, definition_id=None):
    """Return the ``patient`` compartment parameter: US Core's, or base R4's ``definition_id`` when given."""
    if definition_id:
        url = f"{BASE_SEARCH}{definition_id}"
    else:
        url = f"{US_CORE_SEARCH}us-core-{resource_type.lower()}-patient"
    return SearchParam("patient", "reference", (path,), url, ("Patient",), compartment=True)


def subject_params(resource_type, patient_definition_id=None):
    """Return ``patient`` and ``subject``, the compartment pair of a type whose ``subject`` is the patient."""
    subject = SearchParam(
        "subject", "reference", ("subject",), f"{BASE_SEARCH}{resource_type}-subject", compartment=True
    )
    return patient_param(resource_type, "subject", patient_definition_id), subject


def base_param(definition_id, name, type_, *paths, targets=()):
    """Return a SearchParam whose canonical is the base FHIR R4 ``SearchParameter/{definition_id}``."""
    return SearchParam(name, type_, paths, f"{BASE_SEARCH}{definition_id}", targets)
