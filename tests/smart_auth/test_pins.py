"""PINs and SMS codes: alphabet, sealing under the app secret, normalizing what people type, phone matching."""

import pytest

from smart_auth import pins


def test_pins_are_random_and_from_the_alphabet():
    made = {pins.new_pin() for _ in range(200)}
    assert len(made) == 200
    assert all(len(p) == pins.PIN_LENGTH and set(p) <= set(pins.PIN_ALPHABET) for p in made)


def test_a_sealed_pin_opens_only_under_the_same_secret():
    sealed = pins.seal_pin("one", "ACEF3479")
    assert pins.open_pin("one", sealed) == "ACEF3479" and pins.open_pin("two", sealed) is None
    assert pins.pin_matches("one", sealed, "acef-3479") and not pins.pin_matches("two", sealed, "ACEF3479")
    assert not pins.pin_matches("one", sealed, "")


@pytest.mark.parametrize(
    "on_file, typed, same",
    [
        ("(916) 555-0142", "916-555-0142", True),
        ("(916) 555-0142", "+1 916 555 0142", True),
        ("(916) 555-0142", "555-0142", False),
        ("", "", False),
        (None, "916-555-0142", False),
    ],
)
def test_phone_numbers_compare_by_their_last_ten_digits(on_file, typed, same):
    assert pins.phones_match(on_file, typed) is same


def test_sms_codes_are_six_digits_and_bound_to_their_invitation():
    code = pins.new_sms_code()
    assert len(code) == 6 and code.isdigit()
    stored = pins.code_hash("s", "invite-1", code)
    assert pins.code_matches("s", "invite-1", stored, code)
    assert not pins.code_matches("s", "invite-2", stored, code) and not pins.code_matches("s", "invite-1", None, code)
