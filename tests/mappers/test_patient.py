import pytest

from mappers import UnmappableValue
from mappers.patient import RESOURCE, to_fhir

RACE = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race"
ETHNICITY = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-ethnicity"
BIRTHSEX = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-birthsex"
SEX = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-sex"
TRIBAL = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-tribal-affiliation"
OMB = "urn:oid:2.16.840.1.113883.6.238"
NULL_FLAVOR = "http://terminology.hl7.org/CodeSystem/v3-NullFlavor"

FULL = dict(
    uid="pat-7f3a",
    mrn="100231",
    first_name="Maria",
    middle_name="Elena",
    last_name="Garcia",
    suffix="Jr.",
    previous_last_name="Lopez",
    birth_date="1979-05-01",
    sex="F",
    birth_sex="F",
    sex_for_clinical_use="F",
    race_code="2106-3",
    ethnicity_code="2135-2",
    preferred_language="es",
    email="maria.garcia@example.com",
    phone="(916) 555-0142",
    home_phone="(916) 555-0147",
    address_line="2417 Alder Creek Way",
    address_line2="Apt 3",
    city="Sacramento",
    state="CA",
    postal_code="95823",
    previous_address_line="49 Meadow St",
    previous_city="Davis",
    previous_state="CA",
    previous_postal_code="95616",
    previous_address_from="2016-12-06",
    moved_out_on="2020-07-22",
    tribal_affiliation_code="187",
    tribal_enrolled=0,
    deceased_at="2024-03-05T14:30:00Z",
    provider_id=3,
    updated_at="2024-03-05T14:30:00Z",
)
SPARSE = dict(uid="pat-0001", mrn="M-9", first_name="Sam", last_name="Lee", birth_date="2001-02-03", sex="U")


def extension(resource, url):
    return next((ext for ext in resource.get("extension", []) if ext["url"] == url), None)


def sub(ext, name):
    return next(item for item in ext["extension"] if item["url"] == name)


def test_full_row(chart_row, ctx, validate, assert_searchable):
    patient = validate(to_fhir(chart_row("patients", **FULL), ctx))

    assert patient["id"] == "pat-7f3a"
    assert patient["meta"]["profile"] == ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"]
    assert patient["identifier"] == [
        {
            "use": "usual",
            "type": {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                        "code": "MR",
                        "display": "Medical record number",
                    }
                ]
            },
            "system": "urn:oid:2.16.840.1.113883.3.4242.1",
            "value": "100231",
        }
    ]
    assert patient["name"] == [
        {"use": "official", "family": "Garcia", "given": ["Maria", "Elena"], "suffix": ["Jr."]},
        {"use": "old", "family": "Lopez"},
    ]
    assert patient["telecom"] == [
        {"system": "phone", "value": "(916) 555-0142", "use": "mobile"},
        {"system": "phone", "value": "(916) 555-0147", "use": "home"},
        {"system": "email", "value": "maria.garcia@example.com"},
    ]
    assert patient["gender"] == "female"
    assert patient["birthDate"] == "1979-05-01"
    assert patient["deceasedDateTime"] == "2024-03-05T14:30:00Z"
    assert patient["address"] == [
        {
            "use": "home",
            "line": ["2417 Alder Creek Way", "Apt 3"],
            "city": "Sacramento",
            "state": "CA",
            "postalCode": "95823",
            "country": "US",
        },
        {
            "use": "old",
            "line": ["49 Meadow St"],
            "city": "Davis",
            "state": "CA",
            "postalCode": "95616",
            "country": "US",
            "period": {"start": "2016-12-06", "end": "2020-07-22"},
        },
    ]
    assert patient["communication"] == [
        {"language": {"coding": [{"system": "urn:ietf:bcp:47", "code": "es", "display": "Spanish"}]}, "preferred": True}
    ]
    assert patient["managingOrganization"] == {"reference": "Organization/org-11c2"}
    assert patient["generalPractitioner"] == [{"reference": "Practitioner/prac-9d0e"}]
    assert_searchable(patient, RESOURCE)


