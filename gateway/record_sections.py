"""The sections of a record as a person reads them: stored FHIR resources in, plain-language items out.

Pure functions over parsed resources (no Flask, no database), shared by the portal pages, the practice
chart, the printable summary, the PDF and the IPS narrative. Each item is a dict: ``id``, ``type``,
``name``, ``status``, ``date`` (ISO), ``end``, ``details`` ([(label, text)]) and ``codes``
([(system name, code, display)]), plus what its section adds (lab values, appointment places).
"""

import functools
from dataclasses import dataclass

from gateway.portal.words import LAB_NAMES, VACCINE_GROUPS
from gateway.unit_words import unit_words
from mappers import REGISTRY, codes
from mappers.screening import INSTRUMENTS

SYSTEM_NAMES = {
    codes.ICD10CM: "ICD-10-CM",
    codes.SNOMED: "SNOMED CT",
    codes.RXNORM: "RxNorm",
    codes.LOINC: "LOINC",
    codes.CVX: "CVX (vaccine)",
    codes.CPT: "CPT",
    codes.HCPCS: "HCPCS",
    codes.ICD10PCS: "ICD-10-PCS",
    codes.UNII: "UNII",
    codes.NDFRT: "NDF-RT",
    codes.INTERPRETATION: "Interpretation",
}
STATUS_WORDS = {
    "active": "Active",
    "resolved": "Resolved",
    "inactive": "Inactive",
    "remission": "In remission",
    "recurrence": "Came back",
    "relapse": "Came back",
    "completed": "Completed",
    "stopped": "Stopped",
    "not-done": "Not given",
    "on-hold": "On hold",
    "intended": "Planned",
    "not-taken": "Not taken",
    "entered-in-error": "Entered in error",
    "booked": "Booked",
    "fulfilled": "Attended",
    "cancelled": "Cancelled",
    "noshow": "Missed",
    "proposed": "Proposed",
    "pending": "Pending",
    "arrived": "Arrived",
    "checked-in": "Checked in",
    "final": "Final",
    "preliminary": "Preliminary",
    "amended": "Amended",
    "corrected": "Corrected",
    "draft": "Draft",
    "revoked": "Revoked",
    "in-progress": "In progress",
    "unknown": "Unknown",
}
FLAG_WORDS = {
    "H": "High",
    "L": "Low",
    "HH": "Critically high",
    "LL": "Critically low",
    "A": "Abnormal",
    "AA": "Critically abnormal",
    "POS": "Positive",
}


@dataclass(frozen=True)
class Section:
    """A section of the record: its page slug, heading, the FHIR types it shows and its IPS/LOINC code."""

    slug: str
    title: str
    types: tuple
    loinc: str
    loinc_display: str
    empty: str
    entry: object = None  # mappers' Entry: how to summarise a resource when no builder below knows its type
    ips: bool = True  # the section is one of the IPS document's
    # Only its own type's resources with this category code, or any of several comma-separated ones (other sections
    # leave them out); written as a search's category value is.
    category: str = ""


def all_sections():
    """The record's sections in their declared order, read from the registry at each call (so a type
    added to the registry, even by a test, shows without edits here)."""
    declared = [(rt.name, rt.section) for rt in REGISTRY.values() if rt.section]
    declared += [(rt.name, src.section) for rt in REGISTRY.values() for src in rt.sources if src.section]
    return tuple(_section(name, section) for name, section in sorted(declared, key=lambda pair: pair[1].order))


def _section(name, declared):
    return Section(
        declared.slug,
        declared.title,
        (name, *declared.also),
        declared.loinc,
        declared.loinc_display,
        declared.empty,
        declared.entry,
        declared.ips,
        declared.category,
    )


def _wanted(category):
    """The category codes a section's ``category`` names: one code, or several comma-separated."""
    return set(category.split(",")) if category else set()


def _category_codes(resource):
    return {c.get("code") for concept in resource.get("category", ()) for c in concept.get("coding", ())}


