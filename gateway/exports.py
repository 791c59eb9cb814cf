"""The files a record can be taken away as: the $everything FHIR Bundle, the IPS document, a printable HTML
summary and a PDF, for the whole record or a care-date range, each named after the person and the day."""

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

import orjson
from flask import render_template

from gateway import ips, records, summary_pdf
from gateway.errors import InvalidSearch
from gateway.fhir.response import bundle
from gateway.record_sections import all_sections, section_items

FORMATS = {
    "fhir": ("Full record (FHIR Bundle, JSON)", "health-record", "json", "application/fhir+json"),
    "ips": (
        "Patient summary (International Patient Summary, FHIR JSON)",
        "patient-summary",
        "json",
        "application/fhir+json",
    ),
    "html": ("Printable summary (web page)", "summary", "html", "text/html; charset=utf-8"),
    "pdf": ("Printable summary (PDF)", "summary", "pdf", "application/pdf"),
}
FHIR_FORMATS = ("fhir", "ips")


class ExportError(ValueError):
    """A download or transmission request that cannot be served as asked (shown to the person as is)."""


@dataclass(frozen=True)
class Export:
    """One file: its name, media type and bytes, and what it holds."""

    filename: str
    mimetype: str
    body: bytes
    fmt: str
    start: str | None
    end: str | None


def check_request(fmt, start, end):
    """Validate a format and an optional inclusive date range (YYYY-MM-DD); return (fmt, start, end)."""
    if fmt not in FORMATS:
        raise ExportError("Choose what to download: the full record, the patient summary or a printable summary.")
    days = []
    for label, value in (("start", start), ("end", end)):
        if value:
            try:
                days.append(dt.date.fromisoformat(value))
            except ValueError:
                raise ExportError(f"The {label} date '{value}' is not a date like 2024-01-31.") from None
    if len(days) == 2 and days[0] > days[1]:
        raise ExportError("The start date is after the end date.")
    return fmt, start or None, end or None


def filename(patient, kind, ext, today, start=None, end=None):
    """``Maria-Garcia_health-record_2026-11-25.json`` (ASCII, with the date range when there is one)."""
    name = (patient.get("name") or [{}])[0]
    words = [*name.get("given", ())[:1], name.get("family", "")]
    ascii_name = unicodedata.normalize("NFKD", " ".join(w for w in words if w)).encode("ascii", "ignore").decode()
    person = re.sub(r"[^A-Za-z0-9]+", "-", ascii_name).strip("-") or "patient"
    span = f"_{start or 'start'}-to-{end or today}" if start or end else ""
    return f"{person}_{kind}{span}_{today}.{ext}"


def build(conn, token, patient_id, fmt, start, end, base, now_iso, context):
    """Build one export of the record the token may see; ``context`` feeds the printable templates."""
    fmt, start, end = check_request(fmt, start, end)
    _, kind, ext, mimetype = FORMATS[fmt]
    try:
        if fmt == "fhir":
            records.require_patient(conn, token, patient_id)
            rows = records.patient_record(conn, token, patient_id, start=start, end=end)
            query = "&".join(f"{k}={v}" for k, v in (("start", start), ("end", end)) if v)
            entries = [(f"{base}/{t}/{rid}", body, "match") for t, rid, body in rows]
            self_url = f"{base}/Patient/{patient_id}/$everything" + (f"?{query}" if query else "")
            body, patient = bundle(len(entries), entries, [("self", self_url)]), _patient(rows)
        else:
            record = records.load_record(conn, token, patient_id, types=ips.ips_types(), start=start, end=end)
            patient = record.patient
            if fmt == "ips":
                body = orjson.dumps(ips.summary_bundle(record, base, now_iso, start, end))
            else:
                sections = [(s, section_items(s, record.by_type, record.refs, now_iso)) for s in all_sections()]
                page = dict(context, sections=sections, patient=patient, start=start, end=end, now=now_iso)
                body = (
                    render_template("portal/summary_print.html", **page).encode()
                    if fmt == "html"
                    else summary_pdf.render(page)
                )
    except InvalidSearch as exc:
        raise ExportError(exc.message) from None
    today = context.get("today") or now_iso[:10]  # the caller's local date, so the name matches "Made ..."
    return Export(filename(patient, kind, ext, today, start, end), mimetype, body, fmt, start, end)


def _patient(rows):
    return next((orjson.loads(body) for t, _, body in rows if t == "Patient"), {})


def transaction_bundle(export):
    """A FHIR transaction Bundle of an export's resources (PUT by id, so a retry updates rather than duplicates)."""
    found = orjson.loads(export.body)
    entries = []
    for entry in found.get("entry", ()):
        resource = entry["resource"]
        url = f"{resource['resourceType']}/{resource['id']}"
        entries.append({"fullUrl": entry["fullUrl"], "resource": resource, "request": {"method": "PUT", "url": url}})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}
