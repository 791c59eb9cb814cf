"""The CapabilityStatement, generated from the same registry that routes reads and searches."""

import functools

import orjson

from gateway.fhir.search import COMMON_PARAMS, PROVENANCE_TARGET
from mappers import REGISTRY, provenance
from smart_auth import discovery

US_CORE_SERVER = "http://hl7.org/fhir/us/core/CapabilityStatement/us-core-server"
BULK_DATA = "http://hl7.org/fhir/uv/bulkdata"  # Bulk Data Access 2.0.0 canonicals
SOFTWARE_VERSION = "0.1.0"


def _search_param(param):
    entry = {"name": param.name, "definition": param.definition, "type": param.type}
    if param.documentation:
        entry["documentation"] = param.documentation
    return entry


def _resource(rt):
    entry = {
        "type": rt.name,
        "profile": f"http://hl7.org/fhir/StructureDefinition/{rt.name}",
        "supportedProfile": list(rt.profiles),
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "versioning": "versioned",
        "readHistory": False,
        "updateCreate": False,
        "conditionalRead": "not-supported",
        "searchParam": [_search_param(p) for p in (*COMMON_PARAMS, *rt.search_params)],
    }
    # A canonical (QuestionnaireResponse.questionnaire) is included by the url of the form it names (handlers).
    includes = [f"{rt.name}:{p.name}" for p in rt.search_params if p.type == "reference"]
    if includes:
        entry["searchInclude"] = includes
    revincludes = [
        f"{other.name}:{p.name}"
        for other in REGISTRY.values()
        for p in other.search_params
        # Not a canonical: a form's responses cite its url, which _revinclude does not follow.
        if p.type == "reference" and rt.name in p.targets and not p.canonical
    ]
    if rt.name in PROVENANCE_TARGET.targets:
        revincludes.append(f"{provenance.NAME}:{PROVENANCE_TARGET.name}")
    if revincludes:
        entry["searchRevInclude"] = revincludes
    if rt.name == "Patient":
        entry["operation"] = [
            {"name": "everything", "definition": "http://hl7.org/fhir/OperationDefinition/Patient-everything"},
            {"name": "summary", "definition": "http://hl7.org/fhir/uv/ips/OperationDefinition/summary"},
            {"name": "export", "definition": f"{BULK_DATA}/OperationDefinition/patient-export"},
        ]
    return entry


def _provenance():
    """Provenance is read by id and revincluded; US Core 6.1.0 asks no search of it (search-type is MAY)."""
    return {
        "type": provenance.NAME,
        "profile": f"http://hl7.org/fhir/StructureDefinition/{provenance.NAME}",
        "supportedProfile": [provenance.PROFILE],
        "interaction": [{"code": "read"}],
        "versioning": "versioned",
        "readHistory": False,
        "updateCreate": False,
        "conditionalRead": "not-supported",
    }


def _binary():
    """A clinical note's document, read by id (``DocumentReference.content.attachment.url``); never searched."""
    return {
        "type": "Binary",
        "profile": "http://hl7.org/fhir/StructureDefinition/Binary",
        "interaction": [{"code": "read"}],
        "documentation": "The document of a DocumentReference (and DiagnosticReport.presentedForm), read with the "
        "same token and scope as the DocumentReference: in its own content type, or as FHIR JSON.",
    }


def _group():
    """A Group per practice (its patients) and the operator's own: read and searched by backend services, and
    exported with Group/[id]/$export (Bulk Data Access 2.0.0, export.html#endpoint---group-of-patients)."""
    return {
        "type": "Group",
        "profile": "http://hl7.org/fhir/StructureDefinition/Group",
        "interaction": [{"code": "read"}, {"code": "search-type"}],
        "searchParam": [
            _search_param(COMMON_PARAMS[0]),
            {"name": "name", "definition": "http://hl7.org/fhir/SearchParameter/Group-name", "type": "string"},
        ],
        "operation": [{"name": "export", "definition": f"{BULK_DATA}/OperationDefinition/group-export"}],
        "documentation": "Groups list patients across charts: only system/ tokens read them.",
    }


def statement(config):
    """Build the CapabilityStatement for this deployment as a dict."""
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-25",
        "publisher": "fhir-gateway",
        "kind": "instance",
        # The US Core version whose profiles and searches it serves, and the Bulk Data server it is.
        "instantiates": [f"{US_CORE_SERVER}|6.1.0", f"{BULK_DATA}/CapabilityStatement/bulk-data"],
        "software": {"name": "fhir-gateway", "version": SOFTWARE_VERSION},
        "implementation": {"description": "Patient-access FHIR gateway", "url": config["FHIR_BASE"]},
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Read-only patient access. Every request except this one needs a bearer token.",
                "security": {
                    "cors": True,
                    "extension": [discovery.oauth_uris_extension(config)],
                    "service": [
                        {
                            "coding": [
                                {
                                    "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                                    "code": "SMART-on-FHIR",
                                }
                            ],
                            "text": "OAuth2 using SMART-on-FHIR profile",
                        }
                    ],
                },
                "resource": [*(_resource(rt) for rt in REGISTRY.values()), _provenance(), _binary(), _group()],
                "operation": [{"name": "export", "definition": f"{BULK_DATA}/OperationDefinition/export"}],
            }
        ],
    }


@functools.lru_cache(maxsize=8)
def _cached(base_url, fhir_base):
    return orjson.dumps(statement({"BASE_URL": base_url, "FHIR_BASE": fhir_base}))


def statement_bytes(config):
    """The serialized CapabilityStatement, built once per base URL."""
    return _cached(config["BASE_URL"], config["FHIR_BASE"])