def section_resources(section, by_type):
    """The resources a section shows, by type (``by_type``: type -> [resource]).

    A section with a category shows only its own type's resources in that category; the other sections
    showing that type leave those out (vital signs are not lab results, though both are Observations).
    """
    claimed = {}
    for other in all_sections():
        if other.category:
            claimed.setdefault(other.types[0], set()).update(_wanted(other.category))
    found = {}
    for rtype in section.types:
        resources = by_type.get(rtype, ())
        # The category narrows the section's own type; the types shown inside it (``also``) come whole.
        if section.category and rtype == section.types[0]:
            found[rtype] = [r for r in resources if _wanted(section.category) & _category_codes(r)]
        elif rtype in claimed:
            found[rtype] = [r for r in resources if not claimed[rtype] & _category_codes(r)]
        else:
            found[rtype] = list(resources)
    return found


def section_by_slug(slug):
    """The section with this page slug, or None."""
    return next((s for s in all_sections() if s.slug == slug), None)


def text_of(concept):
    """The words of a CodeableConcept: its text, else its first coding's display or code."""
    if not concept:
        return ""
    if concept.get("text"):
        return concept["text"]
    for c in concept.get("coding", ()):
        if c.get("display") or c.get("code"):
            return c.get("display") or c["code"]
    return ""


def codes_of(*concepts):
    """Every coding of the concepts as (system name, code, display)."""
    return [
        (SYSTEM_NAMES.get(c.get("system"), c.get("system", "")), c.get("code", ""), c.get("display", ""))
        for concept in concepts
        if concept
        for c in concept.get("coding", ())
        if c.get("code")
    ]


def status_word(code):
    return STATUS_WORDS.get(code, (code or "").replace("-", " ").capitalize())


def _status_code(concept):
    return next((c.get("code") for c in (concept or {}).get("coding", ())), None)


def who(reference, refs):
    """A readable name for a reference: the Practitioner's or Organization's name, else its display."""
    if not reference:
        return ""
    target = refs.get(reference.get("reference", ""))
    if target and target.get("resourceType") == "Practitioner":
        name = (target.get("name") or [{}])[0]
        parts = [*name.get("prefix", ()), *name.get("given", ()), name.get("family", "")]
        return " ".join(p for p in parts if p) + "".join(f", {s}" for s in name.get("suffix", ()))
    if target and target.get("name"):
        return target["name"]
    return reference.get("display", "")


def _item(resource, name, status, date, end=None, details=(), concepts=()):
    return {
        "id": resource["id"],
        "type": resource["resourceType"],
        "name": name or "(not named)",
        "status_code": status,
        "status": status_word(status) if status else "",
        "date": date,
        "end": end,
        "details": [(label, value) for label, value in details if value],
        "codes": codes_of(*concepts),
    }


def condition(r, refs):
    category = text_of((r.get("category") or [None])[0])
    return _item(
        r,
        text_of(r.get("code")),
        _status_code(r.get("clinicalStatus")),
        r.get("onsetDateTime"),
        r.get("abatementDateTime"),
        [
            ("Kind", category),
            ("Recorded by", who(r.get("recorder"), refs)),
            ("Note", "; ".join(n["text"] for n in r.get("note", ()))),
        ],
        [r.get("code")],
    )


def medication(r, refs):
    period, dosage = r.get("effectivePeriod") or {}, (r.get("dosage") or [{}])[0]
    source = r.get("informationSource", {}).get("reference", "")
    origin = "Reported by the patient" if source.startswith("Patient/") else who(r.get("informationSource"), refs)
    reasons = ", ".join(text_of(c) for c in r.get("reasonCode", ()))
    return _item(
        r,
        text_of(r.get("medicationCodeableConcept")),
        r.get("status"),
        period.get("start"),
        period.get("end"),
        [("How to take it", dosage.get("text")), ("Prescribed by", origin), ("For", reasons)],
        [r.get("medicationCodeableConcept")],
    )


# A fill's status in words (MedicationDispense.status); a fill handed over reads "Filled <day>".
FILL_WORDS = {
    "completed": "Filled",
    "preparation": "Being prepared",
    "in-progress": "Being prepared",
    "on-hold": "On hold at the pharmacy",
    "cancelled": "Not filled (cancelled)",
    "declined": "Not filled (declined)",
    "stopped": "Not filled (stopped)",
}


