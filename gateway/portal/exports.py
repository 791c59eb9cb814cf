"""The portal's Download and Send pages: build an export of the record on screen, hand it over or send it on.

Sending asks twice: the second step names the recipient, and nothing leaves before it is confirmed.
A failed send shows what went wrong in plain words with the same choices ready to try again.
"""

from flask import Blueprint, Response, current_app, g, render_template, request

from gateway import disclosures, exports, store
from gateway import transmit as sending
from gateway.store.chart import utc_now
from gateway.web.auth import current_account, record_required
from gateway.web.enrollment_context import notifier
from gateway.web.headers import PRINT_POLICY, talisman
from gateway.web.locale_dates import local_today, request_locale

bp = Blueprint("portal_exports", __name__, url_prefix="/portal")


def _choices():
    form = request.form
    return {
        "format": form.get("format", ""),
        "start": form.get("start", "").strip(),
        "end": form.get("end", "").strip(),
        "method": form.get("method", "email"),
        "recipient": form.get("recipient", "").strip(),
    }


def _build(choices):
    record = g.record
    context = {
        "person": f"{record['first_name']} {record['last_name']}",
        "practice": record["practice_name"],
        "lang": request_locale().language,
    }
    now = utc_now()
    context["today"] = local_today(now)  # the file is named with the date the summary says it was made
    return exports.build(
        store.current(),
        g.token,
        record["patient_uid"],
        choices["format"],
        choices["start"] or None,
        choices["end"] or None,
        current_app.config["FHIR_BASE"],
        now,
        context,
    )


@bp.route("/download", methods=["GET", "POST"])
@talisman(content_security_policy=PRINT_POLICY)  # "View" shows the printable summary with its own style sheet
@record_required
def download():
    """The download form; a valid POST answers with the file and logs the download."""
    choices = _choices() if request.method == "POST" else {"format": "pdf", "start": "", "end": ""}
    if request.method == "GET":
        return render_template("portal/download.html", formats=exports.FORMATS, choices=choices, errors=[])
    try:
        export = _build(choices)
    except exports.ExportError as exc:
        return render_template("portal/download.html", formats=exports.FORMATS, choices=choices, errors=[str(exc)]), 400
    disclosures.log_download(current_account(), g.record, export.fmt, export.start, export.end, export.filename)
    disposition = "inline" if request.form.get("view") else "attachment"
    return Response(
        export.body,
        mimetype=export.mimetype,
        headers={"Content-Disposition": f'{disposition}; filename="{export.filename}"'},
    )


@bp.route("/send", methods=["GET", "POST"])
@record_required
def transmit():
    """Step one: what to send and where; a valid POST shows the confirmation naming the recipient."""
    if request.method == "GET":
        return _form({"format": "pdf", "start": "", "end": "", "method": "email", "recipient": ""}, [])
    choices = _choices()
    if request.form.get("edit"):
        return _form(choices, [])
    try:
        _check(choices)
    except exports.ExportError as exc:
        return _form(choices, [str(exc)], 400)
    return render_template("portal/send_confirm.html", choices=choices, formats=exports.FORMATS)


@bp.post("/send/confirm")
@record_required
def send():
    """Step two, confirmed: build the export, send it, log the attempt, and show the outcome."""
    choices = _choices()
    try:
        recipient = _check(choices)
        export = _build(choices)
    except exports.ExportError as exc:
        return _form(choices, [str(exc)], 400)
    if choices["method"] == "email":
        account = current_account()
        result = sending.send_email(
            notifier(),
            export,
            recipient,
            _person_of(g.record),
            account.get("name") or account["email"],
            g.record["relation"],
        )
    else:
        result = sending.push_fhir(recipient, export, public_only=_production())
    disclosures.log_transmission(
        current_account(), g.record, export.fmt, export.start, export.end, recipient, result.outcome, result.message
    )
    return render_template(
        "portal/send_result.html", choices=choices, result=result, formats=exports.FORMATS, export=export
    ), 200 if result.ok else 502


def _check(choices):
    exports.check_request(choices["format"], choices["start"], choices["end"])
    # Outside production a local test server will do: plain http and private addresses are allowed.
    return sending.check_recipient(
        choices["method"],
        choices["recipient"],
        choices["format"],
        allow_http=not _production(),
        public_only=_production(),
    )


def _production():
    return current_app.config.get("ENV") == "production"


def _person_of(record):
    return f"{record['first_name']} {record['last_name']}"


def _form(choices, errors, status=200):
    return render_template("portal/send.html", formats=exports.FORMATS, choices=choices, errors=errors), status
