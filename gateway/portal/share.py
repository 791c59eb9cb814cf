"""The portal's "Share with a new doctor": make a SMART Health Link (QR code and ``shlink:/`` text) to the
record on screen, list the record's links and revoke one (with a confirmation page, no JavaScript)."""

import time

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for

from gateway import store
from gateway.health_links import payload, sharing
from gateway.health_links.qr import qr_data_uri
from gateway.web.auth import current_account, record_required

bp = Blueprint("portal_share", __name__, url_prefix="/portal")
DEFAULTS = {"label": "", "content": "summary", "sections": (), "expiry": "week", "passcode": "", "long_term": False}


def _choices():
    form = request.form
    return {
        "label": form.get("label", ""),
        "content": form.get("content", ""),
        "sections": tuple(form.getlist("sections")),
        "expiry": form.get("expiry", ""),
        "passcode": form.get("passcode", ""),
        "long_term": form.get("long_term") == "yes",
    }


def _page(choices, errors=(), status=200):
    now = int(time.time())
    links = [dict(row, state=_state(row, now), **_times(row)) for row in _links()]
    return render_template(
        "portal/share.html",
        choices=choices,
        errors=list(errors),
        links=links,
        contents=payload.CONTENTS,
        sections=payload.shareable_sections(),
        expiries=sharing.EXPIRY_WORDS,
        me=current_account()["uid"],
    ), status


@bp.route("/share", methods=["GET", "POST"])
@record_required
def share():
    """The form and the record's links; a valid POST makes a link and shows its QR code once."""
    if request.method == "GET":
        return _page(DEFAULTS)
    choices = _choices()
    config = current_app.config
    try:
        shared = sharing.create_link(
            store.current(),
            config["SECRET_KEY"],
            current_account(),
            g.token,
            g.record["patient_uid"],
            config["BASE_URL"],
            choices,
            int(time.time()),
        )
    except (sharing.ShareError, payload.PayloadError) as exc:
        return _page(choices, [str(exc)], 400)
    return render_template("portal/share_made.html", shared=shared, qr=qr_data_uri(shared.text), choices=choices)


@bp.get("/share/<uid>/revoke")
@record_required
def confirm_revoke(uid):
    me, self_record = current_account()["uid"], g.record["relation"] == "self"
    found = next(
        (r for r in _links() if r["uid"] == uid and not r["revoked_at"] and (self_record or r["account_uid"] == me)),
        None,
    )
    if found is None:
        abort(404)
    return render_template("portal/share_revoke.html", link=found)


@bp.post("/share/<uid>/revoke")
@record_required
def revoke(uid):
    if not sharing.revoke(store.current(), g.record, current_account(), uid, int(time.time())):
        abort(404)
    flash("The link is revoked: it no longer opens anything.", "info")
    return redirect(url_for("portal_share.share"))


def _state(row, now):
    if row["revoked_at"]:
        return "Revoked"
    if row["expires_at"] and row["expires_at"] <= now:
        return "Expired"
    if row["attempts_left"] == 0:
        return "Locked: the passcode was entered wrong too often"
    return "Active"


def _times(row):
    return {
        k + "_iso": sharing.iso_time(row[k]) if row[k] else None for k in ("created_at", "expires_at", "last_opened_at")
    }


def _links():
    return sharing.links_of_record(store.current(), g.record, current_account(), g.token)


@bp.get("/share/<uid>")
@record_required
def show_kept(uid):
    """A link the portal keeps for the record (an after-visit summary from the practice): its QR code and text."""
    text = sharing.kept_link_text(
        store.current(), current_app.config["SECRET_KEY"], g.record, g.token, uid, int(time.time())
    )
    if text is None:
        abort(404)
    shared = sharing.Shared(uid, text)
    return render_template("portal/share_made.html", shared=shared, qr=qr_data_uri(text), choices={}, kept=True)