def fills_by_prescription(refs):
    """Every pharmacy fill of the record in words, by the FHIR id of the MedicationRequest it fills (which the
    MedicationStatement of the same chart row shares), oldest first: ``{id: [{verb, date, place, amount}]}``."""
    found = {}
    for key, fill in refs.items():
        if not key.startswith("MedicationDispense/") or fill.get("status") == "entered-in-error":
            continue
        pharmacy = ((fill.get("performer") or [{}])[0].get("actor") or {}).get("display", "")
        amount = [quantity_words(fill.get("quantity")), days_words(fill.get("daysSupply"))]
        words = {
            "id": fill["id"],
            "verb": FILL_WORDS.get(fill.get("status"), status_word(fill.get("status") or "unknown")),
            "date": fill.get("whenHandedOver"),
            "place": pharmacy,
            "amount": ", ".join(a for a in amount if a),
        }
        for prescription in fill.get("authorizingPrescription", ()):
            rtype, _, rid = prescription.get("reference", "").partition("/")
            if rtype == "MedicationRequest":
                found.setdefault(rid, []).append(words)
    for fills in found.values():
        fills.sort(key=lambda f: (f["date"] or "9999", f["id"]))
    return found


def quantity_words(quantity):
    """A dispensed quantity in words: "30 tablets", "1 inhaler", "30 g" (UCUM annotations lose their braces)."""
    if not quantity or quantity.get("value") is None:
        return ""
    value, unit = _number(quantity["value"]), (quantity.get("unit") or "").strip("{}")
    if unit.isalpha() and len(unit) > 2 and value != "1" and not unit.endswith("s"):
        unit += "s"
    return f"{value} {unit}".strip()


def days_words(days):
    """A days supply in words: "30 days", "1 day"."""
    if not days or days.get("value") is None:
        return ""
    value = _number(days["value"])
    return f"{value} day" if value == "1" else f"{value} days"


def allergy(r, refs):
    reaction = (r.get("reaction") or [{}])[0]
    manifestations = ", ".join(text_of(m) for m in reaction.get("manifestation", ()))
    return _item(
        r,
        text_of(r.get("code")),
        _status_code(r.get("clinicalStatus")),
        r.get("onsetDateTime"),
        details=[
            ("Reaction", manifestations),
            ("Severity", (reaction.get("severity") or "").capitalize()),
            ("Risk", {"high": "High risk", "low": "Low risk"}.get(r.get("criticality"), "")),
            ("Kind", ", ".join(r.get("category", ())).capitalize()),
        ],
        concepts=[r.get("code"), *reaction.get("manifestation", ())],
    )


def immunization(r, refs):
    given = r.get("status") != "not-done"  # a dose not given has no one who gave it
    performer = (r.get("performer") or [{}])[0].get("actor") if given else None
    item = _item(
        r,
        text_of(r.get("vaccineCode")),
        r.get("status"),
        r.get("occurrenceDateTime"),
        details=[
            ("Why not given", "" if given else reason_words(r.get("statusReason"))),
            ("Given by", who(performer, refs)),
            ("Lot", r.get("lotNumber")),
            ("Source", "" if r.get("primarySource", True) else "Copied from another record"),
        ],
        concepts=[r.get("vaccineCode")],
    )
    cvx = next(
        (c.get("code") for c in r.get("vaccineCode", {}).get("coding", ()) if c.get("system") == codes.CVX), None
    )
    item["group"] = VACCINE_GROUPS.get(cvx) or item["name"]
    return item


def reason_words(concept):
    """A coded reason in words: its coding's display, sentence case, when the text is only the bare code."""
    words = text_of(concept)
    codes = {c.get("code") for c in (concept or {}).get("coding", ())}
    display = next((c.get("display") for c in (concept or {}).get("coding", ()) if c.get("display")), None)
    return display[0].upper() + display[1:] if display and (words in codes or not words) else words


