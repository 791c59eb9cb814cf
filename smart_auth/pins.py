"""Access codes (PINs) and SMS security codes: made from a strong random source, compared in constant time.

A PIN is kept sealed (AES-GCM under a key derived from the app secret) so staff can read it again from
the chart, as the practice hands it over at the visit; an SMS code is kept only as an HMAC.
"""

import base64
import hashlib
import hmac
import os
import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

# No look-alikes: no 0/O/Q/D, 1/I/L, 2/Z, 5/S, 8/B, 6/G, U/V.
PIN_ALPHABET = "ACEFHJKMNPRTWXY34679"
PIN_LENGTH = 8
SMS_CODE_DIGITS = 6


def new_pin():
    """A fresh access code of PIN_LENGTH characters from PIN_ALPHABET."""
    return "".join(secrets.choice(PIN_ALPHABET) for _ in range(PIN_LENGTH))


def display_pin(pin):
    """The code as staff read it aloud and print it: two groups of four."""
    return f"{pin[:4]}-{pin[4:]}" if len(pin) == 8 else pin


def normalize_pin(typed):
    """What the person typed, without spaces or dashes and in capitals."""
    return "".join(c for c in (typed or "").upper() if c.isalnum())


def _key(secret, purpose):
    return hashlib.sha256(f"{purpose}:{secret}".encode()).digest()


def seal_pin(secret, pin):
    """Encrypt a PIN for storage; only the app secret opens it again."""
    nonce = os.urandom(12)
    sealed = AESGCM(_key(secret, "pin-seal")).encrypt(nonce, pin.encode(), b"pin")
    return base64.urlsafe_b64encode(nonce + sealed).decode()


def open_pin(secret, sealed):
    """Decrypt a stored PIN; None when it was sealed under another secret."""
    try:
        raw = base64.urlsafe_b64decode(sealed.encode())
        return AESGCM(_key(secret, "pin-seal")).decrypt(raw[:12], raw[12:], b"pin").decode()
    except Exception:  # noqa: BLE001 - a rotated secret or a damaged row reads as "no PIN"
        return None


def pin_matches(secret, sealed, typed):
    """Does the typed code equal the sealed PIN? (constant time; a PIN that will not open never matches)"""
    pin = open_pin(secret, sealed) or ""
    typed = normalize_pin(typed)
    return hmac.compare_digest(typed.encode(), pin.encode()) and bool(pin)


def new_sms_code():
    """Six random digits."""
    return f"{secrets.randbelow(10**SMS_CODE_DIGITS):0{SMS_CODE_DIGITS}d}"


def code_hash(secret, invite_uid, code):
    """The stored form of an SMS code, bound to its invitation."""
    return hmac.new(_key(secret, "sms-code"), f"{invite_uid}:{code}".encode(), hashlib.sha256).hexdigest()


def code_matches(secret, invite_uid, stored_hash, typed):
    """Does the typed code match the stored hash? (constant time)"""
    typed = "".join(c for c in (typed or "") if c.isdigit())
    return bool(stored_hash) and hmac.compare_digest(code_hash(secret, invite_uid, typed), stored_hash)


def phone_digits(phone):
    """A phone number reduced to its last ten digits, so (916) 555-0142 and +1 916 555 0142 compare equal."""
    digits = "".join(c for c in (phone or "") if c.isdigit())
    return digits[-10:]


def phones_match(on_file, typed):
    """Whether a typed phone number is the one on file (both must have at least ten digits)."""
    a, b = phone_digits(on_file), phone_digits(typed)
    return len(a) == 10 and hmac.compare_digest(a.encode(), b.encode())
