"""smart_auth/identity_match.py: which fields of a verified identity disagree with the chart."""

import pytest

from smart_auth.identity_match import mismatched_fields

CHART = {
    "first_name": "José",
    "middle_name": "Luis",
    "last_name": "Ramírez-López",
    "birth_date": "1980-05-17",
    "address_line": "12 Oak Street",
    "postal_code": "62704",
}
VERIFIED = {"given_name": "Jose", "family_name": "Ramirez Lopez", "birthdate": "1980-05-17"}


@pytest.mark.parametrize(
    ("claims", "fields"),
    [
        ({}, []),
        ({"given_name": "JOSÉ", "family_name": "ramírez-lópez"}, []),
        ({"given_name": "José Luis"}, []),  # OIDC Core 5.1: several given names, space-separated
        ({"family_name": "RamirezLopez"}, []),
        ({"given_name": "Josefina"}, ["given name"]),
        ({"given_name": None}, ["given name"]),
        ({"family_name": "Ramirez"}, ["family name"]),
        ({"birthdate": "1980-17-05"}, ["date of birth"]),
        ({"birthdate": "0000-05-17"}, ["date of birth"]),  # OIDC Core 5.1: year withheld is no match
        ({"birthdate": None}, ["date of birth"]),
        ({"address": {"street_address": "12 OAK ST.\nApt 4", "postal_code": "62704-0001"}}, []),
        ({"address": {"street_address": "12 Oak Street"}}, []),
        ({"address": {"postal_code": "62704"}}, []),
        ({"address": {"street_address": "12 Oak Avenue", "postal_code": "62704"}}, ["address"]),
        ({"address": {"street_address": "12 Oak Street", "postal_code": "10001"}}, ["address"]),
        ({"address": "12 Oak Street"}, ["address"]),  # not an address object
        (
            {"given_name": "Ann", "family_name": "Osler", "birthdate": "1990-01-01"},
            ["given name", "family name", "date of birth"],
        ),
    ],
)
def test_fields_that_do_not_match(claims, fields):
    assert mismatched_fields(CHART, {**VERIFIED, **claims}) == fields


def test_an_address_is_compared_only_when_the_chart_has_one():
    chart = {**CHART, "address_line": None, "postal_code": None}
    assert mismatched_fields(chart, {**VERIFIED, "address": {"street_address": "9 Elm Rd", "postal_code": "1"}}) == []


def test_names_that_normalise_to_nothing_never_match():
    chart = {**CHART, "first_name": "--"}
    assert mismatched_fields(chart, {**VERIFIED, "given_name": " - "}) == ["given name"]