def vaccine_groups(items):
    """Doses grouped by vaccine (plain name), groups by name and doses oldest first: ``[(name, [item])]``."""
    groups = {}
    for item in items:
        groups.setdefault(item["group"], []).append(item)
    return [(name, sorted(doses, key=lambda i: i["date"] or "")) for name, doses in sorted(groups.items())]


def procedure(r, refs):
    period = r.get("performedPeriod") or {}
    performer = (r.get("performer") or [{}])[0].get("actor")
    reasons = ", ".join(text_of(c) for c in r.get("reasonCode", ()))
    return _item(
        r,
        text_of(r.get("code")),
        r.get("status"),
        r.get("performedDateTime") or period.get("start"),
        period.get("end"),
        [("Done by", who(performer, refs)), ("For", reasons)],
        [r.get("code")],
    )


def care_plan(r, refs):
    period = r.get("period") or {}
    return _item(
        r,
        r.get("title") or text_of((r.get("category") or [None])[0]),
        r.get("status"),
        period.get("start"),
        period.get("end"),
        [("Plan", r.get("description")), ("Written by", who(r.get("author"), refs))],
    )


def person_name(resource):
    """A Patient's or RelatedPerson's first name in full: given names then family name."""
    name = (resource.get("name") or [{}])[0]
    return " ".join(p for p in (*name.get("given", ()), name.get("family", "")) if p)


def member_name(reference, refs):
    """A care team member in words: a clinician's name, or a person's name and relationship."""
    target = refs.get((reference or {}).get("reference", ""))
    if not target or target.get("resourceType") == "Practitioner":
        return who(reference, refs)
    relationship = text_of((target.get("relationship") or [None])[0])
    return person_name(target) + (f" ({relationship})" if relationship else "")


def care_team(r, refs):
    members = [(text_of((p.get("role") or [None])[0]), member_name(p.get("member"), refs)) for p in r["participant"]]
    return _item(r, r.get("name"), r.get("status"), (r.get("period") or {}).get("start"), details=members)


def related_person(r, refs):
    telecom = ", ".join(t["value"] for t in r.get("telecom", ()))
    relationship = text_of((r.get("relationship") or [None])[0])
    status = "active" if r.get("active") else "inactive"
    return _item(r, person_name(r), status, None, details=[("Relationship", relationship), ("Phone or email", telecom)])


def service_request(r, refs):
    """An order or referral: what, its state, when it was signed, by whom, what kind, when it is due and why."""
    reasons = ", ".join(text_of(c) for c in r.get("reasonCode", ()))
    return _item(
        r,
        text_of(r.get("code")),
        r.get("status"),
        r.get("authoredOn"),
        details=[
            ("Kind", text_of((r.get("category") or [None])[0])),
            ("Ordered by", who(r.get("requester"), refs)),
            ("Due", (r.get("occurrenceDateTime") or "")[:10]),
            ("Priority", (r.get("priority") or "").capitalize()),
            ("For", reasons),
        ],
        concepts=[r.get("code")],
    )


def _at(resource, path):
    """The first value at a dotted element path (a list along the way gives its first element)."""
    value = resource
    for step in path.split("."):
        value = value[0] if isinstance(value, list) and value else value
        value = value.get(step) if isinstance(value, dict) else None
    return value[0] if isinstance(value, list) and value else value


def entry_item(entry, r, refs):
    """An item for a type whose section has no layout of its own, from the paths its mapper declares."""
    name, status = _at(r, entry.name), _at(r, entry.status)
    status = _status_code(status) if isinstance(status, dict) else status
    coded = isinstance(name, dict)
    words = text_of(name) if coded else name
    return _item(r, words, status, _at(r, entry.date), concepts=[name] if coded else ())


