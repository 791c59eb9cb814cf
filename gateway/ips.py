"""The International Patient Summary document (Patient/$summary): a document Bundle whose Composition has
one section per record section, each with a generated narrative and references to its entries.

IPS 1.1 (https://hl7.org/fhir/uv/ips/): Composition.type LOINC 60591-5, sections coded by LOINC; a required
section with nothing in it carries an emptyReason. Appointments are not an IPS section; they get their own.
"""

import uuid
from html import escape

from gateway import record_sections
from gateway.record_sections import all_sections

LOINC = "http://loinc.org"
EMPTY_REASON = "http://terminology.hl7.org/CodeSystem/list-empty-reason"
XHTML = "http://www.w3.org/1999/xhtml"


def ips_types():
    """The resource types the summary reads: the people and places, then every section's types."""
    shown = dict.fromkeys(t for s in all_sections() for t in s.types)
    return ("Patient", "Practitioner", "Organization", *shown)


def _narrative(section, items):
    """A small XHTML table naming each entry, its status and its date (the section's human-readable text)."""
    if isinstance(items, dict):
        items = items["upcoming"] + items["past"]
    rows = []
    for item in items:
        for entry in [item, *item.get("results", ())]:
            value = f" {entry['value']} {entry['unit']}".rstrip() if "value" in entry else ""
            rows.append(
                f"<tr><td>{escape(entry['name'] + value)}</td><td>{escape(entry['status'])}</td>"
                f"<td>{escape((entry['date'] or '')[:10])}</td></tr>"
            )
    if not rows:
        return f'<div xmlns="{XHTML}"><p>{escape(section.empty)}</p></div>'
    head = "<tr><th>Entry</th><th>Status</th><th>Date</th></tr>"
    return f'<div xmlns="{XHTML}"><table><thead>{head}</thead><tbody>{"".join(rows)}</tbody></table></div>'


def _section(section, record, now_iso):
    items = record_sections.section_items(section, record.by_type, record.refs, now_iso)
    shown = record_sections.section_resources(section, record.by_type)
    entries = [{"reference": f"{t}/{r['id']}"} for t in section.types for r in shown[t]]
    found = {
        "title": section.title,
        "code": {"coding": [{"system": LOINC, "code": section.loinc, "display": section.loinc_display}]},
        "text": {"status": "generated", "div": _narrative(section, items)},
    }
    if entries:
        found["entry"] = entries
    else:
        found["emptyReason"] = {"coding": [{"system": EMPTY_REASON, "code": "unavailable", "display": "Unavailable"}]}
    return found


def summary_bundle(record, base, now_iso, start=None, end=None):
    """Return the IPS document Bundle (a dict) for a loaded record; ``start``/``end`` name the period it covers."""
    patient = record.patient
    organization = patient.get("managingOrganization")
    composition = {
        "resourceType": "Composition",
        "id": str(uuid.uuid4()),
        "status": "final",
        "type": {"coding": [{"system": LOINC, "code": "60591-5", "display": "Patient summary Document"}]},
        "subject": {"reference": f"Patient/{record.patient_id}"},
        "date": now_iso,
        "author": [organization or {"display": "fhir-gateway"}],
        "title": "International Patient Summary",
        "confidentiality": "N",
        "section": [_section(s, record, now_iso) for s in all_sections() if s.ips],
    }
    if organization:
        composition["custodian"] = organization
    if start or end:
        period = {k: v for k, v in (("start", start), ("end", end)) if v}
        composition["event"] = [
            {
                "code": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-ActClass", "code": "PCPR"}]}],
                "period": period,
            }
        ]
    bundle_id = str(uuid.uuid4())
    entries = [{"fullUrl": f"urn:uuid:{composition['id']}", "resource": composition}]
    entries += [
        {"fullUrl": f"{base}/{rtype}/{rid}", "resource": record.refs[f"{rtype}/{rid}"]} for rtype, rid, _ in record.rows
    ]
    return {
        "resourceType": "Bundle",
        "id": bundle_id,
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{bundle_id}"},
        "type": "document",
        "timestamp": now_iso,
        "entry": entries,
    }
