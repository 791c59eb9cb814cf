"""What a link shares, read as the sharer may see it: the IPS document ($summary, the default), the whole
record ($everything) or chosen record sections, through the record reader the portal and downloads use (the
same access check, so a representative's link holds only what the proxy rule shows them)."""

import uuid

import orjson

from gateway import ips, records
from gateway.record_sections import all_sections, section_by_slug, section_resources

CONTENTS = {
    "summary": "Patient summary (International Patient Summary)",
    "everything": "Whole record",
    "sections": "Chosen sections",
}
PEOPLE = ("Patient", "Practitioner", "Organization")
VISIT = "visit"  # an after-visit summary the practice shares: the Encounter and what was charted at it


class PayloadError(ValueError):
    """A choice of what to share that cannot be served (said in words to the person sharing)."""


def shareable_sections():
    """(slug, title) of the sections a person may pick, in the record's order."""
    return [(s.slug, s.title) for s in all_sections()]


def check_choice(content, slugs):
    """Validate what to share; return (content, sections tuple)."""
    if content not in CONTENTS:
        raise PayloadError("Choose what to share: the patient summary, the whole record or some sections.")
    if content != "sections":
        return content, ()
    chosen = tuple(dict.fromkeys(s for s in slugs if s))
    if not chosen:
        raise PayloadError("Choose at least one section to share.")
    unknown = [s for s in chosen if section_by_slug(s) is None]
    if unknown:
        raise PayloadError(f"There is no section called {unknown[0]!r}.")
    return content, chosen


def build(conn, token, patient_id, content, sections, base, now_iso):
    """(FHIR JSON bytes, number of resources besides the document's own) of what the link shares now."""
    if content == "summary":
        record = records.load_record(conn, token, patient_id, types=ips.ips_types())
        return orjson.dumps(ips.summary_bundle(record, base, now_iso)), len(record.rows)
    if content == "everything":
        records.require_patient(conn, token, patient_id)
        rows = records.patient_record(conn, token, patient_id)
        return _collection([(t, rid, orjson.loads(body)) for t, rid, body in rows], base, now_iso)
    if content == VISIT:
        return _visit(conn, token, patient_id, sections[0], base, now_iso)
    chosen = [section_by_slug(s) for s in sections]
    types = (*PEOPLE, *dict.fromkeys(t for s in chosen for t in s.types))
    record = records.load_record(conn, token, patient_id, types=types)
    kept = {
        f"{t}/{r['id']}" for s in chosen for t, found in section_resources(s, record.by_type).items() for r in found
    }
    rows = [(t, rid, record.refs[f"{t}/{rid}"]) for t, rid, _ in record.rows if t in PEOPLE or f"{t}/{rid}" in kept]
    return _collection(rows, base, now_iso)


def _visit(conn, token, patient_id, encounter_id, base, now_iso):
    record = records.load_record(conn, token, patient_id)
    visit = f"Encounter/{encounter_id}"
    if visit not in record.refs:
        raise PayloadError("There is no such visit in this record.")
    rows = [
        (t, rid, record.refs[f"{t}/{rid}"])
        for t, rid, _ in record.rows
        if t in PEOPLE or f"{t}/{rid}" == visit or _refers_to(record.refs[f"{t}/{rid}"], visit)
    ]
    return _collection(rows, base, now_iso)


def _refers_to(value, reference):
    """Whether a resource holds ``{"reference": reference}`` anywhere (encounter, context.encounter, ...)."""
    if isinstance(value, dict):
        return value.get("reference") == reference or any(_refers_to(v, reference) for v in value.values())
    if isinstance(value, list):
        return any(_refers_to(v, reference) for v in value)
    return False


def _collection(rows, base, now_iso):
    entries = [{"fullUrl": f"{base}/{t}/{rid}", "resource": resource} for t, rid, resource in rows]
    bundle = {"resourceType": "Bundle", "id": str(uuid.uuid4()), "type": "collection", "timestamp": now_iso}
    bundle["entry"] = entries
    return orjson.dumps(bundle), len(entries)