def encounter(r, refs):
    """A visit: its type, when, with whom, where, why and (after a stay) where the patient went."""
    people = [p.get("individual", {}) for p in r.get("participant", ())]
    provider = next((who(p, refs) for p in people if p.get("reference")), "")
    place = next((loc.get("location", {}).get("display", "") for loc in r.get("location", ())), "")
    reasons = ", ".join(text_of(c) for c in r.get("reasonCode", ()))
    discharge = text_of(r.get("hospitalization", {}).get("dischargeDisposition"))
    period = r.get("period", {})
    return _item(
        r,
        text_of((r.get("type") or [None])[0]) or "Visit",
        r.get("status"),
        period.get("start"),
        period.get("end"),
        [("With", provider), ("Where", place), ("Reason", reasons), ("Discharged", discharge)],
        [*r.get("type", ()), *r.get("reasonCode", ())],
    )


BLOOD_PRESSURE_PANELS = {"85354-9", "96607-7"}  # blood pressure and its average: systolic/diastolic components


def vital_value(obs):
    """A vital sign's value and unit as charted: "128/82" mmHg for blood pressure, else the quantity."""
    quantity = obs.get("valueQuantity")
    if quantity:
        return _number(quantity.get("value")), unit_of(quantity)
    if {c.get("code") for c in obs.get("code", {}).get("coding", ())} & BLOOD_PRESSURE_PANELS:
        values = [(c.get("valueQuantity") or {}).get("value") for c in obs.get("component", ())]
        if any(v is not None for v in values):
            return "/".join("–" if v is None else _number(v) for v in values), unit_words("mm[Hg]")
    return "Not taken", ""


def vital_sign(r, refs):
    value, unit = vital_value(r)
    span = r.get("effectivePeriod") or {}
    oxygen = [
        f"{_number(c['valueQuantity']['value'])} {unit_of(c['valueQuantity'])}"
        for c in r.get("component", ())
        if c.get("valueQuantity") and c["valueQuantity"].get("code") in ("L/min", "%")
    ]
    reasons = [text_of(r.get("dataAbsentReason"))] + [
        text_of(c.get("dataAbsentReason")) for c in r.get("component", ())
    ]
    item = _item(
        r,
        text_of(r.get("code")),
        r.get("status"),
        r.get("effectiveDateTime") or span.get("start"),
        span.get("end"),
        [
            ("Oxygen given", ", ".join(oxygen)),
            ("Why not taken", ", ".join(w for w in reasons if w)),
            ("Taken by", who((r.get("performer") or [None])[0], refs)),
            ("Note", "; ".join(n["text"] for n in r.get("note", ()))),
        ],
        [r.get("code")],
    )
    item.update(value=value, unit=unit)
    return item


def device(r, refs):
    """An implant: its kind, and what a patient needs to tell another clinic (the UDI as on the card, the lot)."""
    udi = (r.get("udiCarrier") or [{}])[0]
    return _item(
        r,
        text_of(r.get("type")),
        r.get("status"),
        None,  # FHIR R4 Device has no implant date (US Core puts it on the Procedure that placed it)
        details=[
            ("Made by", r.get("manufacturer")),
            ("Model", r.get("modelNumber")),
            ("UDI", udi.get("carrierHRF")),
            ("Lot", r.get("lotNumber")),
            ("Serial number", r.get("serialNumber")),
            ("Made on", r.get("manufactureDate")),
            ("Use by", r.get("expirationDate")),
        ],
        concepts=[r.get("type")],
    )


def social_history(r, refs):
    """One answer on the social history form: the question, the answer, and an occupation's industry."""
    answer = text_of(r.get("valueCodeableConcept")) or text_of(r.get("dataAbsentReason"))
    industry = [text_of(c.get("valueCodeableConcept")) for c in r.get("component", ())]
    span = r.get("effectivePeriod") or {}
    item = _item(
        r,
        text_of(r.get("code")),
        r.get("status"),
        r.get("effectiveDateTime") or span.get("start"),
        span.get("end"),
        [
            ("Answer", answer),
            ("Industry", ", ".join(industry)),
            ("Recorded by", who((r.get("performer") or [None])[0], refs)),
            ("Note", "; ".join(n["text"] for n in r.get("note", ()))),
        ],
        [r.get("code"), r.get("valueCodeableConcept")],
    )
    item.update(value=answer, unit="")
    return item


