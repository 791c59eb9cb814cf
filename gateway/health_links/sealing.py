"""Encrypting what a link shares (STU1 "Encrypting and decrypting files"): compact JWE, ``alg: dir``,
``enc: A256GCM``, ``cty`` the file's content type, ``zip: DEF`` (the spec allows it; FHIR JSON shrinks about
tenfold). joserfc does the JOSE work.

Keys of long-term (``L``) links stay on the server, because each later visit is encrypted afresh; they are
kept sealed the same way under a key derived (HKDF) from the deployment's secret, bound to the link's row, so
a copied database alone opens nothing.
"""

import base64
import functools

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import OctKey

ALG, ENC = "dir", "A256GCM"
ALGORITHMS = [ALG, ENC, "DEF"]  # joserfc allows only what is listed, the DEF compression too
FHIR_JSON = "application/fhir+json"


class SealError(ValueError):
    """A file or a stored key that does not open with the key given."""


def _oct(key_b64):
    return OctKey.import_key(base64.urlsafe_b64decode(key_b64 + "=" * (-len(key_b64) % 4)))


def encrypt_file(key_b64, plaintext, content_type=FHIR_JSON):
    """The compact JWE of ``plaintext`` under a link's key (base64url, 32 bytes)."""
    header = {"alg": ALG, "enc": ENC, "cty": content_type, "zip": "DEF"}
    return jwe.encrypt_compact(header, plaintext, _oct(key_b64), algorithms=ALGORITHMS)


def decrypt_file(key_b64, token):
    """(content type, plaintext) of a compact JWE made with a link's key; SealError when it does not open."""
    try:
        found = jwe.decrypt_compact(token, _oct(key_b64), algorithms=ALGORITHMS)
    except (JoseError, ValueError) as exc:
        raise SealError(f"the file does not decrypt with the link's key ({exc.__class__.__name__})") from None
    return found.protected.get("cty"), found.plaintext


@functools.lru_cache(maxsize=8)
def _wrapping_key(secret):
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"fhir-gateway health link keys")
    return base64.urlsafe_b64encode(derived.derive(secret.encode())).rstrip(b"=").decode()


def seal_text(secret, link_uid, text):
    """A link's key (or whole text) sealed for storage under the deployment's secret; the link's uid is in the
    header."""
    header = {"alg": ALG, "enc": ENC, "kid": link_uid}
    return jwe.encrypt_compact(header, text.encode(), _oct(_wrapping_key(secret)), algorithms=ALGORITHMS)


def open_text(secret, link_uid, sealed):
    """The text sealed by seal_text for this link; SealError under another secret or for another link's row."""
    try:
        found = jwe.decrypt_compact(sealed, _oct(_wrapping_key(secret)), algorithms=ALGORITHMS)
    except (JoseError, ValueError):
        raise SealError("the link's key does not open with this secret") from None
    if found.protected.get("kid") != link_uid:  # the header is authenticated: a key moved to another row fails
        raise SealError("the sealed key belongs to another link")
    return found.plaintext.decode()
