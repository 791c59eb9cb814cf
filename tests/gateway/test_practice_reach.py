"""A backend token bound to one practice sees that practice's charts and directory only (issue 14, "Who may
export"); a token of an all-practices client sees every practice.

Attacker first: a token of Sunrise Family Medicine ("A") asks for Lakeside Pediatrics' ("B") resources every way
the API offers and gets exactly what a missing id or an empty search gives.
"""

import contextlib

import orjson
import pytest

from gateway import store
from smart_auth.tokens import ALL_PRACTICES, issue_access_token

FHIR = "/fhir"
BASE = "http://gateway.test/fhir"
LAB = "system/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory"


@pytest.fixture(scope="module")
def demo_ids(demo_db_path):
    """Per practice (A = Sunrise, B = Lakeside): its Organization id and its resources' ids by type."""
    with contextlib.closing(store.connect(demo_db_path)) as conn:
        practices = [uid for (uid,) in conn.execute("SELECT uid FROM practices ORDER BY id")]
        ids = {uid: {} for uid in practices}
        for rtype, rid, practice in conn.execute("SELECT type, id, practice_id FROM resources ORDER BY pk"):
            if practice is not None:  # a definition (a screening form) is no practice's
                ids[practice].setdefault(rtype, []).append(rid)
    return {"A": (practices[0], ids[practices[0]]), "B": (practices[1], ids[practices[1]])}


@pytest.fixture(scope="module")
def web(make_app):
    return make_app(TESTING=True, BASE_URL="http://gateway.test").test_client()


@pytest.fixture
def practice_a(auth, demo_ids):
    return auth("system/*.rs", practice=demo_ids["A"][0])


def get(web, headers, path, expect=200):
    response = web.get(f"{FHIR}/{path}", headers=headers)
    assert response.status_code == expect, response.get_json(force=True)
    return response.get_json(force=True)


def missing(web, headers, rtype, rid):
    """What the server answers for an id nothing has, with ``rid`` in its place: the answer "not yours" must give."""
    body = get(web, headers, f"{rtype}/no-such-{rtype.lower()}", expect=404)
    return orjson.loads(orjson.dumps(body).replace(f"no-such-{rtype.lower()}".encode(), rid.encode()))


def ids_of(bundle, mode=None):
    return [e["resource"]["id"] for e in bundle.get("entry", ()) if mode is None or e["search"]["mode"] == mode]


READ_TYPES = [
    "Patient",
    "Condition",
    "Observation",
    "Encounter",
    "DocumentReference",
    "Organization",
    "Practitioner",
    "PractitionerRole",
    "Location",
]


@pytest.mark.parametrize("rtype", READ_TYPES)
def test_a_practice_token_reads_another_practices_resource_as_missing(web, practice_a, demo_ids, rtype):
    theirs = demo_ids["B"][1][rtype][0]
    assert get(web, practice_a, f"{rtype}/{theirs}", expect=404) == missing(web, practice_a, rtype, theirs)
    ours = demo_ids["A"][1][rtype][0]
    assert get(web, practice_a, f"{rtype}/{ours}")["id"] == ours


@pytest.mark.parametrize("rtype", READ_TYPES)
def test_a_practice_token_searches_its_own_practice_only(web, practice_a, demo_ids, rtype):
    bundle = get(web, practice_a, f"{rtype}?_count=1000")
    assert ids_of(bundle) == demo_ids["A"][1][rtype]
    assert bundle["total"] == len(demo_ids["A"][1][rtype])


def test_searching_another_practices_patient_finds_nothing(web, practice_a, demo_ids):
    theirs = demo_ids["B"][1]["Patient"][0]
    for path in (f"Condition?patient={theirs}", f"Patient?_id={theirs}", f"Observation?subject=Patient/{theirs}"):
        bundle = get(web, practice_a, path)
        assert (bundle["total"], ids_of(bundle)) == (0, []), path


def test_revinclude_and_include_of_another_practice_give_nothing(web, practice_a, demo_ids):
    theirs = demo_ids["B"][1]["Patient"][0]
    bundle = get(
        web,
        practice_a,
        f"Patient?_id={theirs}&_revinclude=Condition:patient&_revinclude=Provenance:target"
        "&_include=Patient:general-practitioner&_include=Patient:organization",
    )
    assert (bundle["total"], ids_of(bundle)) == (0, [])


