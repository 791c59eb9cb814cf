"""SMART Health Cards inside a link the console reads: decode each card and verify its ES256 signature with the
keys its issuer publishes at ``{iss}/.well-known/jwks.json`` (SMART Health Cards Framework, "Determining keys
associated with an issuer"). A verified signature proves who issued the card, not that the issuer is one to trust.
"""

import base64
import binascii

import orjson
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry
from joserfc.registry import HeaderParameter

MAX_CARDS = 20
# Health cards carry ``zip: DEF`` in the JWS header (their payload is raw DEFLATE), which JWS itself does not define.
_REGISTRY = JWSRegistry(header_registry={"zip": HeaderParameter("Compression", "str")}, algorithms=["ES256"])


def _b64decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issuer_key_set(jwks):
    """A KeySet from an issuer's published JWKS document (a dict), or None when it is not one."""
    try:
        return KeySet.import_key_set(jwks)
    except (JoseError, ValueError, TypeError, KeyError):
        return None


def health_cards(cards, inflate, keys_of, notes):
    """The FHIR Bundles of the cards whose signature holds or could not be checked; ``keys_of(iss)`` is
    ``(KeySet, None)`` or ``(None, why)``; ``inflate`` bounds DEFLATE. Each card's fate goes to ``notes``."""
    bundles = []
    for card in cards[:MAX_CARDS]:
        claims = _claims(card, inflate)
        if claims is None:
            notes.append("A health card could not be decoded; it was skipped.")
            continue
        iss, bundle = claims
        keys, why = keys_of(iss)
        if keys is None:
            notes.append(
                f"A SMART Health Card from {iss} was decoded, but its signature was not verified ({why}): "
                "treat it as what the patient brought, not as a verified record."
            )
        elif _signed(card, keys):
            notes.append(
                f"A SMART Health Card signed by {iss} was verified with the keys {iss} publishes; "
                "whether to trust that issuer is for you to judge."
            )
        else:
            notes.append(
                f"A health card said to be from {iss} was not signed with that issuer's keys; it was not shown."
            )
            continue
        bundles.append(bundle)
    return bundles


def _claims(card, inflate):
    """``(iss, fhirBundle)`` of a card, or None when it is not a decodable SMART Health Card JWS."""
    try:
        header_b64, payload_b64, _ = card.split(".")
        header = orjson.loads(_b64decode(header_b64))
        raw = _b64decode(payload_b64)
        claims = orjson.loads(inflate(raw) if header.get("zip") == "DEF" else raw)
        iss, bundle = claims["iss"], claims["vc"]["credentialSubject"]["fhirBundle"]
    except (AttributeError, ValueError, KeyError, TypeError, binascii.Error):
        return None
    if not isinstance(iss, str) or not isinstance(bundle, dict):
        return None
    return iss, bundle


def _signed(card, keys):
    try:
        jws.deserialize_compact(card, keys, registry=_REGISTRY)
    except (JoseError, ValueError, TypeError):
        return False
    return True
