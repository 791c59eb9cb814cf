"""Group resources: one per practice (its patients, ``actual: true``) and the operator's own, and the one
answer to which patients an export covers (``export_patients``)."""

import datetime as dt
import secrets

from gateway.errors import Forbidden, NotFound
from gateway.fhir.access import practice_reach
from gateway.store import export_jobs as jobs_store
from smart_auth import scopes as smart_scopes


def _member_list(patient_ids):
    return [{"entity": {"reference": f"Patient/{pid}"}} for pid in patient_ids]


def _group(group_id, name, last_updated, patient_ids, managing=None):
    resource = {
        "resourceType": "Group",
        "id": group_id,
        "meta": {"lastUpdated": last_updated},
        "active": True,
        "type": "person",
        "actual": True,
        "name": name,
        "quantity": len(patient_ids),
    }
    if managing:
        resource["managingEntity"] = {"reference": f"Organization/{managing}"}
    resource["member"] = _member_list(patient_ids)
    return resource


def _instant(seconds):
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def all_groups(conn, practice=None, group_id=None):
    """Every Group a caller reaching ``practice`` (an Organization id; None: every practice) may see, as resources
    (only the one ``group_id``, when given: a read builds that Group alone).

    A practice's Group (id = its Organization id) is seen by that practice's backends; an operator's Group by
    each practice's backends with only that practice's members, and not at all when it has none of them, so a
    backend bound to one practice learns no other practice's patient ids (issue 14, "Who may export").
    """
    found = [
        _group(org, f"{name}: all patients", updated, jobs_store.live_patients(conn, org), org)
        for org, name, updated in jobs_store.practices(conn, group_id)
        if practice is None or org == practice
    ]
    operators = jobs_store.operator_groups(conn, group_id)
    mine = None if practice is None or not operators else set(jobs_store.live_patients(conn, practice))
    for gid, name, created, members in operators:
        if mine is not None:
            members = [m for m in members if m in mine]
            if not members:
                continue
        found.append(_group(gid, name, _instant(created), members))
    return found


def find_group(conn, group_id, practice=None):
    """The Group ``group_id`` as a caller reaching ``practice`` sees it (see all_groups), or None."""
    return next(iter(all_groups(conn, practice, group_id)), None)


def require_group_reader(token):
    """Groups list patients across charts: only system/ tokens that may read Group see them (else 403).

    Returns the practice the token reaches (None: every practice), which bounds the Groups it sees.
    """
    decision = smart_scopes.decide(token.scopes, "read", "Group", token.patient_id)
    if decision is None or decision.context != "system":
        raise Forbidden("Groups are read with a backend service's system/ token (system/Group.rs)")
    return practice_reach(token)


def export_patients(conn, token, group_id=None):
    """The FHIR ids of the patients an export by ``token`` covers, or None for every patient.

    The one place that decides it: every patient for a system or Patient-level export, the Group's members for
    a Group export (NotFound for an unknown Group, or one of another practice). A backend bound to one practice
    sees its own practice's Group and its own patients of an operator's Group; the rows themselves are held to
    its practice by the same Visibility that holds its searches (gateway.store.search.where_sql).
    """
    practice = practice_reach(token)
    if group_id is None:
        return None
    found = find_group(conn, group_id, practice)
    if found is None:
        raise NotFound(f"Group/{group_id} is not known")
    return [m["entity"]["reference"].split("/", 1)[1] for m in found["member"]]


def add_group(conn, name, patient_ids, now):
    """Define a Group of existing patients; return its id. ValueError names patients that are not known."""
    known = set(jobs_store.live_patients(conn))
    unknown = [p for p in patient_ids if p not in known]
    if unknown:
        raise ValueError(f"no such patients: {', '.join(unknown)}")
    if not name.strip():
        raise ValueError("a Group needs a name")
    group_id = "group-" + secrets.token_hex(8)
    jobs_store.add_group(conn, group_id, name.strip(), list(dict.fromkeys(patient_ids)), now)
    return group_id
