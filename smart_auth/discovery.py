"""Where the authorization server lives and what it supports: one source for the SMART well-known
document, the OpenID configuration and the CapabilityStatement's oauth-uris extension, so they agree.
"""

from mappers import REGISTRY

CAPABILITIES = [
    "launch-standalone",
    "launch-ehr",
    "authorize-post",
    "client-public",
    "client-confidential-symmetric",
    "client-confidential-asymmetric",
    "context-standalone-patient",
    "context-ehr-patient",
    "context-ehr-encounter",  # from a visit chosen on the launch page; no standalone encounter picker
    "context-banner",
    "context-style",
    "permission-offline",
    "permission-online",
    "permission-patient",
    "permission-user",
    "permission-v1",
    "permission-v2",
    "sso-openid-connect",
]
GRANT_TYPES = ["authorization_code", "refresh_token", "client_credentials"]
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
ASSERTION_ALGS = ["RS384", "ES384"]
OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"


def urls(config):
    """Every endpoint URL, from the configured public base URL."""
    base = config["BASE_URL"]
    return {
        "issuer": base,
        "authorize": f"{base}/oauth/authorize",
        "token": f"{base}/oauth/token",
        "introspect": f"{base}/oauth/introspect",
        "revoke": f"{base}/oauth/revoke",
        "register": f"{base}/oauth/register",
        "jwks": f"{base}/oauth/jwks",
        "smart_style": f"{base}/oauth/smart-style.json",
        "management": f"{base}/portal/apps",  # the portal's Connected apps page (gateway.portal.access)
    }


def scopes_supported():
    """The scopes an app can ask for (any v1 or v2 resource scope parses; these are the usual ones)."""
    per_type = [f"patient/{name}.rs" for name in REGISTRY] + ["patient/Provenance.rs"]  # gateway.fhir.provenance
    return [
        "openid",
        "fhirUser",
        "launch",
        "launch/patient",
        "launch/encounter",
        "offline_access",
        "online_access",
        "patient/*.rs",
        "patient/*.read",
        "user/*.rs",
        "user/*.read",
        "system/*.rs",
        "system/*.read",
        *per_type,
    ]


def _common(config):
    """What both discovery documents say about the endpoints, grants and client authentication."""
    u = urls(config)
    return {
        "issuer": u["issuer"],
        "jwks_uri": u["jwks"],
        "authorization_endpoint": u["authorize"],
        "token_endpoint": u["token"],
        "registration_endpoint": u["register"],
        "introspection_endpoint": u["introspect"],
        "revocation_endpoint": u["revoke"],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "grant_types_supported": GRANT_TYPES,
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
    }


def smart_configuration(config):
    """``/fhir/.well-known/smart-configuration`` (SMART App Launch 2.0.0, section "Conformance")."""
    return {
        **_common(config),
        "management_endpoint": urls(config)["management"],  # SMART App Launch 2.2
        "scopes_supported": scopes_supported(),
        "capabilities": CAPABILITIES,
    }


def openid_configuration(config):
    """``/.well-known/openid-configuration`` (OpenID Connect Discovery 1.0, section 3)."""
    return {
        **_common(config),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": [
            "openid",
            "fhirUser",
            "launch",
            "launch/patient",
            "launch/encounter",
            "offline_access",
            "online_access",
        ],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "fhirUser"],
    }


def oauth_uris_extension(config):
    """The CapabilityStatement's SMART ``oauth-uris`` extension, equal to the well-known values."""
    u = urls(config)
    pairs = [
        ("authorize", u["authorize"]),
        ("token", u["token"]),
        ("introspect", u["introspect"]),
        ("revoke", u["revoke"]),
        ("register", u["register"]),
    ]
    return {"url": OAUTH_URIS, "extension": [{"url": name, "valueUri": value} for name, value in pairs]}
