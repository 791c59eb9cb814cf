"""One patient's record as a token may see it: what Patient/$everything, $summary, the portal pages and the
downloads all read, through the same access check and the same store search, so they cannot disagree.
"""

import functools
import time
from html.parser import HTMLParser

import orjson

from gateway import store
from gateway.errors import Forbidden, NotFound
from gateway.fhir.access import visibility
from gateway.fhir.search import SearchQuery, Visibility, parse_clause
from mappers import REGISTRY
from smart_auth import proxy_policy
from smart_auth import scopes as smart_scopes
from smart_auth.scopes import parse_scopes
from smart_auth.tokens import AccessToken

RECORD_LIMIT = 100_000
PORTAL_CLIENT = "patient-portal"
PORTAL_SCOPE = "patient/*.rs"


def portal_token(account, record, db=None):
    """The token the portal reads with: the logged-in account, holding patient scopes for the record on screen,
    limited by the same proxy rule as the account's app tokens; None when the rule gives the account nothing."""
    access = proxy_policy.access_of(db or store.current(), account["uid"], record["patient_uid"])
    if access is not None and not access.allowed:
        return None
    return AccessToken(
        PORTAL_CLIENT,
        PORTAL_SCOPE,
        parse_scopes(PORTAL_SCOPE),
        record["patient_uid"],
        account["uid"],
        int(time.time()) + 60,
        withheld=access.withheld if access else (),
        shared=access.shared if access else None,
    )


def reader(conn, config, token):
    """The handle a search or a whole record is read on: with GATEWAY_DATABASE_REPLICA_URL, a replica that has
    replayed the token's person's last write (gateway/store/replicas.py), else ``conn`` (this thread's primary)."""
    urls = config["DATABASE_REPLICAS"]
    if not urls or token is None:
        return conn
    person = store.replicas.person_of(token)
    return store.replicas.reader(conn, urls, person, config["DATABASE_REPLICA_MAX_LAG"])


def require_patient(conn, token, patient_id):
    """Raise NotFound unless the token may read Patient ``patient_id`` (not there and not yours look alike)."""
    if store.read_resource(conn, "Patient", patient_id, visibility(token, "read", "Patient")) is None:
        raise NotFound(f"Patient/{patient_id} is not known")


def date_clauses(rtype, start=None, end=None, since=None):
    """Search clauses for a care-date range (inclusive, partial dates allowed) and a ``_lastUpdated`` floor.

    The range filters on each type's registered care date ($everything "start"/"end" relate to care dates,
    not record currency: https://hl7.org/fhir/R4/operation-patient-everything.html); types without one
    are always included.
    """
    clauses = []
    if since:
        clauses.append(parse_clause(rtype, "_lastUpdated", "ge" + since))
    care_date = REGISTRY[rtype].care_date
    if care_date:
        if start:
            clauses.append(parse_clause(rtype, care_date, "ge" + start))
        if end:
            clauses.append(parse_clause(rtype, care_date, "le" + end))
    return clauses


def patient_record(conn, token, patient_id, types=None, start=None, end=None, since=None):
    """Return ``[(type, id, json bytes)]``: the patient's compartment plus the Practitioners and Organizations
    it references, limited to what ``token`` may search, in registry order (Patient first).

    Types the token may not see are left out rather than refused; a malformed date raises InvalidSearch.
    Every type read whole (no date clause, no granular filter) comes from one statement; the others from
    a search each.
    """
    wanted = record_types(frozenset(types) if types else None)
    quick = () if start or end or since else patient_wide(token, patient_id, wanted)
    whole, searched = {}, {}  # whole: the practice a type is held to (None: any) -> the types read whole
    for rtype in wanted:
        if rtype in quick:
            whole.setdefault(None, []).append(rtype)
            continue
        try:
            seen = visibility(token, "search", rtype)
        except Forbidden:
            continue
        if seen.patient not in (None, patient_id):
            raise NotFound(f"Patient/{patient_id} is not known")
        clauses = date_clauses(rtype, start, end, since)
        if not clauses and seen.filters is None and not seen.withheld:
            whole.setdefault(seen.practice, []).append(rtype)  # read whole: one statement below serves them all
            continue
        query = SearchQuery(rtype, clauses, count=RECORD_LIMIT)
        _, rows, _, _ = store.search(
            conn,
            query,
            Visibility(patient_id, seen.filters, directory=False, practice=seen.practice, withheld=seen.withheld),
        )
        searched[rtype] = [(rtype, rid, body) for _, rid, body in rows]
    rows = [row for held, kinds in whole.items() for row in store.record_rows(conn, patient_id, kinds, held)]
    if not searched and len(whole) <= 1:
        return rows
    found = {**searched}
    for row in rows:
        found.setdefault(row[0], []).append(row)
    return [row for rtype in REGISTRY for row in found.get(rtype, ())]


@functools.lru_cache(maxsize=256)
def record_types(types=None):
    """The types a record is read of, in registry order: ``types`` (a frozenset; None: all) but no definition (a
    form is no part of anyone's record, though its canonical is cited)."""
    return tuple(t for t in REGISTRY if (not types or t in types) and not REGISTRY[t].definitional)


def patient_wide(token, patient_id, types):
    """The ``types`` the token reads whole in ``patient_id``'s record: decided from its scopes alone (cached), and
    only for a patient-context token with nothing withheld or shared piecemeal (visibility's other inputs);
    NotFound when such a token is of another patient, as visibility's Decision would say."""
    if not token.patient_id or token.withheld or token.shared is not None:
        return frozenset()
    quick = smart_scopes.patient_wide(token.scopes, "search", types)
    if quick and token.patient_id != patient_id:
        raise NotFound(f"Patient/{patient_id} is not known")
    return quick


class Record:
    """A loaded record: the stored rows, and the parsed resources by type and by ``Type/id``."""

    def __init__(self, patient_id, rows):
        self.patient_id, self.rows = patient_id, rows
        self.by_type, self.refs = {}, {}
        for rtype, rid, body in rows:
            resource = orjson.loads(body)
            self.by_type.setdefault(rtype, []).append(resource)
            self.refs[f"{rtype}/{rid}"] = resource

    @property
    def patient(self):
        return self.refs.get(f"Patient/{self.patient_id}", {})

    def count(self, *types):
        return sum(len(self.by_type.get(t, ())) for t in types)


def load_record(conn, token, patient_id, **filters):
    """The patient's record as ``token`` may see it (see patient_record for ``filters``), parsed."""
    require_patient(conn, token, patient_id)
    return Record(patient_id, patient_record(conn, token, patient_id, **filters))


class _NoteText(HTMLParser):
    """An HTML note as plain text: its words only, script and style dropped, paragraphs and breaks as new lines."""

    SKIP = {"script", "style"}
    BREAKS = {"p", "br", "div", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts, self.skipping = [], 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def html_text(markup):
    """The words of an HTML note, never its markup: the portal shows them escaped, as any text."""
    parser = _NoteText()
    parser.feed(markup)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def note_document(conn, record, note_id):
    """(content type, bytes) of a note's document when its DocumentReference is in ``record``, else None."""
    if f"DocumentReference/{note_id}" not in record.refs:
        return None
    return store.note_document(conn, note_id)


def attach_note_texts(conn, record, items):
    """Give each note item of the record its document's words (``text``); a PDF keeps only its link."""
    for item in items:
        found = note_document(conn, record, item["id"])
        if found is None:
            continue
        content_type, data = found
        if content_type == "text/html":
            item["text"] = html_text(data.decode("utf-8", "replace"))
        elif content_type.startswith("text/"):
            item["text"] = data.decode("utf-8", "replace")
    return items
