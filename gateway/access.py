"""The access check for every FHIR door: bearer token -> scopes -> what of a resource type is visible."""
from flask import current_app, g, request

from smart_auth import scopes as smart_scopes
from smart_auth.tokens import InvalidToken, MissingToken, authenticate_header

from . import store
from .errors import Forbidden, InvalidSearch, Unauthorized
from .search import Visibility, parse_clause


def db_conn():
    """This thread's connection to the configured database."""
    return store.reader(current_app.config["DB"])


def current_token():
    """Return the request's AccessToken, or raise Unauthorized (RFC 6750 section 3)."""
    token = getattr(g, "access_token", None)
    if token is None:
        token = g.access_token = bearer_token(db_conn(), request.headers.get("Authorization", ""))
    return token


def bearer_token(conn, header):
    """Return the AccessToken an ``Authorization`` header carries, or raise Unauthorized."""
    try:
        return authenticate_header(conn, header)
    except MissingToken:
        raise Unauthorized("This request needs an OAuth 2.0 bearer token (Authorization: Bearer ...)")
    except InvalidToken as exc:
        raise Unauthorized(str(exc), error="invalid_token")


def visibility(token, interaction, resource_type):
    """Ask the scope rules whether ``token`` may do ``interaction`` on ``resource_type``; Forbidden if not."""
    decision = smart_scopes.decide(token.scopes, interaction, resource_type, token.patient_id)
    if decision is None:
        raise Forbidden(f"The token's scopes do not allow {interaction} on {resource_type}")
    return to_visibility(resource_type, decision)


def to_visibility(resource_type, decision):
    """Turn a scope Decision into a store Visibility (granular queries become search clauses)."""
    if decision.filters is None:
        return Visibility(decision.patient, None)
    groups = []
    for query in decision.filters:
        # A granular scope this server cannot evaluate grants nothing, rather than everything.
        try:
            clauses = [parse_clause(resource_type, k, v) for k, v in query]
        except InvalidSearch:
            continue
        if all(c is not None for c in clauses):
            groups.append(clauses)
    return Visibility(decision.patient, groups)