def _answer_words(item):
    """An answered question's answer in words: the coded answer's display, the number or the text."""
    answer = (item.get("answer") or [{}])[0]
    coded = answer.get("valueCoding")
    if coded:
        return coded.get("display") or coded.get("code", "")
    for key in ("valueInteger", "valueDecimal", "valueString"):
        if key in answer:
            return _number(answer[key])
    return ""


def screening(r, refs):
    """One screening: the instrument, when and by whom, its total score, and each question answered in words."""
    canonical = r.get("questionnaire", "")
    names = [e.get("valueString") for e in r.get("_questionnaire", {}).get("extension", ())]
    found = INSTRUMENTS.get(canonical.rpartition("/")[2])
    score_link = "/" + found.score_loinc if found and found.score_loinc else None
    answers = [(i.get("text") or i["linkId"], _answer_words(i)) for i in r.get("item", ()) if i["linkId"] != score_link]
    score = next((_answer_words(i) for i in r.get("item", ()) if i["linkId"] == score_link), "")
    item = _item(
        r,
        found.short if found else (names[0] if names else canonical),
        r.get("status"),
        r.get("authored"),
        details=[
            ("Instrument", names[0] if names else ""),
            ("Score", score),
            ("Given by", who(r.get("author"), refs)),
            *answers,
        ],
    )
    item.update(value=score, unit="")
    return item


def finding(r, refs):
    """One simple observation: what was found, when, its result in words with its unit, its kind and who."""
    value, unit = lab_value(r)
    value = "" if "dataAbsentReason" in r else value
    span = r.get("effectivePeriod") or {}
    item = _item(
        r,
        text_of(r.get("code")),
        r.get("status"),
        r.get("effectiveDateTime") or span.get("start"),
        span.get("end"),
        [
            ("Result", f"{value} {unit}".strip()),
            ("Kind", text_of((r.get("category") or [None])[0])),
            ("Why there is no result", text_of(r.get("dataAbsentReason"))),
            ("Recorded by", who((r.get("performer") or [None])[0], refs)),
            ("Note", "; ".join(n["text"] for n in r.get("note", ()))),
        ],
        [r.get("code"), r.get("valueCodeableConcept")],
    )
    item.update(value=value, unit=unit)
    return item


# Sections whose items are built their own way, whatever their types' builders below.
SECTION_BUILDERS = {"social-history": social_history, "findings": finding}


def clinical_note(r, refs):
    """A note: its title, who wrote it and when; ``document`` names its attachment (the text is the store's)."""
    attachment = ((r.get("content") or [{}])[0]).get("attachment", {})
    item = _item(
        r,
        r.get("description") or text_of(r.get("type")),
        r.get("docStatus") or r.get("status"),
        r.get("date"),
        details=[
            ("Kind", text_of({"coding": r.get("type", {}).get("coding", ())})),
            ("Written by", ", ".join(who(a, refs) for a in r.get("author", ()))),
        ],
        concepts=[r.get("type")],
    )
    item["document"] = {"content_type": attachment.get("contentType", ""), "url": attachment.get("url", "")}
    return item


ITEM_BUILDERS = {
    "Condition": condition,
    "MedicationStatement": medication,
    "AllergyIntolerance": allergy,
    "Immunization": immunization,
    "Procedure": procedure,
    "CarePlan": care_plan,
    "Encounter": encounter,
    "CareTeam": care_team,
    "RelatedPerson": related_person,
    "Observation": vital_sign,  # lab results come as panels (lab_panels); the Observations left are vitals
    "ServiceRequest": service_request,
    "Device": device,
    "DocumentReference": clinical_note,
    "QuestionnaireResponse": screening,
}


def _number(value):
    return f"{value:g}" if isinstance(value, float) else str(value)


def unit_of(quantity):
    """A quantity's unit in words (gateway/unit_words.py) from its UCUM code, else its unit as charted."""
    if quantity.get("system") == codes.UCUM and quantity.get("code"):
        return unit_words(quantity["code"])
    return quantity.get("unit") or ""


