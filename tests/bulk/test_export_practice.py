"""A backend bound to one practice exports that practice's charts only (issue 14, "Who may export"): its system
and Patient-level exports, the Groups it may read or export, and the members of an operator's Group it sees.

Attacker first: Sunrise's backend asks for Lakeside's Group, an operator's Group mixing both practices, and a job
it started before the operator moved it to another practice.
"""

import time

from gateway.bulk_data import groups
from smart_auth import clients
from smart_auth.tokens import issue_access_token
from tests.bulk.helpers import KICKOFF, exported, ids, kickoff


def stored(db, practice, rtype):
    rows = db.execute(
        "SELECT id FROM resources WHERE type = ? AND practice_id = ? AND deleted = 0 ORDER BY id", (rtype, practice)
    )
    return [r[0] for r in rows]


def test_a_practice_backend_exports_its_own_practice_only(web, bulk_db, bulk_summary, system_token):
    sunrise = bulk_summary["practices"]["sunrise"]
    headers = system_token(client=bulk_summary["sunrise"])
    for path in ("/fhir/$export", "/fhir/Patient/$export"):
        found = ids(exported(web, headers, kickoff(web, headers, path, _type="Patient,Condition")))
        assert found == {
            "Patient": stored(bulk_db, sunrise, "Patient"),
            "Condition": stored(bulk_db, sunrise, "Condition"),
        }
    lakeside = bulk_summary["practices"]["lakeside"]
    assert stored(bulk_db, lakeside, "Patient")  # there was something to leak


def test_another_practices_group_is_not_there(web, bulk_summary, system_token):
    headers = system_token(client=bulk_summary["sunrise"])
    lakeside, sunrise = bulk_summary["practices"]["lakeside"], bulk_summary["practices"]["sunrise"]
    response = web.get(f"/fhir/Group/{lakeside}/$export", headers={**KICKOFF, **headers})
    assert response.status_code == 404
    assert response.get_json()["issue"][0]["diagnostics"] == f"Group/{lakeside} is not known"
    assert web.get(f"/fhir/Group/{lakeside}", headers=headers).status_code == 404
    listed = web.get("/fhir/Group", headers=headers).get_json()
    assert [e["resource"]["id"] for e in listed["entry"]] == [sunrise]


def test_an_operators_group_shows_a_practice_backend_its_own_members_only(web, bulk_db, bulk_summary, system_token):
    sunrise, lakeside = bulk_summary["practices"]["sunrise"], bulk_summary["practices"]["lakeside"]
    ours, theirs = stored(bulk_db, sunrise, "Patient")[0], stored(bulk_db, lakeside, "Patient")[0]
    mixed = groups.add_group(bulk_db, "Registry cohort", [ours, theirs], int(time.time()))
    only_theirs = groups.add_group(bulk_db, "Lakeside cohort", [theirs], int(time.time()))
    headers = system_token(client=bulk_summary["sunrise"])
    group = web.get(f"/fhir/Group/{mixed}", headers=headers).get_json()
    assert [m["entity"]["reference"] for m in group["member"]] == [f"Patient/{ours}"] and group["quantity"] == 1
    assert web.get(f"/fhir/Group/{only_theirs}", headers=headers).status_code == 404
    found = exported(web, headers, kickoff(web, headers, f"/fhir/Group/{mixed}/$export", _type="Patient"))
    assert ids(found) == {"Patient": [ours]}
    everyone = system_token()  # an all-practices backend sees the whole Group
    group = web.get(f"/fhir/Group/{mixed}", headers=everyone).get_json()
    assert sorted(m["entity"]["reference"] for m in group["member"]) == sorted([f"Patient/{ours}", f"Patient/{theirs}"])


def test_a_job_from_before_the_client_was_moved_to_another_practice_is_gone(web, bulk_db, bulk_summary, system_token):
    headers = system_token(client=bulk_summary["sunrise"])
    status = kickoff(web, headers, _type="Patient")
    assert web.get(status, headers=headers).status_code == 200
    clients.bind_client(bulk_db, bulk_summary["sunrise"], practice=bulk_summary["practices"]["lakeside"])
    assert web.get(status, headers=headers).status_code == 401  # binding ended the client's tokens
    # A token of the client as it is now (the token endpoint copies the client's new reach onto it):
    token = issue_access_token(
        bulk_db, bulk_summary["sunrise"], "system/*.rs", practice_reach=bulk_summary["practices"]["lakeside"]
    )
    assert web.get(status, headers={"Authorization": f"Bearer {token}"}).status_code == 404
