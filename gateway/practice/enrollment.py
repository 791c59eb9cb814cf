"""The practice console's enrollment pages: chart header with portal status, "Invite to patient portal"
(rows for representatives, a confirmation step), access codes, resend / cancel / re-invite / revoke.

Everything works without JavaScript: "Add users" and "Remove" are submit buttons that re-render the form.
"""

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from gateway import store
from gateway.fhir.access import staff_chart
from gateway.store import enrollment as enrollment_store
from gateway.web.auth import current_staff, staff_required
from gateway.web.enrollment_context import enrollment_context
from smart_auth import audit, enrollment
from smart_auth.accounts import RELATIONS
from smart_auth.enrollment_status import chart_parties, patient_status, practice_parties

bp = Blueprint("practice_enrollment", __name__, url_prefix="/practice")
RELATION_WORDS = {
    "self": "Patient (self)",
    "parent": "Parent",
    "guardian": "Guardian",
    "spouse": "Spouse",
    "child": "Adult child",
    "caregiver": "Caregiver",
    "other": "Other representative",
}
MAX_ROWS = 10


@bp.app_context_processor
def enrollment_helpers():
    """The patient list asks each patient's portal status through ``portal_status(patient)``."""

    def portal_status(patient):
        if "practice_parties" not in g:
            g.practice_parties = practice_parties(store.current(), current_staff()["practice_id"])
        parties = g.practice_parties.get(patient["id"], [])
        return {"own": patient_status(parties), "representatives": [p for p in parties if p["relation"] != "self"]}

    return {"portal_status": portal_status, "relation_words": RELATION_WORDS}


def chart_of_practice(patient_uid):
    """The StaffChart of a chart of the logged-in staff user's practice, else 404 (the same for another
    practice's chart): every console chart route starts here, and reads the chart with its token."""
    found = staff_chart(store.current(), current_staff(), patient_uid)
    if found is None:
        abort(404)
    return found


def patient_of_practice(patient_uid):
    """The patients row of a chart of the logged-in staff user's practice, else 404."""
    return chart_of_practice(patient_uid).patient


@bp.get("/patients/<patient_uid>")
@staff_required
def chart(patient_uid):
    patient = patient_of_practice(patient_uid)
    conn = store.current()
    parties = chart_parties(store.current(), enrollment_context().secret, patient["id"])
    return render_template(
        "practice/enroll/chart.html",
        patient=patient,
        parties=parties,
        own=patient_status(parties),
        events=enrollment_store.events_of_patient(conn, patient["id"]),
        failures=enrollment_store.undelivered_messages_of_patient(conn, patient["id"]),
    )


def _rows_from_form(form):
    count = min(form.get("rows", type=int) or 0, MAX_ROWS)
    return [
        {
            "relation": form.get(f"people-{i}-relation", ""),
            "email": form.get(f"people-{i}-email", ""),
            "phone": form.get(f"people-{i}-phone", ""),
            "text_link": bool(form.get(f"people-{i}-text_link")),
        }
        for i in range(count)
    ]


def _form(patient, rows, errors=(), status=200):
    return render_template(
        "practice/enroll/invite.html",
        patient=patient,
        rows=rows,
        errors=list(errors),
        relations=RELATIONS,
        max_rows=MAX_ROWS,
    ), status


@bp.route("/patients/<patient_uid>/invite", methods=["GET", "POST"])
@staff_required
def invite(patient_uid):
    """The invite form; its buttons add or remove a row, review everything, or send the invitations."""
    patient = patient_of_practice(patient_uid)
    if request.method == "GET":
        return _form(
            patient,
            [
                {
                    "relation": "self",
                    "email": patient["email"] or "",
                    "phone": patient["phone"] or "",
                    "text_link": False,
                }
            ],
        )
    rows, action = _rows_from_form(request.form), request.form.get("action", "review")
    if action == "add" and len(rows) < MAX_ROWS:
        return _form(patient, rows + [{"relation": "parent", "email": "", "phone": "", "text_link": False}])
    if action.startswith("remove-"):
        index = int(action.split("-", 1)[1]) if action.split("-", 1)[1].isdigit() else -1
        return _form(patient, [r for i, r in enumerate(rows) if i != index])
    cleaned, problems = enrollment.check_invitees(rows)
    if problems:
        return _form(patient, rows, problems, 400)
    if action != "send":
        return render_template("practice/enroll/invite_confirm.html", patient=patient, rows=cleaned)
    made = enrollment.invite_people(enrollment_context(), patient, cleaned, audit.staff_actor(current_staff()))
    flash(
        f"Invited {len(made)} {'person' if len(made) == 1 else 'people'}. Give each one the access code "
        "shown below (print it for the visit); it is never emailed or texted.",
        "info",
    )
    return redirect(url_for("practice_enrollment.chart", patient_uid=patient_uid) + "#portal-access")


