"""Device, MedicationDispense, Location and PractitionerRole searches on the demo data: exact results, every
SHALL and SHOULD search of US Core 6.1.0 (CapabilityStatement-us-core-server), with patient and system tokens."""

import pytest

from fixtures.demo_practice import uid

FHIR = "/fhir"
DISP = "http://hl7.org/fhir/us/core/StructureDefinition/"


def pat(handle):
    return uid("patients", handle)


def ids(bundle, mode="match"):
    return sorted(e["resource"]["id"] for e in bundle.get("entry", []) if e["search"]["mode"] == mode)


def rows(table, *handles):
    return sorted(uid(table, handle) for handle in handles)


@pytest.fixture
def get(client, auth):
    def run(path, scope="system/*.rs", patient=None, expect=200):
        response = client.get(f"{FHIR}/{path}", headers=auth(scope, patient))
        assert response.status_code == expect, response.get_json(force=True)
        return response.get_json(force=True)

    return run


@pytest.mark.parametrize(
    "query, expected",
    [
        # Device: patient (SHALL), patient+type and patient+status (SHOULD)
        ("Device?patient={james}", rows("implants", "james:0", "james:1")),
        ("Device?patient=Patient/{thomas}", rows("implants", "thomas:0", "thomas:1", "thomas:2")),
        ("Device?patient={james}&type=http://snomed.info/sct|109228008", rows("implants", "james:0")),
        ("Device?patient={james}&type=19257004", rows("implants", "james:1")),
        ("Device?patient={thomas}&status=inactive", rows("implants", "thomas:2")),
        ("Device?patient={thomas}&status=active", rows("implants", "thomas:0", "thomas:1")),
        ("Device?patient={maria}", []),
        # MedicationDispense: patient (SHALL), patient+status and patient+status+type (SHOULD)
        ("MedicationDispense?patient={maria}", rows("dispenses", "maria:0", "maria:1", "maria:2", "maria:3")),
        ("MedicationDispense?patient={maria}&status=preparation", rows("dispenses", "maria:3")),
        (
            "MedicationDispense?patient={james}&status=completed&type=http://terminology.hl7.org/CodeSystem/v3-ActCode|FF",
            rows("dispenses", "james:0", "james:3"),
        ),
        (
            "MedicationDispense?patient={thomas}&status=cancelled,completed&type=RF",
            rows("dispenses", "thomas:1", "thomas:2"),
        ),
        ("MedicationDispense?patient={noah}&type=TF", rows("dispenses", "noah:0")),
        ("MedicationDispense?patient={james}&whenhandedover=ge2025-01-01", rows("dispenses", "james:1", "james:2")),
        # Location: name, address (SHALL); address-city, -state, -postalcode (SHOULD)
        ("Location?name=sunrise", rows("locations", "sunrise_main", "sunrise_midtown")),
        ("Location?name=Lakeside Grand", rows("locations", "lakeside_annex")),
        ("Location?address=2600 capitol", rows("locations", "sunrise_midtown")),
        ("Location?address=capitol", []),
        ("Location?address-city=oakland", rows("locations", "lakeside_main", "lakeside_annex")),
        (
            "Location?address-state=CA",
            rows("locations", *["sunrise_main", "sunrise_midtown"], "lakeside_main", "lakeside_annex"),
        ),
        ("Location?address-postalcode=95815", rows("locations", "sunrise_main")),
        # PractitionerRole: specialty, practitioner (SHALL)
        (
            "PractitionerRole?specialty=http://nucc.org/provider-taxonomy|207Q00000X",
            rows("provider_roles", "patel_main", "patel_midtown", "oconnor_main"),
        ),
        ("PractitionerRole?specialty=208000000X", rows("provider_roles", "chen_main")),
        ("PractitionerRole?practitioner={patel_p}", rows("provider_roles", "patel_main", "patel_midtown")),
        ("PractitionerRole?practitioner=Practitioner/{kim_p}", rows("provider_roles", "kim_main")),
    ],
)
def test_searches_find_exactly(get, query, expected):
    names = {h: pat(h) for h in ("maria", "james", "thomas", "noah")}
    names |= {"patel_p": uid("providers", "patel"), "kim_p": uid("providers", "kim")}
    assert ids(get(query.format(**names) + "&_count=100")) == expected


