"""Open dynamic registration (RFC 7591): what a stranger may register, how large and well-formed its metadata must
be, and how often one address may try.

A stranger may register a patient-facing app only: public, confidential or asymmetric, the authorization code grant
(and refresh tokens), ``patient/`` scopes and ``launch/patient``, ``openid``, ``fhirUser``, ``offline_access``,
``online_access``. Backend clients, ``client_credentials``, ``system/`` and ``user/`` scopes and the EHR ``launch``
scope come from an operator (``fhir-gateway client add``), never from this endpoint.
"""

import json
from urllib.parse import urlsplit

from . import limits
from .clients import ClientError
from .scopes import InvalidScope, parse_scope

MAX_BODY = 64 * 1024
MAX_DEPTH = 8  # the deepest real metadata is jwks -> keys -> key -> x5c (4 levels)
MAX_URI = 2000
MAX_KEYS = 10
MAX_JWKS_BYTES = 16 * 1024
TEXT_LIMITS = {
    "client_name": 100,
    "scope": 1000,
    "token_endpoint_auth_method": 64,
    "software_id": 200,
    "software_version": 200,
    "client_uri": MAX_URI,
    "logo_uri": MAX_URI,
    "tos_uri": MAX_URI,
    "policy_uri": MAX_URI,
    "jwks_uri": MAX_URI,
}
# field -> (most items, longest item)
LIST_LIMITS = {"redirect_uris": (10, MAX_URI), "grant_types": (4, 64), "response_types": (2, 64), "contacts": (5, 254)}
AUTH_METHODS = ("none", "client_secret_basic", "client_secret_post", "private_key_jwt")
GRANT_TYPES = ("authorization_code", "refresh_token")
PATIENT_SCOPES = ("launch/patient", "openid", "fhirUser", "offline_access", "online_access")
DEFAULT_SCOPE = "launch/patient openid fhirUser offline_access online_access patient/*.rs"
OPERATOR = "an operator registers those (fhir-gateway client add)"
# Schemes a browser would run or read locally instead of handing the code to an app (RFC 6819 section 4.4.1.5).
UNSAFE_SCHEMES = ("javascript", "data", "vbscript", "file", "blob", "about")


class RegistrationRequestError(ValueError):
    """A registration request that is not a JSON object at all (OAuth ``invalid_request``)."""


def read_metadata(mimetype, body):
    """The JSON object a registration request carries; RegistrationRequestError or ClientError when it is not one."""
    if mimetype != "application/json":
        raise RegistrationRequestError("Send the client metadata as a JSON object (Content-Type: application/json).")
    if len(body) > MAX_BODY:
        raise ClientError(f"the client metadata is larger than {MAX_BODY // 1024} KB")
    try:
        metadata = json.loads(body)
    except RecursionError:
        raise ClientError(f"the client metadata is nested more than {MAX_DEPTH} levels deep")
    except ValueError:
        raise RegistrationRequestError("The body is not valid JSON.")
    if not isinstance(metadata, dict):
        raise RegistrationRequestError("Send the client metadata as a JSON object.")
    if _depth(metadata) > MAX_DEPTH:
        raise ClientError(f"the client metadata is nested more than {MAX_DEPTH} levels deep")
    return metadata


def _depth(value):
    """How deeply a parsed JSON value nests (without recursion, whatever the input)."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, level = pending.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            if level <= MAX_DEPTH:
                pending.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def count_attempt(conn, address, limit, window):
    """Count one registration from ``address``; TooManyAttempts (counting nothing) past ``limit`` per ``window``."""
    limits.reserve(conn, (limits.key("register", address), limit, window))


def check_metadata(metadata, production):
    """Refuse (ClientError) metadata of the wrong shape or size, or for anything but a patient-facing app."""
    _check_shapes(metadata)
    _check_kind(metadata)
    _check_redirect_schemes(metadata.get("redirect_uris") or [])
    _check_scope(metadata.get("scope") or "")
    _check_keys(metadata, production)


def _check_shapes(metadata):
    # A field that is present must have its type: null is no string (Authlib would trip over it).
    for name, longest in TEXT_LIMITS.items():
        if name not in metadata:
            continue
        if not isinstance(metadata[name], str):
            raise ClientError(f"{name} must be a string")
        if len(metadata[name]) > longest:
            raise ClientError(f"{name} is longer than {longest} characters")
    for name, (most, longest) in LIST_LIMITS.items():
        if name not in metadata:
            continue
        value = metadata[name]
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ClientError(f"{name} must be an array of strings")
        if len(value) > most:
            raise ClientError(f"{name} may hold at most {most} values")
        if any(len(item) > longest for item in value):
            raise ClientError(f"each of {name} must be at most {longest} characters")


def _check_kind(metadata):
    method = metadata.get("token_endpoint_auth_method", "client_secret_basic")
    if method not in AUTH_METHODS:
        raise ClientError(f"token_endpoint_auth_method '{method}' is not supported")
    grant_types = metadata.get("grant_types") or ["authorization_code"]
    if "client_credentials" in grant_types:
        raise ClientError(
            f"client_credentials (SMART Backend Services) clients are not open to registration; {OPERATOR}"
        )
    unknown = [grant for grant in grant_types if grant not in GRANT_TYPES]
    if unknown or "authorization_code" not in grant_types:
        raise ClientError(
            "open registration is for patient-facing apps: grant_types authorization_code (and refresh_token)"
        )
    if any(kind != "code" for kind in metadata.get("response_types") or ["code"]):
        raise ClientError("response_types may only be 'code'")


def _check_redirect_schemes(uris):
    for uri in uris:
        if urlsplit(uri).scheme.lower() in UNSAFE_SCHEMES:
            raise ClientError(f"redirect URI scheme '{urlsplit(uri).scheme}' cannot receive a code")


def _check_scope(scope):
    for item in scope.split():
        if item in PATIENT_SCOPES:
            continue
        try:
            parsed = parse_scope(item)
        except InvalidScope as exc:
            raise ClientError(str(exc))
        if parsed is None or parsed.context != "patient":
            raise ClientError(f"'{item}' is not a patient-facing app's scope; {OPERATOR}")


def _check_keys(metadata, production):
    jwks, jwks_uri = metadata.get("jwks"), metadata.get("jwks_uri")
    if "jwks" in metadata and jwks_uri is not None:
        raise ClientError("send jwks or jwks_uri, not both (RFC 7591 section 2)")
    if "jwks" in metadata:
        if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
            raise ClientError("jwks must be a JWK Set: an object with a 'keys' array")
        if len(jwks["keys"]) > MAX_KEYS or not all(isinstance(key, dict) for key in jwks["keys"]):
            raise ClientError(f"jwks must hold at most {MAX_KEYS} keys, each an object")
        if len(json.dumps(jwks)) > MAX_JWKS_BYTES:
            raise ClientError(f"jwks is larger than {MAX_JWKS_BYTES // 1024} KB")
    if jwks_uri is not None and production and urlsplit(jwks_uri).scheme != "https":
        raise ClientError("jwks_uri must be an https URL")
