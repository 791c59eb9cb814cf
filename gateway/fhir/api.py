"""The FHIR REST API under /fhir as Flask routes: thin adapters over the framework-free fhir_handlers.

Each route turns Flask's request into a FhirRequest, admitted before the view (406, 401) so that every
method Flask answers on these paths is checked, and renders the handler's FhirResponse.
"""

from flask import Blueprint, Response, current_app, g, request

from gateway.fhir import handlers
from gateway.fhir.handlers import FhirRequest
from gateway.fhir.response import fhir_json

bp = Blueprint("fhir_api", __name__, url_prefix="/fhir")
PUBLIC = {"fhir_api.metadata"}


@bp.before_request
def admit():
    """Refuse non-JSON formats (406) and requests without a valid token (401), before any work."""
    config, negotiate = current_app.config, request.endpoint != "fhir_api.binary"  # Binary negotiates itself
    g.fhir_call = handlers.admit(config, _fhir_request(), public=request.endpoint in PUBLIC, negotiate=negotiate)


def _fhir_request():
    # A body that is not a form is refused by search_post (415); reading the form waits for the handler.
    is_form = request.mimetype == handlers.FORM or not request.content_length
    return FhirRequest(
        request.method,
        request.path,
        list(request.args.items(multi=True)),
        lambda name: request.headers.get(name, ""),
        (lambda: list(request.form.items(multi=True))) if is_form else None,
    )


def _answer(handler, *params):
    response = handlers.answer(g.fhir_call, handler, *params)
    return fhir_json(response.body, response.status, response.headers)


@bp.get("/metadata")
def metadata():
    return _answer(handlers.metadata)


@bp.get("/Binary/<rid>")
def binary(rid):
    response = handlers.answer(g.fhir_call, handlers.binary, rid)
    if "Content-Type" not in response.headers:
        return fhir_json(response.body, response.status, response.headers)
    return Response(response.body, response.status, response.headers)


@bp.get("/<rtype>/<rid>")
def read(rtype, rid):
    return _answer(handlers.read, rtype, rid)


@bp.get("/<rtype>")
def search_get(rtype):
    return _answer(handlers.search_get, rtype)


@bp.post("/<rtype>/_search")
def search_post(rtype):
    return _answer(handlers.search_post, rtype)


@bp.get("/Patient/<rid>/$everything")
def everything(rid):
    return _answer(handlers.everything, rid)


@bp.get("/Patient/<rid>/$summary")
def summary(rid):
    return _answer(handlers.summary, rid)
