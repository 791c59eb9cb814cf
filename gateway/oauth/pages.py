"""The authorization endpoint and its pages: login, patient picker, consent; and the EHR launch path.

Every step re-validates the app's request with Authlib, so nothing the browser carries between pages
(the request parameters ride along as hidden fields) is trusted. An error is sent back to the app
only once its redirect URI has been validated; otherwise the person sees an error page.
"""

import time
import uuid
from urllib.parse import urlencode

from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749.errors import AccessDeniedError, InvalidRequestError
from flask import Blueprint, abort, redirect, render_template, request, session, url_for

from gateway import store
from gateway.web import csrf
from gateway.web.auth import current_account, current_staff
from smart_auth import accounts, consent
from smart_auth import launch as launches
from smart_auth.models import Authorization
from smart_auth.server import current_server

bp = Blueprint("oauth_pages", __name__, url_prefix="/oauth")
AUTHORIZE_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "aud",
    "code_challenge",
    "code_challenge_method",
    "launch",
    "nonce",
    "prompt",
)


def _params():
    return {k: request.values[k] for k in AUTHORIZE_PARAMS if k in request.values}


def _here(params):
    return url_for("oauth_pages.authorize") + "?" + urlencode(params)


def _error(server, error, grant=None):
    """Send the error to the app when its redirect URI is known good; otherwise show a page."""
    if grant is not None and not error.redirect_uri:
        error.redirect_uri, error.state = grant.redirect_uri, grant.request.payload.state
    if error.redirect_uri:
        return server.handle_error_response(None, error)
    return render_template("oauth/error.html", error=error), error.status_code or 400


@bp.route("/authorize", methods=["GET", "POST"])
@csrf.exempt  # apps POST here (SMART authorize-post); the consent decision goes to a CSRF-checked view
def authorize():
    server, params = current_server(), _params()
    try:
        grant = server.get_consent_grant(end_user=None)
    except OAuth2Error as error:
        return _error(server, error)
    if params.get("launch"):
        return _ehr_launch(server, grant, params)
    account = current_account()
    if account is None:
        return redirect(url_for("portal_home.login", next=_here(params)))
    links = accounts.linked_records(store.current(), account["id"])
    if not links:
        return _error(server, AccessDeniedError("No health record is linked to this account yet."), grant)
    link = _chosen(links, request.values.get("record"))
    if link is None:
        # Nothing is pre-selected: Continue without a choice comes back here saying so (``choose`` marks the form).
        return render_template(
            "oauth/picker.html",
            client=grant.client,
            links=links,
            params=params,
            problem="record" in request.values or "choose" in request.values,
        )
    requested = grant.request.scope or ""
    remembered = (
        None
        if params.get("prompt") == "consent"
        else consent.remembered(store.current(), account["uid"], grant.client.client_id, link["patient_uid"], requested)
    )
    if remembered:
        return _issue(server, grant, _for_account(account, link, remembered["scope"], remembered["id"]))
    unknown_user = accounts.fhir_user(store.current(), account, link) is None
    return render_template(
        "oauth/consent.html",
        client=grant.client,
        link=link,
        params=params,
        choices=consent.offered(requested, unknown_user),
        withheld=consent.withheld(params.get("scope"), unknown_user),
    )


@bp.post("/authorize/decide")
def decide():
    """The consent page's answer: Allow with the ticked scopes, or Deny (``access_denied``)."""
    server, account = current_server(), current_account()
    if account is None:
        abort(403, description="Your session has ended. Please start again from the app.")
    try:
        grant = server.get_consent_grant(end_user=account)
    except OAuth2Error as error:
        return _error(server, error)
    if request.form.get("decision") != "allow":
        return server.create_authorization_response(grant_user=None, grant=grant)
    link = _chosen(accounts.linked_records(store.current(), account["id"]), request.form.get("record"))
    if link is None:
        return _error(server, InvalidRequestError("Choose one of the records linked to your account."), grant)
    requested = grant.request.scope or ""
    choices = consent.offered(requested, accounts.fhir_user(store.current(), account, link) is None)
    scope = consent.granted(choices, request.form.getlist("grant_scope"))
    grant_id = consent.remember(
        store.current(), account["uid"], grant.client.client_id, link["patient_uid"], requested, scope
    )
    return _issue(server, grant, _for_account(account, link, scope, grant_id))


