"""Driving an export in tests: kick-off headers, following a job to its manifest, reading its files."""

import orjson

KICKOFF = {"Prefer": "respond-async", "Accept": "application/fhir+json"}
BASE = "http://gateway.test/fhir"


def kickoff(web, headers, path="/fhir/$export", **params):
    """Start an export; return the status path (asserting the 202 and its Content-Location)."""
    response = web.get(path, query_string=params, headers={**KICKOFF, **headers})
    assert response.status_code == 202, response.get_json()
    location = response.headers["Content-Location"]
    assert location.startswith(BASE + "/$export-status/")
    return location[len("http://gateway.test") :]


def manifest(web, headers, status_path):
    response = web.get(status_path, headers=headers)
    assert response.status_code == 200, (response.status_code, response.data)
    assert response.mimetype == "application/json"
    return response.get_json()


def file_path(url):
    assert url.startswith(BASE + "/$export-file/")
    return url[len("http://gateway.test") :]


def exported(web, headers, status_path):
    """{type: [resources]} of a finished export, checking each file's count and content type."""
    found = {}
    for item in manifest(web, headers, status_path)["output"]:
        response = web.get(file_path(item["url"]), headers=headers)
        assert response.status_code == 200
        assert response.mimetype == "application/fhir+ndjson"
        lines = response.data.splitlines()
        assert len(lines) == item["count"]
        found.setdefault(item["type"], []).extend(orjson.loads(line) for line in lines)
    return found


def ids(found):
    return {rtype: sorted(r["id"] for r in resources) for rtype, resources in found.items()}


def searched(web, headers, rtype, **params):
    """The ids the search API answers for ``rtype`` with ``params``, following every page."""
    result, path = [], f"/fhir/{rtype}"
    query = {"_count": "1000", **params}
    while path:
        body = web.get(path, query_string=query, headers=headers).get_json()
        assert body["resourceType"] == "Bundle", body
        result += [e["resource"]["id"] for e in body.get("entry", []) if e["search"]["mode"] == "match"]
        following = [link["url"] for link in body["link"] if link["relation"] == "next"]
        path, query = (following[0][len("http://gateway.test") :], None) if following else (None, None)
    return sorted(result)


def stored(db, rtype):
    """How many live resources of ``rtype`` the database holds (the demo grows; tests must not pin counts)."""
    return db.execute("SELECT count(*) FROM resources WHERE type = ? AND deleted = 0", (rtype,)).fetchone()[0]
