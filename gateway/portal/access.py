"""Who can see the record on screen: Connected apps (with Revoke), Representatives, and the Access history."""

import datetime as dt

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for

from gateway import disclosures, store
from gateway.store import accounts as account_store
from gateway.store import connected_apps
from gateway.store import disclosures as disclosure_store
from gateway.store import oauth as oauth_store
from gateway.web.auth import current_account, record_required
from gateway.web.enrollment_context import enrollment_context
from smart_auth import accounts, consent, proxy_policy, representatives
from smart_auth.enrollment import InvalidInvite, InviteNotFound, access_code
from smart_auth.scope_words import describe

bp = Blueprint("portal_access", __name__, url_prefix="/portal")


def _iso(seconds):
    if not seconds:
        return None
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _people():
    """Account uids to names, for the accounts linked to the record on screen."""
    linked = account_store.links_of_patient(store.current(), g.record["patient_id"])
    found = {}
    for link in linked:
        account = account_store.account_by_id(store.current(), link["account_id"])
        relation = "" if link["relation"] == "self" else f" ({link['relation']})"
        found[account["uid"]] = (link["name"] or link["email"]) + relation
    found[current_account()["uid"]] = "You"
    return found


@bp.get("/apps")
@record_required
def apps():
    grants = connected_apps.grants_of_record(store.current(), g.record["patient_uid"])
    people, me = _people(), current_account()["uid"]
    shown = [
        dict(
            grant,
            words=describe(grant["scope"]),
            granted=_iso(grant["created_at"]),
            last_used=_iso((grant["last_used_ms"] or 0) // 1000),
            expires=_iso(grant["expires_at"]),
            by=people.get(grant["account_uid"], grant["account_name"] or "Someone"),
            can_revoke=grant["account_uid"] == me or g.record["relation"] == "self",
        )
        for grant in grants
    ]
    return render_template("portal/apps.html", grants=shown)


@bp.post("/apps/<int:grant_id>/revoke")
@record_required
def revoke(grant_id):
    """End an app's grant, its access tokens and its refresh tokens in one transaction."""
    grant = oauth_store.grant_by_id(store.current(), grant_id)
    mine = grant and grant["account_uid"] == current_account()["uid"]
    if not grant or grant["patient_id"] != g.record["patient_uid"] or not (mine or g.record["relation"] == "self"):
        abort(404)
    # The record's own adult patient may end any app's access to it, whoever connected the app.
    consent.revoke(store.current(), grant["account_uid"], grant_id)
    client = oauth_store.client_by_id(store.current(), grant["client_id"])
    flash(f"{client['name'] if client else grant['client_id']} can no longer read this record.", "info")
    return redirect(url_for("portal_access.apps"))


@bp.get("/people")
@record_required
def people():
    """The adult patient sees every other account linked to their record and on what relation."""
    if g.record["relation"] != "self":
        abort(404)
    return _people_page(_others())


def _people_page(links, form=None, errors=(), status=200):
    waiting = representatives.waiting_caregivers(store.current(), current_app.config["SECRET_KEY"], g.record)
    page = render_template(
        "portal/people.html",
        links=links,
        waiting=waiting,
        relations=[r for r in accounts.RELATIONS if r != "self"],
        sections=proxy_policy.section_titles(),
        adult=representatives.controls_representatives(store.current(), g.record),
        form=form or {"sections": []},
        errors=errors,
    )
    return page, status


@bp.post("/people/invite")
@record_required
def invite_caregiver():
    """The adult patient invites a caregiver: the page then shows the code to read them."""
    if not representatives.controls_representatives(store.current(), g.record):
        abort(404)
    form = {**request.form.to_dict(), "sections": request.form.getlist("sections")}
    try:
        made = representatives.invite_caregiver(enrollment_context(), current_account(), g.record, form)
    except InvalidInvite as exc:
        return _people_page(_others(), form, exc.problems, 400)
    return render_template(
        "portal/people_invited.html",
        invite=made,
        code=access_code(current_app.config["SECRET_KEY"], made, reader="patient"),
    )


@bp.post("/people/invites/<invite_uid>/cancel")
@record_required
def cancel_caregiver_invite(invite_uid):
    """The adult patient cancels an invitation of theirs that waits."""
    try:
        done = representatives.cancel_caregiver_invite(enrollment_context(), current_account(), g.record, invite_uid)
    except InviteNotFound:
        abort(404)
    flash(f"The invitation to {done['email']} is cancelled; its code no longer works.", "info")
    return redirect(url_for("portal_access.people"))


def _others():
    return [
        link
        for link in account_store.links_of_patient(store.current(), g.record["patient_id"])
        if link["account_id"] != current_account()["id"] and link["status"] == "active"
    ]


def _removable(link_uid):
    try:
        return representatives.removable_link(store.current(), g.record, link_uid)
    except InviteNotFound:
        abort(404)


@bp.get("/people/<link_uid>/remove")
@record_required
def confirm_remove(link_uid):
    """Say what removing a representative does before it is done (a second page: no JavaScript needed)."""
    link = _removable(link_uid)
    person = account_store.account_by_id(store.current(), link["account_id"])
    return render_template("portal/people_remove.html", link=link, name=person["name"] or link["email"])


@bp.post("/people/<link_uid>/remove")
@record_required
def remove(link_uid):
    """The adult patient removes a representative: their sessions and every token they hold for the record end."""
    link = _removable(link_uid)
    person = account_store.account_by_id(store.current(), link["account_id"])
    representatives.remove_representative(enrollment_context(), current_account(), g.record, link_uid)
    flash(f"{person['name'] or link['email']} can no longer see your record.", "info")
    return redirect(url_for("portal_access.people"))


@bp.get("/history")
@record_required
def history():
    """Every disclosure of the record, newest first, filterable by app and by date."""
    client_id = request.args.get("app") or None
    start, end, errors = _day(request.args.get("start")), _day(request.args.get("end")), []
    if (request.args.get("start") and not start) or (request.args.get("end") and not end):
        errors.append("Dates must look like 2026-01-31.")
    rows = disclosures.history(g.record["patient_uid"], _people(), client_id=client_id, start=start, end=end)
    seen = disclosures.app_names(
        (c["client_id"] for c in disclosure_store.clients_seen(store.current(), g.record["patient_uid"])),
        g.record["practice_name"],
    )
    return render_template(
        "portal/history.html",
        rows=rows,
        apps=seen,
        app=client_id,
        errors=errors,
        start=request.args.get("start", ""),
        end=request.args.get("end", ""),
    )


def _day(value):
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None