def test_an_include_never_crosses_into_another_practice(fresh_demo_db_path, make_app, demo_ids):
    """A chart of A that points at B's clinician (an EHR data error) still includes nothing of B's."""
    db = store.connect(fresh_demo_db_path)
    (a_uid, a_ids), b_ids = demo_ids["A"], demo_ids["B"][1]
    encounter = store.chart_rows(db, "encounters", uid=a_ids["Encounter"][0])[0]
    their_clinician = store.chart_rows(db, "providers", uid=b_ids["Practitioner"][0])[0]
    store.update_row(db, "encounters", encounter["id"], {"provider_id": their_clinician["id"]})
    web = make_app(fresh_demo_db_path, TESTING=True, BASE_URL="http://gateway.test").test_client()
    tokens = {reach: _token(db, "system/*.rs", reach) for reach in (a_uid, ALL_PRACTICES)}
    path = f"Encounter?_id={encounter['uid']}&_include=Encounter:practitioner"
    assert ids_of(get(web, tokens[a_uid], path), "include") == []
    assert ids_of(get(web, tokens[ALL_PRACTICES], path), "include") == [their_clinician["uid"]]
    # $everything reads the record in one statement (gateway.store.search.record_rows): held to A there too.
    patient = store.chart_row(db, "patients", encounter["patient_id"])["uid"]
    everything = f"Patient/{patient}/$everything"
    assert their_clinician["uid"] not in ids_of(get(web, tokens[a_uid], everything))
    assert their_clinician["uid"] in ids_of(get(web, tokens[ALL_PRACTICES], everything))


def _token(db, scope, practice):
    from smart_auth.tokens import issue_access_token

    return {"Authorization": f"Bearer {issue_access_token(db, 'ehr', scope, practice_reach=practice)}"}


def test_everything_of_another_practices_patient_is_missing(web, practice_a, demo_ids):
    theirs, ours = demo_ids["B"][1]["Patient"][0], demo_ids["A"][1]["Patient"][0]
    assert get(web, practice_a, f"Patient/{theirs}/$everything", expect=404) == missing(
        web, practice_a, "Patient", theirs
    )
    record = get(web, practice_a, f"Patient/{ours}/$everything")
    assert record["entry"][0]["resource"]["id"] == ours
    b_ids = {rid for rids in demo_ids["B"][1].values() for rid in rids}
    assert not b_ids & set(ids_of(record))


def test_provenance_and_binary_of_another_practice_are_missing(web, practice_a, demo_ids):
    condition, document = demo_ids["B"][1]["Condition"][0], demo_ids["B"][1]["DocumentReference"][0]
    assert get(web, practice_a, f"Provenance/Condition-{condition}", expect=404)["resourceType"] == "OperationOutcome"
    assert get(web, practice_a, f"Binary/{document}", expect=404)["resourceType"] == "OperationOutcome"
    ours = demo_ids["A"][1]["Condition"][0]
    assert get(web, practice_a, f"Provenance/Condition-{ours}")["target"] == [{"reference": f"Condition/{ours}"}]


@pytest.mark.parametrize("path", ["{rtype}/{rid}/_history/1", "{rtype}/{rid}/_history"])
def test_history_and_vread_of_another_practice_are_missing(web, practice_a, demo_ids, path):
    rid = demo_ids["B"][1]["Patient"][0]
    response = web.get(f"{FHIR}/" + path.format(rtype="Patient", rid=rid), headers=practice_a)
    assert response.status_code == 404
    assert response.get_json(force=True)["resourceType"] == "OperationOutcome"


def test_an_all_practices_token_sees_both_practices(web, auth, demo_ids):
    everyone = auth("system/*.rs", practice=ALL_PRACTICES)
    both = demo_ids["A"][1]["Patient"] + demo_ids["B"][1]["Patient"]
    assert sorted(ids_of(get(web, everyone, "Patient?_count=1000"))) == sorted(both)
    theirs = demo_ids["B"][1]["Condition"][0]
    assert get(web, everyone, f"Condition/{theirs}")["id"] == theirs


