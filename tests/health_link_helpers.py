"""Making SMART Health Links for the reader's tests (HL7 SMART Health Cards and Links IG STU1), with joserfc.

Until gateway.health_links has its own link maker, the tests make links here; the payload, manifest and JWE are
the spec's, so a link from any conforming maker reads the same.
"""

import base64
import os
import zlib

import orjson
from joserfc import jwe
from joserfc.jwk import OctKey

MANIFEST = "https://shl.example.org/manifest/abc"
FILE = "https://files.example.org/file/1"
BUNDLE = {
    "resourceType": "Bundle",
    "type": "collection",
    "entry": [
        {
            "resource": {
                "resourceType": "AllergyIntolerance",
                "id": "a1",
                "patient": {"reference": "Patient/p1"},
                "code": {"coding": [{"system": "http://snomed.info/sct", "code": "91936005"}], "text": "Penicillin"},
            }
        },
        {
            "resource": {
                "resourceType": "Immunization",
                "id": "i1",
                "status": "completed",
                "patient": {"reference": "Patient/p1"},
                "occurrenceDateTime": "2024-10-01",
                "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "141"}], "text": "Flu"},
            }
        },
    ],
}


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def new_key():
    return os.urandom(32)


def make_link(key, url=MANIFEST, flag="", exp=None, label="Records of Alex"):
    """A ``shlink:/`` link to ``url``."""
    payload = {"url": url, "key": b64(key), "flag": flag, "label": label, "v": 1}
    if exp is not None:
        payload["exp"] = exp
    return "shlink:/" + b64(orjson.dumps(payload))


def encrypt(content, key, cty="application/fhir+json", zip_=False, enc="A256GCM"):
    """A JWE compact of ``content`` (a dict as JSON, or bytes) with ``alg: dir``."""
    plaintext = content if isinstance(content, bytes) else orjson.dumps(content)
    header = {"alg": "dir", "enc": enc, "cty": cty}
    if zip_:
        header["zip"] = "DEF"
    return jwe.encrypt_compact(header, plaintext, OctKey.import_key(key))


def raw_deflate(data):
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def health_card(bundle, issuer="https://issuer.example.org"):
    """A SMART Health Card file (unsigned: the reader decodes cards and says it did not verify them)."""
    header = b64(orjson.dumps({"alg": "ES256", "zip": "DEF", "kid": "k1"}))
    claims = {
        "iss": issuer,
        "nbf": 1700000000,
        "vc": {
            "type": ["https://smarthealth.cards#health-card"],
            "credentialSubject": {"fhirVersion": "4.0.1", "fhirBundle": bundle},
        },
    }
    payload = b64(raw_deflate(orjson.dumps(claims)))
    return {"verifiableCredential": [f"{header}.{payload}.{b64(b'not-a-signature')}"]}


def signed_health_card(bundle, key, issuer="https://issuer.example.org"):
    """A SMART Health Card file signed ES256 with ``key`` (a joserfc ECKey), kid its JWK thumbprint."""
    from joserfc import jws
    from joserfc.jws import JWSRegistry
    from joserfc.registry import HeaderParameter

    registry = JWSRegistry(header_registry={"zip": HeaderParameter("Compression", "str")}, algorithms=["ES256"])
    claims = {
        "iss": issuer,
        "nbf": 1700000000,
        "vc": {
            "type": ["https://smarthealth.cards#health-card"],
            "credentialSubject": {"fhirVersion": "4.0.1", "fhirBundle": bundle},
        },
    }
    header = {"alg": "ES256", "zip": "DEF", "kid": key.thumbprint()}
    card = jws.serialize_compact(header, raw_deflate(orjson.dumps(claims)), key, registry=registry)
    return {"verifiableCredential": [card]}


def issuer_jwks(key):
    """The JWKS an issuer publishes at /.well-known/jwks.json for ``key``."""
    return {"keys": [{**key.as_dict(private=False), "kid": key.thumbprint(), "use": "sig", "alg": "ES256"}]}
