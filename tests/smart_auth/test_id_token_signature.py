"""The id_token signed with ``cryptography`` on the parsed key (keys.SigningKey.sign_jwt): a JWS Compact
Serialization (RFC 7515 section 7.1) whose RS256 signature (RFC 7518 section 3.3) verifies with the published JWK
over exactly ``BASE64URL(header) '.' BASE64URL(payload)``, with at_hash as OpenID Connect Core 3.1.3.6 defines it."""

import base64
import hashlib
import json

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from joserfc.jwk import KeySet, RSAKey

from smart_auth import keys

from .oauth_helpers import KEALA


def _b64decode(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def test_the_id_token_verifies_over_its_signing_input_with_the_published_key(flow):
    body = flow.tokens(who=KEALA, patient="Keala", nonce="n-1")
    header_part, payload_part, signature_part = body["id_token"].split(".")
    assert "=" not in body["id_token"]  # BASE64URL without padding (RFC 7515 section 2)
    header = json.loads(_b64decode(header_part))
    assert header == {"typ": "JWT", "alg": "RS256", "kid": header["kid"]}
    published = KeySet.import_key_set(flow.client.get("/oauth/jwks").get_json()).get_by_kid(header["kid"])
    published.public_key.verify(
        _b64decode(signature_part), f"{header_part}.{payload_part}".encode(), padding.PKCS1v15(), hashes.SHA256()
    )
    claims = json.loads(_b64decode(payload_part))
    digest = hashlib.sha256(body["access_token"].encode()).digest()
    assert claims["at_hash"] == base64.urlsafe_b64encode(digest[:16]).decode().rstrip("=")
    assert claims["nonce"] == "n-1" and claims["auth_time"] <= claims["iat"]


def test_sign_jwt_matches_a_joserfc_verification():
    from joserfc import jwt

    key = RSAKey.generate_key(2048, parameters={"alg": "RS256", "use": "sig"}, auto_kid=True)
    token = keys.SigningKey(key.kid, key).sign_jwt({"sub": "é", "n": 1})
    decoded = jwt.decode(token, key, algorithms=["RS256"])
    assert decoded.header == {"typ": "JWT", "alg": "RS256", "kid": key.kid}
    assert decoded.claims == {"sub": "é", "n": 1}
