"""The CapabilityStatement is generated from the registry that routes the API, so the two agree."""

from fhir.resources.R4B.capabilitystatement import CapabilityStatement

from mappers import REGISTRY, provenance


def test_capability_statement_validates_and_lists_every_type(client):
    body = client.get("/fhir/metadata").get_json(force=True)
    CapabilityStatement.model_validate(body)
    assert body["fhirVersion"] == "4.0.1" and body["kind"] == "instance"
    assert body["instantiates"] == [
        "http://hl7.org/fhir/us/core/CapabilityStatement/us-core-server|6.1.0",
        "http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data",
    ]
    rest = body["rest"][0]
    assert rest["security"]["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    assert [r["type"] for r in rest["resource"]] == [*REGISTRY, "Provenance", "Binary", "Group"]
    assert rest["resource"][-2]["interaction"] == [{"code": "read"}] and "searchParam" not in rest["resource"][-2]


def test_every_declared_search_parameter_is_accepted_by_the_api(client, auth):
    headers = auth("system/*.rs")
    body = client.get("/fhir/metadata").get_json(force=True)
    samples = {"token": "x", "date": "ge2020", "string": "a", "reference": "Patient/x", "uri": "http://x.org/q"}
    for resource in body["rest"][0]["resource"]:
        for param in resource.get("searchParam", []):
            response = client.get(
                f"/fhir/{resource['type']}",
                query_string={param["name"]: samples[param["type"]]},
                headers={**headers, "Prefer": "handling=strict"},
            )
            assert response.status_code == 200, (resource["type"], param["name"], response.get_json(force=True))
        for include in resource.get("searchInclude", []):
            response = client.get(f"/fhir/{resource['type']}?_include={include}", headers=headers)
            assert response.status_code == 200, include
        for include in resource.get("searchRevInclude", []):
            response = client.get(f"/fhir/{resource['type']}?_revinclude={include}", headers=headers)
            assert response.status_code == 200, include


def test_supported_profiles_come_from_the_registry(client):
    body = client.get("/fhir/metadata").get_json(force=True)
    for resource in body["rest"][0]["resource"]:
        if resource["type"] in ("Binary", "Group"):
            # The bytes of a document, and the Bulk Data Groups: no profile constrains them.
            assert "supportedProfile" not in resource
            continue
        declared = REGISTRY[resource["type"]].profiles if resource["type"] in REGISTRY else (provenance.PROFILE,)
        assert resource["supportedProfile"] == list(declared)


def test_provenance_is_read_and_revincluded_on_every_compartment_type(client):
    resources = {r["type"]: r for r in client.get("/fhir/metadata").get_json(force=True)["rest"][0]["resource"]}
    assert resources["Provenance"]["interaction"] == [{"code": "read"}]
    assert "searchParam" not in resources["Provenance"]
    with_provenance = sorted(t for t, r in resources.items() if "Provenance:target" in r.get("searchRevInclude", []))
    assert with_provenance == sorted(name for name, rt in REGISTRY.items() if rt.compartment)
    assert resources["MedicationRequest"]["searchInclude"] == [
        "MedicationRequest:patient",
        "MedicationRequest:subject",
        "MedicationRequest:encounter",
        "MedicationRequest:requester",
        "MedicationRequest:medication",
    ]