def lab_value(obs):
    """The result as text with its unit, and the unit alone."""
    quantity = obs.get("valueQuantity")
    if quantity:
        return _number(quantity.get("value")), unit_of(quantity)
    return obs.get("valueString") or text_of(obs.get("valueCodeableConcept")) or "No value", ""


def lab_range(obs):
    """The reference range as text ("70–99 mg/dL", "below 5.7 %", or the lab's own text)."""
    found = (obs.get("referenceRange") or [{}])[0]
    low, high = (found.get("low") or {}).get("value"), (found.get("high") or {}).get("value")
    unit = unit_of(found.get("low") or found.get("high") or {}).strip()
    if low is not None and high is not None:
        text = f"{_number(low)}–{_number(high)}"
    elif high is not None:
        text = f"up to {_number(high)}"
    elif low is not None:
        text = f"{_number(low)} or more"
    else:
        return found.get("text", "")
    whom = range_whom(found)
    return f"{text} {unit}".strip() + (f" ({whom})" if whom else "")


def range_whom(found):
    """Whom a reference range is for, in words: "ages 6–11", "males 18 and over", "females"."""
    age = found.get("age") or {}
    low, high = (age.get("low") or {}).get("value"), (age.get("high") or {}).get("value")
    sex = next((c.get("display", "") for a in found.get("appliesTo", ()) for c in a.get("coding", ())), "")
    people = {"Female": "females", "Male": "males"}.get(sex, "")
    if low is not None and high is not None:
        ages = f"{_number(low)}–{_number(high)}"
    elif low is not None:
        ages = f"{_number(low)} and over"
    elif high is not None:
        ages = f"up to {_number(high)}"
    else:
        return people
    return f"{people} {ages}" if people else f"ages {ages}"


def lab_flag(obs):
    """The out-of-range flag in words: the lab's interpretation, else a comparison with the range."""
    code = next((c.get("code") for i in obs.get("interpretation", ()) for c in i.get("coding", ())), None)
    if code:
        return FLAG_WORDS.get(code, "")
    value = (obs.get("valueQuantity") or {}).get("value")
    found = (obs.get("referenceRange") or [{}])[0]
    low, high = (found.get("low") or {}).get("value"), (found.get("high") or {}).get("value")
    if value is None:
        return ""
    if high is not None and value > high:
        return "High"
    if low is not None and value < low:
        return "Low"
    return ""


def lab_name(concept):
    """A lab test's everyday name: the consumer-name table by LOINC code (gateway/portal/words.py), else the
    LOINC long name cut before its property and system ("Glucose [Mass/volume] in Serum" -> "Glucose")."""
    for c in (concept or {}).get("coding", ()):
        if c.get("system") == codes.LOINC and c.get("code") in LAB_NAMES:
            return LAB_NAMES[c["code"]]
    text = text_of(concept)
    for cut in (" [", " - ", "/"):
        text = text.split(cut)[0]
    return text.strip()


def loinc_name(concept):
    """The LOINC name of a test, shown on its detail page beside the everyday one."""
    found = next((c for c in (concept or {}).get("coding", ()) if c.get("system") == codes.LOINC), {})
    return found.get("display") or text_of(concept)


def lab_result(obs):
    value, unit = lab_value(obs)
    item = _item(
        obs,
        lab_name(obs.get("code")),
        obs.get("status"),
        obs.get("effectiveDateTime"),
        details=[("LOINC name", loinc_name(obs.get("code")))],
        concepts=[obs.get("code")],
    )
    item.update(value=value, unit=unit, range=lab_range(obs), flag=lab_flag(obs))
    return item


