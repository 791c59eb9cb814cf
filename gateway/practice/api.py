"""The practice JSON API: enrollment for practice systems (invite, resend, cancel, re-invite, revoke, status).

Authorized by a bearer token asking ``decide`` about the Patient resource: reading status needs ``r`` on
Patient and changing who may see a chart needs ``u`` (``user/Patient.u``, ``user/Patient.cruds``,
``system/Patient.write`` ...). ``patient/`` scopes never qualify. A ``user/`` token acts for the practice of
the staff user it was issued to (its subject); a ``system/`` token is the EHR's back end and acts for the practice
its client is registered for (or for any, when the operator registered it for all practices). Errors are JSON:
``{"error": ..., "message": ...}`` with the HTTP status.
"""

from flask import Blueprint, current_app, jsonify, request

from gateway import store
from gateway.store import enrollment as enrollment_store
from gateway.web.csrf import exempt
from gateway.web.enrollment_context import enrollment_context
from gateway.web.json_input import request_json
from smart_auth import enrollment, scopes, tokens
from smart_auth.enrollment_status import chart_parties

bp = Blueprint("practice_api", __name__, url_prefix="/practice/api")
MAX_PEOPLE = 20
FIELD_LIMITS = {"relation": 20, "email": 254, "phone": 40}  # 254: the longest usable address (RFC 5321 4.5.3.1)


class ApiError(Exception):
    def __init__(self, status, error, message, **extra):
        super().__init__(message)
        self.status, self.error, self.message, self.extra = status, error, message, extra


@bp.errorhandler(ApiError)
def api_error(exc):
    response = jsonify({"error": exc.error, "message": exc.message, **exc.extra})
    response.status_code = exc.status
    if exc.status == 401:
        response.headers["WWW-Authenticate"] = f'Bearer realm="practice", error="{exc.error}"'
    return response


@bp.errorhandler(enrollment.EnrollmentError)
def enrollment_error(exc):
    error = {404: "not_found", 409: "conflict"}.get(exc.status, "invalid_request")
    status = exc.status if exc.status in (404, 409) else 400
    return api_error(ApiError(status, error, str(exc), problems=exc.problems))


def caller(interaction):
    """(practice id or None for any, actor label) for the bearer token, or ApiError 401 / 403."""
    try:
        token = tokens.authenticate_header(store.current(), request.headers.get("Authorization", ""))
    except tokens.MissingToken:
        raise ApiError(401, "invalid_token", "Send a bearer token in the Authorization header.")
    except tokens.InvalidToken as exc:
        raise ApiError(401, "invalid_token", str(exc))
    decision = scopes.decide(token.scopes, interaction, "Patient", None)
    if decision is None or decision.filters is not None:
        need = "Patient.r" if interaction == "read" else "Patient.u"
        raise ApiError(403, "insufficient_scope", f"This needs user/{need} or system/{need} (or wider).")
    if decision.context == "system":
        return _system_practice(token), f"api client {token.client_id}"
    staff = enrollment_store.staff_by_uid(store.current(), token.subject or "")
    if staff is None:
        raise ApiError(403, "insufficient_scope", "A user/ token must be issued to a practice staff user.")
    return staff["practice_id"], f"api client {token.client_id} for staff {staff['email']}"


def _system_practice(token):
    """The practice row id a system/ token acts for (None: every practice), or ApiError 403 when bound to none."""
    try:
        reach = tokens.practice_reach(token)
    except tokens.NoPractice as exc:
        raise ApiError(403, "insufficient_scope", str(exc))
    if reach is None:
        return None
    found = store.chart_rows(store.current(), "practices", uid=reach)
    return found[0]["id"] if found else -1  # a practice since removed: it reaches no chart


def _patient(practice_id, patient_uid):
    rows = store.chart_rows(store.current(), "patients", uid=patient_uid)
    if not rows or (practice_id is not None and rows[0]["practice_id"] != practice_id):
        raise ApiError(404, "not_found", "No such patient.")
    return rows[0]