def test_a_patient_token_finds_its_own_implants_and_fills(get):
    james = pat("james")
    bundle = get(f"Device?patient={james}", "patient/Device.rs", james)
    assert ids(bundle) == rows("implants", "james:0", "james:1")
    assert ids(get(f"MedicationDispense?patient={pat('maria')}", "patient/*.rs", james)) == []


def test_patients_see_their_own_practices_sites_and_roles(get):
    maria = pat("maria")
    assert ids(get("Location?address-state=CA", "patient/*.rs", maria)) == rows(
        "locations", "sunrise_main", "sunrise_midtown"
    )
    assert ids(get("PractitionerRole?specialty=208000000X", "patient/*.rs", maria)) == []
    noah = pat("noah")
    assert ids(get("PractitionerRole?specialty=208000000X", "patient/*.rs", noah)) == rows(
        "provider_roles", "chen_main"
    )
    other = uid("locations", "sunrise_main")
    assert get(f"Location/{other}", "patient/*.rs", noah, expect=404)["resourceType"] == "OperationOutcome"


def test_includes(get):
    patel = uid("providers", "patel")
    bundle = get(
        f"PractitionerRole?practitioner={patel}&_include=PractitionerRole:practitioner&_include=PractitionerRole:endpoint"
    )
    assert ids(bundle) == rows("provider_roles", "patel_main", "patel_midtown")
    assert ids(bundle, "include") == [patel]
    bundle = get(
        f"MedicationDispense?patient={pat('noah')}&_include=MedicationDispense:medication"
        "&_include=MedicationDispense:prescription"
    )
    assert ids(bundle) == rows("dispenses", "noah:0", "noah:1")
    # The compounded cream's fill references its formulary Medication, as its prescription does.
    assert ids(bundle, "include") == sorted(
        [uid("medications", "noah:0"), uid("medications", "noah:2"), uid("formulary", "hc_keto_cream")]
    )


def test_a_fill_reads_as_its_profile_with_its_prescription(get):
    fill = get(f"MedicationDispense/{uid('dispenses', 'noah:0')}")
    assert fill["meta"]["profile"] == [DISP + "us-core-medicationdispense"]
    assert fill["authorizingPrescription"] == [{"reference": f"MedicationRequest/{uid('medications', 'noah:0')}"}]
    assert fill["medicationCodeableConcept"]["text"] == "methylphenidate hydrochloride 20 MG Oral Tablet"
    role = get(f"PractitionerRole/{uid('provider_roles', 'patel_midtown')}")
    assert role["location"] == [{"reference": f"Location/{uid('locations', 'sunrise_midtown')}"}]
    assert role["telecom"] == [{"system": "phone", "value": "(916) 555-0111", "use": "work"}]


def test_every_demo_device_keeps_us_core_3_1_1_udi_rules(get):
    # us-core-12: a UDI has its carrier; us-core-9: a UDI has at least one production identifier.
    production = ("manufactureDate", "expirationDate", "lotNumber", "serialNumber", "distinctIdentifier")
    devices = [e["resource"] for e in get("Device?_count=100")["entry"]]
    assert len(devices) == 5
    for device in devices:
        if "udiCarrier" in device:
            assert device["udiCarrier"][0]["carrierHRF"]
            assert any(key in device for key in production), device["id"]


def test_the_patient_summary_lists_implants_as_the_ips_devices_section(get):
    james = pat("james")
    bundle = get(f"Patient/{james}/$summary", "patient/*.rs", james)
    [section] = [s for s in bundle["entry"][0]["resource"]["section"] if s["title"] == "Implants"]
    assert section["code"]["coding"][0]["code"] == "46264-8"
    assert sorted(e["reference"] for e in section["entry"]) == [
        f"Device/{i}" for i in rows("implants", "james:0", "james:1")
    ]


def test_the_implants_section_shows_what_another_clinic_needs(get):
    from gateway.record_sections import device

    item = device(get(f"Device/{uid('implants', 'james:0')}"), {})
    assert (item["name"], item["status"], item["date"]) == ("Knee joint prosthesis", "Active", None)
    assert item["details"] == [
        ("Made by", "Zimmer Biomet"),
        ("Model", "NexGen LPS-Flex"),
        ("UDI", "(01)00889024236109(11)190615(17)290500(10)KN4471(21)SN88214"),
        ("Lot", "KN4471"),
        ("Serial number", "SN88214"),
        ("Made on", "2019-06-15"),
        ("Use by", "2029-05-31"),
    ]
    assert item["codes"] == [("SNOMED CT", "109228008", "")]