def lab_panels(reports, observations, refs):
    """Lab reports, each with its results in order; results no shared report lists form a last panel."""
    by_ref = {f"Observation/{o['id']}": o for o in observations}
    panels, listed = [], set()
    for report in reports:
        results = [by_ref[r["reference"]] for r in report.get("result", ()) if r.get("reference") in by_ref]
        listed.update(o["id"] for o in results)
        performers = [who(p, refs) for p in report.get("performer", ())]
        item = _item(
            report,
            lab_name(report.get("code")),
            report.get("status"),
            report.get("effectiveDateTime"),
            details=[
                ("LOINC name", loinc_name(report.get("code"))),
                ("Ordered by", performers[0] if performers else ""),
                ("Lab", ", ".join(performers[1:])),
                ("Conclusion", report.get("conclusion")),
            ],
            concepts=[report.get("code")],
        )
        item["results"] = [lab_result(o) for o in results]
        panels.append(item)
    loose = [lab_result(o) for o in observations if o["id"] not in listed]
    if loose:
        panels.append(
            {
                "id": "",
                "type": "DiagnosticReport",
                "name": "Other results",
                "status": "",
                "date": None,
                "end": None,
                "details": [],
                "codes": [],
                "results": loose,
            }
        )
    return panels


def appointment(r, refs):
    actors = [p.get("actor", {}) for p in r.get("participant", ())]
    provider = next((who(a, refs) for a in actors if a.get("reference", "").startswith("Practitioner/")), "")
    place = next((a.get("display", "") for a in actors if a.get("type") == "Location"), "")
    reasons = ", ".join(text_of(c) for c in r.get("reasonCode", ()))
    item = _item(
        r,
        r.get("description") or text_of((r.get("serviceType") or [None])[0]) or "Appointment",
        r.get("status"),
        r.get("start"),
        r.get("end"),
        [("With", provider), ("Where", place), ("Reason", reasons), ("Note", r.get("comment"))],
        [r.get("appointmentType"), *r.get("reasonCode", ())],
    )
    item.update(provider=provider, place=place)
    return item


NOT_HAPPENING = {"cancelled", "noshow", "entered-in-error"}


def _newest_first(items):
    return sorted(items, key=lambda i: i["date"] or "", reverse=True)


def section_items(section, by_type, refs, now_iso):
    """The items of one section from the record's resources (``by_type``: type -> [resource]).

    Lab results come as panels; appointments as ``{"upcoming": [...], "past": [...]}`` (soonest first,
    then newest first); everything else newest first.
    """
    by_type = section_resources(section, by_type)
    if section.slug == "lab-results":
        # Narrative reports (radiology, pathology, cardiology) are read among the visit notes, as documents.
        labs = [r for r in by_type.get("DiagnosticReport", ()) if "LAB" in _category_codes(r)]
        reports = sorted(labs, key=lambda r: r.get("effectiveDateTime") or "", reverse=True)
        return lab_panels(reports, by_type.get("Observation", ()), refs)
    if section.slug == "screenings":
        # One entry per administration: its QuestionnaireResponse holds every answer (the Observations repeat them).
        return _newest_first(screening(r, refs) for r in by_type.get("QuestionnaireResponse", ()))
    if section.slug == "appointments":
        items = [appointment(r, refs) for r in by_type.get("Appointment", ())]
        # A cancelled or missed visit is not upcoming: it is listed among the past ones ("Past and cancelled").
        ahead = [i for i in items if (i["date"] or "") >= now_iso and i["status_code"] not in NOT_HAPPENING]
        upcoming = sorted(ahead, key=lambda i: i["date"])
        return {"upcoming": upcoming, "past": _newest_first(i for i in items if i not in ahead)}
    items = []
    for rtype in section.types:  # a section's own type and those shown inside it (Care team: RelatedPerson)
        build = (
            SECTION_BUILDERS.get(section.slug)
            or ITEM_BUILDERS.get(rtype)
            or functools.partial(entry_item, section.entry)
        )
        items += [build(r, refs) for r in by_type.get(rtype, ())]
    if section.slug == "medications":
        fills = fills_by_prescription(refs)
        for item in items:
            item["fills"] = fills.get(item["id"], [])
    return _newest_first(items)


def find_item(section, by_type, refs, rid, now_iso):
    """One item of a section by FHIR id (a lab result may be a panel or one of its results), or None."""
    items = section_items(section, by_type, refs, now_iso)
    if isinstance(items, dict):
        items = items["upcoming"] + items["past"]
    for item in items:
        if item["id"] == rid:
            return item
        for result in item.get("results", ()):
            if result["id"] == rid:
                return result
    return None
