"""The server's id_token signing keys: RSA (RS256), kept in the database, generated on first start,
rotated by ``fhir-gateway keys rotate``. A retired key stays in the JWKS until every id_token it signed
has expired, so apps can still verify them.
"""
import functools
import json
import time

from joserfc.jwk import RSAKey

from gateway import store
from gateway.store import oauth as oauth_store

ALG = "RS256"
ID_TOKEN_TTL = 3600
KEY_SIZE = 2048


class SigningKey:
    """The key that signs id_tokens now: its kid and the joserfc private key."""

    def __init__(self, kid, key):
        self.kid = kid
        self.key = key


def _create(conn, now):
    key = RSAKey.generate_key(KEY_SIZE, parameters={"alg": ALG, "use": "sig"}, auto_kid=True)
    oauth_store.insert_key(conn, key.kid, ALG, json.dumps(key.as_dict(private=True)),
                           json.dumps(key.as_dict(private=False)), now)
    return key.kid


def ensure_signing_key(db):
    """Create a signing key when there is none (first start); return the active key's kid."""
    with store.transaction(db.conn):
        row = oauth_store.active_key(db.conn)
        return row["kid"] if row else _create(db.conn, int(time.time()))


def rotate_signing_key(db, keep_published=ID_TOKEN_TTL):
    """Start signing with a new key; the old ones stay published for ``keep_published`` seconds. Return the new kid."""
    now = int(time.time())
    with store.transaction(db.conn):
        oauth_store.retire_keys(db.conn, now, now + keep_published)
        return _create(db.conn, now)


@functools.lru_cache(maxsize=8)
def _import(private_jwk):
    return RSAKey.import_key(json.loads(private_jwk))


def signing_key(conn):
    """The active signing key (created on first start by ``ensure_signing_key``)."""
    row = oauth_store.active_key(conn)
    if row is None:
        raise RuntimeError("no signing key: the app factory creates one on first start")
    return SigningKey(row["kid"], _import(row["private_jwk"]))


def jwks(conn):
    """The public JWK Set: the active key and the retired keys whose id_tokens may still be valid."""
    return {"keys": [json.loads(row["public_jwk"]) for row in oauth_store.published_keys(conn, int(time.time()))]}
