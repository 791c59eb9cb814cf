"""FHIR responses: content type, negotiation and the stitching of stored JSON into Bundles."""

import orjson
from flask import Response

FHIR_JSON = "application/fhir+json"
JSON_TYPES = {"application/fhir+json", "application/json+fhir", "application/json", "json", "text/json"}
SUBSETTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue", "code": "SUBSETTED"}


def fhir_json(body, status=200, headers=None):
    """A response whose body is a dict (serialized here) or bytes of stored JSON."""
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    return Response(data, status, headers, content_type=FHIR_JSON + "; charset=utf-8")


def wants_json(format_param, accept):
    """Return False when the client asks only for a format other than JSON (-> 406)."""
    if format_param:
        return format_param.split(";")[0].strip() in JSON_TYPES
    if not accept:
        return True
    offered = [part.split(";")[0].strip() for part in accept.split(",")]
    return any(t in JSON_TYPES or t in ("*/*", "application/*", "") for t in offered)


def subset(json_bytes, keep=None, drop=()):
    """Return a resource limited to ``keep`` elements (or without ``drop``), tagged SUBSETTED."""
    resource = orjson.loads(json_bytes)
    mandatory = ("resourceType", "id", "meta")
    if keep is not None:
        resource = {k: v for k, v in resource.items() if k in mandatory or k in keep}
    for key in drop:
        resource.pop(key, None)
    meta = resource.setdefault("meta", {})
    meta["tag"] = [*meta.get("tag", []), SUBSETTED]
    return orjson.dumps(resource)


def bundle(total, entries, links, bundle_type="searchset"):
    """Stitch a Bundle from ``(fullUrl, json bytes, search mode)`` entries without parsing the JSON.

    One join over every piece: the stored JSON is copied once, into the answer, not once per concatenation.
    """
    parts = [b'{"resourceType":"Bundle","type":"', bundle_type.encode(), b'"']
    if total is not None:
        parts.append(b',"total":%d' % total)
    parts.append(b',"link":' + orjson.dumps([{"relation": r, "url": u} for r, u in links]))
    if entries:
        parts.append(b',"entry":[')
        ends = {}
        for url, body, mode in entries:
            end = ends.get(mode)
            if end is None:
                end = ends[mode] = (b',"search":{"mode":"' + mode.encode() + b'"}}' if mode else b"}") + b","
            parts += (b'{"fullUrl":', orjson.dumps(url), b',"resource":', body, end)
        parts[-1] = parts[-1][:-1]  # no comma after the last entry
        parts.append(b"]")
    parts.append(b"}")
    return b"".join(parts)