def test_full_row_race_ethnicity_and_birth_sex(chart_row, ctx):
    patient = to_fhir(chart_row("patients", **FULL), ctx)

    race = extension(patient, RACE)
    assert sub(race, "ombCategory")["valueCoding"] == {"system": OMB, "code": "2106-3", "display": "White"}
    assert sub(race, "text")["valueString"] == "White"
    ethnicity = extension(patient, ETHNICITY)
    assert sub(ethnicity, "ombCategory")["valueCoding"] == {
        "system": OMB,
        "code": "2135-2",
        "display": "Hispanic or Latino",
    }
    assert sub(ethnicity, "text")["valueString"] == "Hispanic or Latino"
    assert extension(patient, BIRTHSEX) == {"url": BIRTHSEX, "valueCode": "F"}
    assert extension(patient, SEX) == {"url": SEX, "valueCode": "248152002"}
    assert [ext["url"] for ext in patient["extension"]] == [RACE, ETHNICITY, TRIBAL, BIRTHSEX, SEX]


def test_sparse_row_omits_what_is_not_charted(chart_row, validate):
    ctx = {"patient": "pat-0001", "organization": "org-1", "mrn_system": "urn:example:mrn", "provider": None}
    patient = validate(to_fhir(chart_row("patients", **SPARSE), ctx))

    assert patient["name"] == [{"use": "official", "family": "Lee", "given": ["Sam"]}]
    assert patient["gender"] == "unknown"
    assert "extension" not in patient
    for absent in ("telecom", "address", "communication", "deceasedDateTime", "generalPractitioner"):
        assert absent not in patient
    assert patient["managingOrganization"] == {"reference": "Organization/org-1"}


@pytest.mark.parametrize("sex, gender", [("F", "female"), ("M", "male"), ("O", "other"), ("U", "unknown")])
def test_sex_maps_to_gender_only(chart_row, ctx, sex, gender):
    # Birth sex and the sex recorded for care are their own columns: administrative sex no longer implies them.
    patient = to_fhir(chart_row("patients", **{**SPARSE, "sex": sex}), ctx)
    assert patient["gender"] == gender
    assert extension(patient, BIRTHSEX) is None
    assert extension(patient, SEX) is None


@pytest.mark.parametrize("birth_sex, code", [("F", "F"), ("M", "M"), ("U", "UNK"), ("O", "UNK")])
def test_birth_sex_comes_from_its_own_column(chart_row, ctx, validate, birth_sex, code):
    patient = validate(to_fhir(chart_row("patients", **{**SPARSE, "sex": "M", "birth_sex": birth_sex}), ctx))
    assert patient["extension"] == [{"url": BIRTHSEX, "valueCode": code}]


@pytest.mark.parametrize(
    "recorded, code", [("F", "248152002"), ("M", "248153007"), ("I", "32570681000036106"), ("U", "UNK")]
)
def test_sex_extension_uses_the_vsac_sex_codes(chart_row, ctx, validate, recorded, code):
    # US Core 6.1.0 us-core-sex: valueCode bound to VSAC 2.16.840.1.113762.1.4.1240.3 (SNOMED female,
    # male, indeterminate sex; v3 UNK), as in the package's Patient-example.
    patient = validate(to_fhir(chart_row("patients", **{**SPARSE, "sex_for_clinical_use": recorded}), ctx))
    assert patient["extension"] == [{"url": SEX, "valueCode": code}]


def test_unknown_recorded_sex_is_refused(chart_row, ctx):
    with pytest.raises(UnmappableValue, match="'Q'"):
        to_fhir(chart_row("patients", **{**SPARSE, "sex_for_clinical_use": "Q"}), ctx)


