"""Logging every disclosure of a record, and reading the log back as the access history a person reads."""

import datetime as dt
import time

import orjson

from gateway import store
from gateway.store import disclosures as disclosure_store
from gateway.store import oauth as oauth_store
from gateway.web.locale_dates import when_text
from mappers import REGISTRY
from smart_auth.tokens import CLI_CLIENT

PATIENT_KINDS = ("read", "download", "transmit", "view", "shared")
STAFF_KINDS = (*PATIENT_KINDS, "staff")
FORMAT_NAMES = {
    "fhir": "the full record as a FHIR Bundle",
    "ips": "an International Patient Summary",
    "html": "a printable summary",
    "pdf": "a PDF summary",
}


def _now_ms():
    return int(time.time() * 1000)


def log_api_read(db_path, token, patient_id, types, count):
    """One row per FHIR request that disclosed a patient's data: which app, which types, how many resources."""
    disclosure_store.insert_read(
        store.access_log(db_path), _now_ms(), patient_id, token.client_id, token.subject, ",".join(sorted(types)), count
    )


def log_view(account, record, what):
    """A representative (not the patient) looked at the record in the portal."""
    _insert(record["patient_uid"], "view", account["uid"], what)


def log_staff(staff, patient_id, what):
    """A staff member looked at the chart in the console (shown to the practice, not the patient)."""
    _insert(patient_id, "staff", staff["uid"], what, detail={"name": staff["name"]})


def log_download(account, record, fmt, start, end, filename):
    _insert(record["patient_uid"], "download", account["uid"], fmt, detail=_content(fmt, start, end, filename))


def log_transmission(account, record, fmt, start, end, recipient, outcome, message):
    """Log one attempt to send a record (email or FHIR endpoint) with its outcome in words."""
    detail = {**_content(fmt, start, end), "message": message}
    _insert(record["patient_uid"], "transmit", account["uid"], fmt, recipient=recipient, outcome=outcome, detail=detail)


def log_shared_link(link, recipient, count):
    """Someone opened a SMART Health Link to the record: who they said they were, and how much it held."""
    detail = {"label": link["label"], "count": count, "content": link["content"]}
    _insert(link["patient_uid"], "shared", link["account_uid"], link["uid"], recipient=recipient, detail=detail)


def _content(fmt, start, end, filename=None):
    return {"format": fmt, "start": start, "end": end, "filename": filename}


def _insert(patient_id, kind, actor, what, recipient=None, outcome=None, detail=None):
    row = {
        "at": _now_ms(),
        "patient_id": patient_id,
        "kind": kind,
        "actor": actor,
        "what": what,
        "count": 1,
        "recipient": recipient,
        "outcome": outcome,
        "detail": orjson.dumps(detail).decode() if detail else None,
    }
    conn = store.current()
    with store.transaction(conn):
        disclosure_store.insert_disclosure(conn, row)


def _ms(day, next_day=False):
    moment = dt.datetime.combine(day + dt.timedelta(days=1 if next_day else 0), dt.time(), dt.timezone.utc)
    return int(moment.timestamp() * 1000)


def history(patient_id, people, staff=False, client_id=None, start=None, end=None):
    """The record's access history, newest first, in words; ``people`` maps account uids to names.

    ``start``/``end`` are dates (inclusive, UTC days); ``client_id`` keeps one app's reads.
    """
    rows = disclosure_store.history(
        store.current(),
        patient_id,
        STAFF_KINDS if staff else PATIENT_KINDS,
        client_id,
        _ms(start) if start else None,
        _ms(end, next_day=True) if end else None,
    )
    practice = disclosure_store.practice_name_of_patient(store.current(), patient_id)
    apps = app_names({r["client_id"] for r in rows if r["client_id"]}, practice)
    return [describe(row, apps, people) for row in rows]


def app_names(client_ids, practice=None):
    """Registered app names by client id.

    A client id the server has no registration for is a token the operator issued from the command line
    (``fhir-gateway token issue``): the practice's own system, named so, with the id only when it is not
    the command's default.
    """
    names = {}
    for client_id in client_ids:
        client = oauth_store.client_by_id(store.current(), client_id)
        if client:
            names[client_id] = client["name"]
        elif practice:
            names[client_id] = f"{practice}'s system" + ("" if client_id == CLI_CLIENT else f" ({client_id})")
        else:
            names[client_id] = client_id
    return names


def items_read(count):
    """ "read 1 item", "read 4 items"."""
    return f"read {count} item" if count == 1 else f"read {count:,} items"


def _items(count):
    return f"{count} item" if count == 1 else f"{count:,} items"


def kinds_read(types):
    """The kinds of information read, in the registry's order and plain words: "Health problems, results"."""
    labels = [REGISTRY[t].words.label if t in REGISTRY and REGISTRY[t].words else t for t in REGISTRY if t in types]
    labels += sorted(t for t in types if t not in REGISTRY)
    return ", ".join(label if n == 0 else label[0].lower() + label[1:] for n, label in enumerate(labels))


# How a transmission ended, in the words of the access history (gateway/transmit.py's Result outcomes).
OUTCOME_WORDS = {"sent": "Sent", "queued": "Queued to be sent", "kept": "Kept in the outbox, not sent"}


def describe(row, apps, people):
    """One history row as ``who``, ``action``, ``detail`` and its time span (``at``/``first_at``, ISO)."""
    detail = orjson.loads(row["detail"]) if row["detail"] else {}
    person = people.get(row["actor"]) or detail.get("name") or "Someone"
    kind = row["kind"]
    if kind == "read":
        who, action = apps.get(row["client_id"], row["client_id"]), items_read(row["count"])
        text = kinds_read(set(row["what"].split(",")) - {""})
    elif kind == "download":
        who, action, text = person, "downloaded " + FORMAT_NAMES.get(row["what"], row["what"]), _range(detail)
    elif kind == "transmit":
        who, action = person, f"sent {FORMAT_NAMES.get(row['what'], row['what'])} to {row['recipient']}"
        text = f"{OUTCOME_WORDS.get(row['outcome'], 'Failed')}: {detail.get('message', '')}".rstrip(": ")
    elif kind == "shared":
        label = f"'{detail['label']}'" if detail.get("label") else "made by " + person
        who, action, text = f"'{row['recipient']}'", f"opened shared link {label}", _items(detail.get("count", 0))
    else:
        who, action, text = person, "viewed the record" if kind == "view" else row["what"], ""
        if row["requests"] > 1:
            text = f"{row['requests']} pages"
    return {
        "id": row["id"],
        "kind": kind,
        "who": who,
        "action": action,
        "detail": text,
        "client_id": row["client_id"],
        "outcome": row["outcome"],
        "at": _iso(row["at"]),
        "first_at": _iso(row["first_at"]),
        "requests": row["requests"],
    }


def _range(detail):
    if detail.get("start") or detail.get("end"):
        start, end = when_text(detail.get("start")) or "the beginning", when_text(detail.get("end")) or "today"
        return f"care from {start} to {end}"
    return "whole record"


def _iso(ms):
    return dt.datetime.fromtimestamp(ms / 1000, dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