def _chosen(links, wanted):
    """The record the person picked (one of their own links), or the only one they have."""
    if wanted:
        return next((link for link in links if str(link["id"]) == wanted), None)
    return links[0] if len(links) == 1 else None


def _for_account(account, link, scope, grant_id):
    return Authorization(
        account["uid"],
        link["patient_uid"],
        accounts.fhir_user(store.current(), account, link),
        scope,
        str(uuid.uuid4()),
        grant_id,
        need_patient_banner=True,
        auth_time=int(session.get("login_at") or time.time()),
    )


def _issue(server, grant, authorization):
    return server.create_authorization_response(grant_user=authorization, grant=grant)


def _ehr_launch(server, grant, params):
    """EHR launch: the staff user who opened the app from a chart authorizes it for that chart.

    The first time a staff user opens an app they see what it will get and approve or deny it; later launches
    of the same app (for no more than was approved) go straight through. The launch handle is used up either way.
    """
    staff = current_staff()
    if staff is None:
        return redirect(url_for("practice_home.login", next=_here(params)))
    db = store.current()
    try:
        launch = launches.resolve_launch(db, params["launch"], grant.client.client_id, staff["uid"])
    except launches.LaunchRefused as refused:
        return _error(server, InvalidRequestError(refused.description), grant)
    choices = consent.offered(grant.request.scope or "", ehr=True)
    scope = consent.everything(choices)
    if params.get("prompt") != "consent" and launches.approved(db, staff["uid"], grant.client.client_id, scope):
        return _issue_launch(server, grant, staff, launch, params["launch"], scope)
    patient = store.chart_rows(db, "patients", uid=launch.patient_id)
    return render_template(
        "oauth/ehr_consent.html",
        client=grant.client,
        patient=patient[0] if patient else None,
        params=params,
        choices=choices,
    )


@bp.post("/authorize/launch-decide")
def launch_decide():
    """The staff consent page's answer: Allow (remembered for this app) or Deny (``access_denied``)."""
    server, staff, params = current_server(), current_staff(), _params()
    if staff is None:
        abort(403, description="Your session has ended. Please launch the app again from the chart.")
    try:
        grant = server.get_consent_grant(end_user=None)
    except OAuth2Error as error:
        return _error(server, error)
    db = store.current()
    try:
        launch = launches.resolve_launch(db, params.get("launch"), grant.client.client_id, staff["uid"])
    except launches.LaunchRefused as refused:
        return _error(server, InvalidRequestError(refused.description), grant)
    if request.form.get("decision") != "allow":
        try:
            launches.use_launch(db, params["launch"])
        except launches.LaunchRefused:
            pass  # used meanwhile by another request: denied all the same
        return server.create_authorization_response(grant_user=None, grant=grant)
    scope = consent.everything(consent.offered(grant.request.scope or "", ehr=True))
    launches.approve(db, staff["uid"], grant.client.client_id, scope)
    return _issue_launch(server, grant, staff, launch, params["launch"], scope)


def _issue_launch(server, grant, staff, launch, handle, scope):
    db = store.current()
    try:
        launches.use_launch(db, handle)
    except launches.LaunchRefused as refused:
        return _error(server, InvalidRequestError(refused.description), grant)
    provider = store.chart_row(db, "providers", staff["provider_id"]) if staff["provider_id"] else None
    # launch/encounter is a hint in an EHR launch (SMART App Launch 2.2, "Apps that launch from the EHR": the EHR
    # MAY ignore it): granted, and the visit told, only when the launch was made from a visit.
    granted = scope.split()
    if launch.encounter_id is None and "launch/encounter" in granted:
        granted.remove("launch/encounter")
    authorization = Authorization(
        staff["uid"],
        launch.patient_id,
        f"Practitioner/{provider['uid']}" if provider else None,
        " ".join(granted),
        str(uuid.uuid4()),
        None,
        need_patient_banner=False,
        auth_time=int(time.time()),
        encounter_id=launch.encounter_id if "launch/encounter" in granted else None,
    )
    return _issue(server, grant, authorization)