def test_tribal_affiliation_with_enrollment(chart_row, ctx, validate):
    patient = validate(to_fhir(chart_row("patients", **FULL), ctx))
    assert extension(patient, TRIBAL) == {
        "url": TRIBAL,
        "extension": [
            {
                "url": "tribalAffiliation",
                "valueCodeableConcept": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-TribalEntityUS",
                            "code": "187",
                            "display": "Paiute-Shoshone Tribe of the Fallon Reservation and Colony, Nevada",
                        }
                    ],
                    "text": "Paiute-Shoshone Tribe of the Fallon Reservation and Colony, Nevada",
                },
            },
            {"url": "isEnrolled", "valueBoolean": False},
        ],
    }


def test_tribe_without_enrollment_answer_or_display(chart_row, ctx, validate):
    row = chart_row("patients", **{**SPARSE, "tribal_affiliation_code": "999"})
    patient = validate(to_fhir(row, ctx))
    assert patient["extension"] == [
        {
            "url": TRIBAL,
            "extension": [
                {
                    "url": "tribalAffiliation",
                    "valueCodeableConcept": {
                        "coding": [{"system": "http://terminology.hl7.org/CodeSystem/v3-TribalEntityUS", "code": "999"}]
                    },
                }
            ],
        }
    ]


def test_previous_address_open_start(chart_row, ctx, validate):
    row = chart_row("patients", **{**SPARSE, "previous_city": "Fresno", "moved_out_on": "2019-01-31"})
    patient = validate(to_fhir(row, ctx))
    assert patient["address"] == [{"use": "old", "city": "Fresno", "country": "US", "period": {"end": "2019-01-31"}}]


@pytest.mark.parametrize(
    "code, display, text", [("UNK", "unknown", "Unknown"), ("ASKU", "asked but unknown", "Asked but unknown")]
)
def test_unknown_race_uses_null_flavor(chart_row, ctx, validate, code, display, text):
    patient = validate(to_fhir(chart_row("patients", **{**SPARSE, "race_code": code}), ctx))
    ext = extension(patient, RACE)
    assert sub(ext, "ombCategory")["valueCoding"] == {"system": NULL_FLAVOR, "code": code, "display": display}
    assert sub(ext, "text")["valueString"] == text


@pytest.mark.parametrize("code, text", [("UNK", "Unknown"), ("ASKU", "Asked but unknown")])
def test_unknown_ethnicity_keeps_only_its_text(chart_row, ctx, validate, code, text):
    # US Core 3.1.1's omb-ethnicity-category holds the two OMB codes only (6.1.0 adds UNK and ASKU):
    # leaving ombCategory out and keeping the 1..1 text satisfies both versions.
    patient = validate(to_fhir(chart_row("patients", **{**SPARSE, "ethnicity_code": code}), ctx))
    assert extension(patient, ETHNICITY) == {"url": ETHNICITY, "extension": [{"url": "text", "valueString": text}]}


def test_detailed_race_code_is_not_guessed_into_a_category(chart_row, ctx):
    patient = to_fhir(chart_row("patients", **{**SPARSE, "race_code": "2108-9"}), ctx)
    assert extension(patient, RACE) is None


def test_unlisted_language_keeps_its_code_without_display(chart_row, ctx, validate):
    patient = validate(to_fhir(chart_row("patients", **{**SPARSE, "preferred_language": "yue"}), ctx))
    assert patient["communication"][0]["language"] == {"coding": [{"system": "urn:ietf:bcp:47", "code": "yue"}]}


def test_address_with_only_a_city_still_says_us(chart_row, ctx):
    patient = to_fhir(chart_row("patients", **{**SPARSE, "city": "Oakland"}), ctx)
    assert patient["address"] == [{"use": "home", "city": "Oakland", "country": "US"}]


def test_unknown_sex_is_refused(chart_row, ctx):
    with pytest.raises(UnmappableValue, match="'X'"):
        to_fhir(chart_row("patients", **{**SPARSE, "sex": "X"}), ctx)