def _staff_invite(invite_uid):
    try:
        return enrollment.invite_in_practice(store.current(), current_staff()["practice_id"], invite_uid)
    except enrollment.InviteNotFound:
        abort(404)


_ACTIONS = {
    "resend": (enrollment.resend_invite, "The invitation was sent again; the access code is unchanged."),
    "cancel": (enrollment.cancel_invite, "The invitation is cancelled; its access code no longer works."),
    "reinvite": (enrollment.reinvite, "A new invitation and access code were made; older codes no longer work."),
}


def _who(party):
    return party["email"] or party["phone"] or "this person"


def _asking(action, found):
    """The second page of Cancel invite and Re-invite: what will happen, and a button that does it."""
    by = "email" if found["email"] else "text message"
    words = {
        "cancel": (
            f"Cancel the invitation of {_who(found)}?",
            [f"Their access code and the link in their {by} stop working at once."],
            "Cancel the invitation",
            "Keep the invitation",
        ),
        "reinvite": (
            f"Re-invite {_who(found)}?",
            [
                f"They get a new invitation {by}. You give them a new access code; "
                "the current code and link stop working."
            ]
            + (
                [
                    "Their account keeps its access meanwhile; at their next login they finalize access with the "
                    "patient’s date of birth and the new code."
                ]
                if found["link_id"]
                else []
            ),
            "Re-invite",
            "Keep the current invitation",
        ),
    }[action]
    return _confirm_page(
        *words, url_for("practice_enrollment.invite_action", invite_uid=found["uid"], action=action), found
    )


def _confirm_page(heading, what, button, keep, action_url, party):
    return render_template(
        "practice/enroll/confirm.html",
        heading=heading,
        what=what,
        button=button,
        keep=keep,
        action_url=action_url,
        chart_url=url_for("practice_enrollment.chart", patient_uid=party["patient_uid"]) + "#portal-access",
    )


@bp.get("/invites/<invite_uid>/<action>")
@staff_required
def confirm_invite_action(invite_uid, action):
    """Cancel invite and Re-invite ask first, on a page of their own (no JavaScript needed)."""
    if action not in ("cancel", "reinvite"):
        abort(404)
    return _asking(action, _staff_invite(invite_uid))


@bp.post("/invites/<invite_uid>/<action>")
@staff_required
def invite_action(invite_uid, action):
    if action not in _ACTIONS:
        abort(404)
    found = _staff_invite(invite_uid)
    if action != "resend" and request.form.get("confirm") != "yes":
        return _asking(action, found)
    rule, done = _ACTIONS[action]
    try:
        rule(enrollment_context(), found, audit.staff_actor(current_staff()))
    except enrollment.EnrollmentError as exc:
        flash(str(exc), "error")
    else:
        flash(done, "info")
    return redirect(url_for("practice_enrollment.chart", patient_uid=found["patient_uid"]) + "#portal-access")


@bp.get("/invites/<invite_uid>/print")
@staff_required
def print_code(invite_uid):
    """A page to print and hand over at the visit: where to go, the access code, and what to do."""
    found = _staff_invite(invite_uid)
    code = enrollment.access_code(enrollment_context().secret, found)
    if code is None:
        abort(404)
    return render_template(
        "practice/enroll/print.html",
        invite=found,
        code=code,
        portal_url=enrollment_context().base_url + url_for("portal_home.login"),
    )


def _staff_link(link_uid):
    try:
        return enrollment.link_in_practice(store.current(), current_staff()["practice_id"], link_uid)
    except enrollment.InviteNotFound:
        abort(404)


def _asking_revoke(link):
    patient = patient_of_practice(link["patient_uid"])
    return _confirm_page(
        f"Revoke the access of {link['email']} to {patient['first_name']} {patient['last_name']}’s record?",
        [
            "They will no longer see this record in the patient portal, and every app they connected to it loses "
            "access at once. To give access again, invite them again."
        ],
        "Revoke access",
        "Keep their access",
        url_for("practice_enrollment.revoke", link_uid=link["uid"]),
        link,
    )


@bp.get("/links/<link_uid>/revoke")
@staff_required
def confirm_revoke(link_uid):
    return _asking_revoke(_staff_link(link_uid))


@bp.post("/links/<link_uid>/revoke")
@staff_required
def revoke(link_uid):
    link = _staff_link(link_uid)
    if request.form.get("confirm") != "yes":
        return _asking_revoke(link)
    try:
        enrollment.revoke_link(enrollment_context(), link, audit.staff_actor(current_staff()))
    except enrollment.EnrollmentError as exc:
        flash(str(exc), "error")
    else:
        flash(f"{link['email']} can no longer see this record; every app token it held for it has ended.", "info")
    return redirect(url_for("practice_enrollment.chart", patient_uid=link["patient_uid"]) + "#portal-access")
