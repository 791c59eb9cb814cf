"""The server's id_token signing keys: RSA (RS256), kept in the database, generated on first start,
rotated by ``fhir-gateway keys rotate``. A retired key stays in the JWKS until every id_token it signed
has expired, so apps can still verify them.

The private JWK is stored sealed (AES-GCM under a key derived with HKDF from the deployment's secret),
so a copy of the database without the secret holds no usable private key.
"""

import base64
import functools
import json
import os
import time

import orjson
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc.jwk import RSAKey

from gateway import store
from gateway.store import oauth as oauth_store

ALG = "RS256"
ID_TOKEN_TTL = 3600
KEY_SIZE = 2048
SEALED = "aesgcm:"  # prefix of a sealed private JWK; older rows hold the JWK's JSON itself


class SigningKey:
    """The key that signs id_tokens now: its kid and the joserfc private key (parsed once per process)."""

    def __init__(self, kid, key):
        self.kid = kid
        self.key = key

    def sign_jwt(self, claims):
        """A JWT of ``claims`` signed RS256, in the JWS Compact Serialization (RFC 7515 section 7.1).

        The signature is RSASSA-PKCS1-v1_5 with SHA-256 (RFC 7518 section 3.3) over the JWS Signing Input,
        ASCII(BASE64URL(UTF8(JWS Protected Header)) || '.' || BASE64URL(JWS Payload)) (RFC 7515 section 5.1,
        steps 5-6), made with ``cryptography`` on the parsed private key: joserfc's jwt.encode adds nothing to
        a fixed header and one algorithm but its own checks and copies.
        """
        signing_input = _protected_header(self.kid) + b"." + _b64(orjson.dumps(claims))
        signature = self.key.private_key.sign(signing_input, _PKCS1V15, _SHA256)
        return (signing_input + b"." + _b64(signature)).decode("ascii")


_PKCS1V15, _SHA256 = padding.PKCS1v15(), hashes.SHA256()


def _b64(data):
    """BASE64URL of RFC 7515 section 2: URL-safe base64 with the trailing '=' padding removed."""
    return base64.urlsafe_b64encode(data).rstrip(b"=")


@functools.lru_cache(maxsize=8)
def _protected_header(kid):
    return _b64(orjson.dumps({"typ": "JWT", "alg": ALG, "kid": kid}))


class KeyLocked(RuntimeError):
    """The stored signing key does not open with this secret (another deployment's copy, or a changed secret)."""


@functools.lru_cache(maxsize=8)
def _wrapping_key(secret):
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"fhir-gateway id_token signing key").derive(
        secret.encode()
    )


def seal(secret, kid, private_jwk):
    """Encrypt a private JWK (JSON text) for storage; the kid is bound in as associated data."""
    nonce = os.urandom(12)
    sealed = AESGCM(_wrapping_key(secret)).encrypt(nonce, private_jwk.encode(), kid.encode())
    return SEALED + base64.urlsafe_b64encode(nonce + sealed).decode()


@functools.lru_cache(maxsize=8)
def _open(secret, kid, stored):
    if not stored.startswith(SEALED):
        return RSAKey.import_key(json.loads(stored))
    raw = base64.urlsafe_b64decode(stored[len(SEALED) :].encode())
    try:
        plain = AESGCM(_wrapping_key(secret)).decrypt(raw[:12], raw[12:], kid.encode())
    except Exception as exc:  # cryptography's InvalidTag: the wrong secret, or a damaged row
        raise KeyLocked(f"the signing key {kid} does not open with this secret") from exc
    return RSAKey.import_key(json.loads(plain))


def _create(conn, secret, now):
    key = RSAKey.generate_key(KEY_SIZE, parameters={"alg": ALG, "use": "sig"}, auto_kid=True)
    oauth_store.insert_key(
        conn,
        key.kid,
        ALG,
        seal(secret, key.kid, json.dumps(key.as_dict(private=True))),
        json.dumps(key.as_dict(private=False)),
        now,
    )
    return key.kid


def _seal_plain_keys(conn, secret):
    for row in oauth_store.all_keys(conn):
        if not row["private_jwk"].startswith(SEALED):
            oauth_store.set_private_jwk(conn, row["kid"], seal(secret, row["kid"], row["private_jwk"]))


def ensure_signing_key(db, secret):
    """Seal any plain stored key, and create a signing key when none opens with ``secret``; return the active kid.

    A key sealed under another secret cannot sign here: it is retired (its public half stays published
    until its id_tokens expire) and a new key takes over.
    """
    now = int(time.time())
    with store.transaction(db):
        _seal_plain_keys(db, secret)
        row = oauth_store.active_key(db)
        if row is not None and opens(secret, row):
            return row["kid"]
        oauth_store.retire_keys(db, now, now + ID_TOKEN_TTL)
        return _create(db, secret, now)


def opens(secret, row):
    """Whether a stored key row opens with ``secret``."""
    try:
        _open(secret, row["kid"], row["private_jwk"])
    except KeyLocked:
        return False
    return True


def rotate_signing_key(db, secret, keep_published=ID_TOKEN_TTL):
    """Start signing with a new key; the old ones stay published for ``keep_published`` seconds. Return the new kid.

    Raise KeyLocked when the active key does not open with ``secret``: a server running with the other
    secret could not use the new key either.
    """
    now = int(time.time())
    with store.transaction(db):
        _seal_plain_keys(db, secret)
        active = oauth_store.active_key(db)
        if active is not None and not opens(secret, active):
            raise KeyLocked(f"the signing key {active['kid']} does not open with this secret")
        oauth_store.retire_keys(db, now, now + keep_published)
        return _create(db, secret, now)


def signing_key(conn, secret):
    """The active signing key (created on first start by ``ensure_signing_key``)."""
    row = oauth_store.active_key(conn)
    if row is None:
        raise RuntimeError("no signing key: the app factory creates one on first start")
    return SigningKey(row["kid"], _open(secret, row["kid"], row["private_jwk"]))


def jwks(conn):
    """The public JWK Set: the active key and the retired keys whose id_tokens may still be valid."""
    return {"keys": [json.loads(row["public_jwk"]) for row in oauth_store.published_keys(conn, int(time.time()))]}