def test_several_races_and_a_detailed_code_from_the_self_reported_answers(chart_row, ctx, validate):
    # US Core us-core-race: ombCategory 0..5 and detailed 0..*, one text; a CDC code that is not one of the
    # five OMB categories stays detailed (its category needs the CDC hierarchy, which we do not keep).
    answers = {
        "race": [
            ("2076-8", "Native Hawaiian or Other Pacific Islander"),
            ("2028-9", "Asian"),
            ("2079-3", "Native Hawaiian"),
        ],
        "ethnicity": [("2186-5", "Not Hispanic or Latino"), ("2148-5", "Mexican")],
    }
    row = chart_row("patients", **{**SPARSE, "race_code": "2106-3", "ethnicity_code": "2135-2"})
    patient = validate(to_fhir(row, {**ctx, "races": answers}))
    assert extension(patient, RACE) == {
        "url": RACE,
        "extension": [
            {
                "url": "ombCategory",
                "valueCoding": {
                    "system": OMB,
                    "code": "2076-8",
                    "display": "Native Hawaiian or Other Pacific Islander",
                },
            },
            {"url": "ombCategory", "valueCoding": {"system": OMB, "code": "2028-9", "display": "Asian"}},
            {"url": "detailed", "valueCoding": {"system": OMB, "code": "2079-3", "display": "Native Hawaiian"}},
            {"url": "text", "valueString": "Native Hawaiian or Other Pacific Islander, Asian, Native Hawaiian"},
        ],
    }
    assert extension(patient, ETHNICITY) == {
        "url": ETHNICITY,
        "extension": [
            {
                "url": "ombCategory",
                "valueCoding": {"system": OMB, "code": "2186-5", "display": "Not Hispanic or Latino"},
            },
            {"url": "detailed", "valueCoding": {"system": OMB, "code": "2148-5", "display": "Mexican"}},
            {"url": "text", "valueString": "Not Hispanic or Latino, Mexican"},
        ],
    }


def test_answers_of_one_kind_leave_the_other_kind_to_its_column(chart_row, ctx, validate):
    row = chart_row("patients", **{**SPARSE, "race_code": "2106-3", "ethnicity_code": "2135-2"})
    patient = validate(to_fhir(row, {**ctx, "races": {"race": [("2054-5", "Black or African American")]}}))
    assert extension(patient, RACE) == {
        "url": RACE,
        "extension": [
            {
                "url": "ombCategory",
                "valueCoding": {"system": OMB, "code": "2054-5", "display": "Black or African American"},
            },
            {"url": "text", "valueString": "Black or African American"},
        ],
    }
    assert sub(extension(patient, ETHNICITY), "ombCategory")["valueCoding"]["code"] == "2135-2"


def test_unknown_answers_keep_the_null_flavor_rules(chart_row, ctx, validate):
    # Race: v3-NullFlavor in ombCategory (3.1.1's omb-race-category lists UNK and ASKU); ethnicity: text only.
    answers = {"race": [("ASKU", None)], "ethnicity": [("UNK", None)]}
    patient = validate(to_fhir(chart_row("patients", **SPARSE), {**ctx, "races": answers}))
    assert extension(patient, RACE) == {
        "url": RACE,
        "extension": [
            {
                "url": "ombCategory",
                "valueCoding": {"system": NULL_FLAVOR, "code": "ASKU", "display": "asked but unknown"},
            },
            {"url": "text", "valueString": "Asked but unknown"},
        ],
    }
    assert extension(patient, ETHNICITY) == {"url": ETHNICITY, "extension": [{"url": "text", "valueString": "Unknown"}]}


def test_a_detailed_answer_without_display_names_its_code(chart_row, ctx, validate):
    patient = validate(to_fhir(chart_row("patients", **SPARSE), {**ctx, "races": {"race": [("2108-9", None)]}}))
    assert extension(patient, RACE) == {
        "url": RACE,
        "extension": [
            {"url": "detailed", "valueCoding": {"system": OMB, "code": "2108-9"}},
            {"url": "text", "valueString": "2108-9"},
        ],
    }