def test_a_system_token_bound_to_no_practice_is_refused(web, demo, demo_ids):
    """A token row from before practices bound backend clients, in a database of several practices."""
    import secrets
    import time

    token = secrets.token_urlsafe(16)
    with store.transaction(demo):
        store.save_token(demo, token, "legacy", "system/*.rs", None, None, int(time.time()), int(time.time()) + 60)
    body = get(web, {"Authorization": f"Bearer {token}"}, "Patient", expect=403)
    assert body["issue"][0]["diagnostics"] == (
        "This system token is bound to no practice: an operator binds its client with "
        "`fhir-gateway client bind CLIENT_ID --practice ID` (or --all-practices)"
    )


def test_granular_system_scopes_still_filter_within_the_practice(web, auth, demo_db_path, demo_ids):
    a_uid = demo_ids["A"][0]
    with contextlib.closing(store.connect(demo_db_path)) as conn:
        rows = conn.execute(
            "SELECT id, json FROM resources WHERE type = 'Observation' AND practice_id = ? ORDER BY pk", [a_uid]
        )
        found = [(rid, '"code":"laboratory"' in body.decode()) for rid, body in rows]
    labs, others = [rid for rid, lab in found if lab], [rid for rid, lab in found if not lab]
    token = auth(LAB, practice=a_uid)
    assert (ids_of(get(web, token, "Observation?_count=1000")), len(labs) > 0) == (labs, True)
    assert get(web, token, f"Observation/{labs[0]}")["id"] == labs[0]
    assert get(web, token, f"Observation/{others[0]}", expect=404)["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("reach, expected", [("org-a", "org-a"), (ALL_PRACTICES, None)])
def test_practice_reach_is_the_one_line_an_export_asks(reach, expected):
    """gateway.fhir.access.practice_reach: the Organization id a system/ token is held to, None for every one."""
    from gateway.fhir.access import practice_reach
    from smart_auth.scopes import parse_scopes
    from smart_auth.tokens import AccessToken

    token = AccessToken("ehr", "system/*.rs", parse_scopes("system/*.rs"), None, None, 0, reach)
    assert practice_reach(token) == expected


def test_practice_reach_of_an_unbound_token_is_forbidden():
    from gateway.errors import Forbidden
    from gateway.fhir.access import practice_reach
    from smart_auth.scopes import parse_scopes
    from smart_auth.tokens import AccessToken

    with pytest.raises(Forbidden) as caught:
        practice_reach(AccessToken("ehr", "system/*.rs", parse_scopes("system/*.rs"), None, None, 0))
    assert str(caught.value).startswith("This system token is bound to no practice")


@pytest.fixture
def staff_of(demo, demo_db_path):
    """Authorization headers of a user/*.rs token issued to a staff user of the practice with Organization id."""

    def make(practice_uid, subject=None):
        if subject is None:
            with contextlib.closing(store.connect(demo_db_path)) as conn:
                (subject,) = conn.execute(
                    "SELECT s.uid FROM staff_users s JOIN practices p ON p.id = s.practice_id WHERE p.uid = ?"
                    " ORDER BY s.id LIMIT 1",
                    (practice_uid,),
                ).fetchone()
        token = issue_access_token(demo, "test-client", "user/*.rs", subject=subject)
        return {"Authorization": f"Bearer {token}"}

    return make


def test_a_user_token_sees_its_staff_users_practice_only(web, staff_of, demo_ids):
    """A user/ scope reaches the charts of its staff user's practice, as on the practice API, not every practice."""
    a_staff = staff_of(demo_ids["A"][0])
    theirs, ours = demo_ids["B"][1]["Patient"][0], demo_ids["A"][1]["Patient"][0]
    assert get(web, a_staff, f"Patient/{theirs}", expect=404) == missing(web, a_staff, "Patient", theirs)
    assert get(web, a_staff, f"Patient/{ours}")["id"] == ours
    assert sorted(ids_of(get(web, a_staff, "Patient?_count=100"))) == sorted(demo_ids["A"][1]["Patient"])


def test_a_user_token_of_no_staff_user_reaches_nothing(web, staff_of, demo_ids):
    nobody = staff_of(demo_ids["A"][0], subject="not-a-staff-user")
    body = get(web, nobody, "Patient", expect=403)
    assert body["issue"][0]["diagnostics"] == "A user/ token must be issued to a practice staff user"