def invitees(body):
    """The ``people`` rows of an invite request, each checked for JSON types and lengths, else ApiError 400."""
    if not isinstance(body, dict) or not isinstance(body.get("people"), list):
        raise ApiError(400, "invalid_request", 'Send JSON like {"people": [{"relation": "self", "email": "..."}]}.')
    if len(body["people"]) > MAX_PEOPLE:
        _invalid(f"Invite at most {MAX_PEOPLE} people at a time.")
    for number, person in enumerate(body["people"], start=1):
        if not isinstance(person, dict):
            _invalid(f"Person {number}: send an object with relation, email and phone.")
        who = "The patient" if person.get("relation") == "self" else f"Person {number}"
        for field, limit in FIELD_LIMITS.items():
            value = person.get(field)
            if value is not None and not isinstance(value, str):
                _invalid(f"{who}: {field} must be a string.")
            if value is not None and len(value) > limit:
                _invalid(f"{who}: {field} is longer than {limit} characters.")
        if not isinstance(person.get("text_link", False), bool):
            _invalid(f"{who}: text_link must be true or false.")
    return body["people"]


def _invalid(problem):
    raise ApiError(400, "invalid_request", problem, problems=[problem])


def invite_json(invite, secret):
    return {
        "id": invite["uid"],
        "patient": invite["patient_uid"],
        "relation": invite["relation"],
        "email": invite["email"],
        "phone": invite["phone"],
        "status": invite["status"],
        "access_code": enrollment.access_code(secret, invite),
        "created_at": invite["created_at"],
        "sent_at": invite["sent_at"],
        "finalize": bool(invite["finalize"]),
    }


def party_json(party):
    return {
        "relation": party["relation"],
        "email": party["email"],
        "phone": party["phone"],
        "status": party["status"],
        "label": party["label"],
        "account_email": party["account_email"],
        "access_code": party["access_code"],
        "invite": party["invite"]["uid"] if party["invite"] else None,
        "link": party["link"]["uid"] if party["link"] else None,
        "invited_at": party["invite"]["created_at"] if party["invite"] else None,
    }


@bp.get("/patients/<patient_uid>/enrollment")
def status(patient_uid):
    practice_id, _ = caller("read")
    patient = _patient(practice_id, patient_uid)
    parties = chart_parties(store.current(), current_app.config["SECRET_KEY"], patient["id"])
    return jsonify({"patient": patient["uid"], "people": [party_json(p) for p in parties]})


@bp.post("/patients/<patient_uid>/invites")
@exempt
def invite(patient_uid):
    practice_id, actor = caller("update")
    patient = _patient(practice_id, patient_uid)
    people = invitees(request_json())
    ctx = enrollment_context()
    made = enrollment.invite_people(ctx, patient, people, actor)
    return jsonify({"invites": [invite_json(i, ctx.secret) for i in made]}), 201


@bp.get("/invites/<invite_uid>")
def invite_status(invite_uid):
    practice_id, _ = caller("read")
    found = enrollment.invite_in_practice(store.current(), practice_id, invite_uid)
    return jsonify(invite_json(found, current_app.config["SECRET_KEY"]))


_RULES = {"resend": enrollment.resend_invite, "cancel": enrollment.cancel_invite, "reinvite": enrollment.reinvite}


@bp.post("/invites/<invite_uid>/<action>")
@exempt
def invite_action(invite_uid, action):
    if action not in _RULES:
        raise ApiError(404, "not_found", f"Unknown action '{action}'; use resend, cancel or reinvite.")
    practice_id, actor = caller("update")
    ctx = enrollment_context()
    result = _RULES[action](ctx, enrollment.invite_in_practice(store.current(), practice_id, invite_uid), actor)
    return jsonify(invite_json(result, ctx.secret)), 201 if action == "reinvite" else 200


@bp.post("/links/<link_uid>/revoke")
@exempt
def revoke(link_uid):
    practice_id, actor = caller("update")
    link = enrollment.revoke_link(
        enrollment_context(), enrollment.link_in_practice(store.current(), practice_id, link_uid), actor
    )
    return jsonify(
        {
            "link": link["uid"],
            "patient": link["patient_uid"],
            "status": link["status"],
            "revoked_at": link["revoked_at"],
        }
    )
