"""The Bulk Data export flow end to end: a backend's signed assertion, kick-off, status, manifest, downloads."""

import gzip
import os
import time
from email.utils import formatdate

import orjson
import pytest

from fixtures.demo_data import PATIENTS
from mappers import REGISTRY
from tests.smart_auth.oauth_helpers import assertion_form

from .helpers import BASE, exported, file_path, ids, kickoff, manifest, searched


def backend_token(web, summary):
    data = {
        "grant_type": "client_credentials",
        "scope": "system/*.rs",
        **assertion_form(summary["backend"], summary["keys"].rsa, "RS384"),
    }
    response = web.post("/oauth/token", data=data)
    assert response.status_code == 200, response.get_json()
    return {"Authorization": f"Bearer {response.get_json()['access_token']}"}


def test_full_flow_with_a_signed_assertion_exports_every_resource(web, bulk_summary, bulk_db):
    headers = backend_token(web, bulk_summary)
    status = kickoff(web, headers)
    body = manifest(web, headers, status)
    assert sorted(body) == ["error", "output", "request", "requiresAccessToken", "transactionTime"]
    assert body["request"] == BASE + "/$export"
    assert body["requiresAccessToken"] is True and body["error"] == []
    stored = {}
    for rtype, rid, data in bulk_db.execute("SELECT type, id, json FROM resources WHERE deleted = 0"):
        stored.setdefault(rtype, {})[rid] = orjson.loads(data)
    found = exported(web, headers, status)
    assert {t: {r["id"]: r for r in rs} for t, rs in found.items()} == stored
    assert [item["type"] for item in body["output"]] == sorted(stored, key=list(REGISTRY).index)


def test_patient_export_is_the_compartment_and_matches_search(web, system_token):
    headers = system_token()
    found = ids(exported(web, headers, kickoff(web, headers, "/fhir/Patient/$export")))
    compartment = [name for name, rt in REGISTRY.items() if rt.compartment]
    assert sorted(found) == sorted(t for t in compartment if searched(web, headers, t))
    for rtype in compartment:
        assert found.get(rtype, []) == searched(web, headers, rtype), rtype


@pytest.mark.parametrize("fmt", ["application/fhir+ndjson", "application/ndjson", "ndjson"])
def test_each_output_format_spelling_is_accepted(web, system_token, fmt):
    headers = system_token()
    assert manifest(web, headers, kickoff(web, headers, _outputFormat=fmt, _type="Patient"))["output"][0][
        "count"
    ] == len(PATIENTS)


def test_the_files_are_split_at_the_configured_size(bulk_app, bulk_db, system_token):
    web = bulk_app(EXPORT_FILE_BYTES=20_000).test_client()
    headers = system_token()
    status = kickoff(web, headers, _type="Observation")
    outputs = manifest(web, headers, status)["output"]
    assert [o["url"].rsplit("/", 1)[1] for o in outputs] == [
        f"Observation-{n}.ndjson" for n in range(1, len(outputs) + 1)
    ]
    stored = bulk_db.execute("SELECT count(*) FROM resources WHERE type = 'Observation' AND deleted = 0").fetchone()
    assert len(outputs) > 3 and sum(o["count"] for o in outputs) == stored[0]
    for item in outputs[:-1]:
        data = web.get(file_path(item["url"]), headers=headers).data
        assert 20_000 <= len(data) < 20_000 + max(len(line) + 1 for line in data.splitlines())


def test_gzip_download_when_asked(web, system_token):
    headers = system_token()
    url = file_path(manifest(web, headers, kickoff(web, headers, _type="Observation"))["output"][0]["url"])
    plain = web.get(url, headers=headers)
    assert "Content-Encoding" not in plain.headers
    zipped = web.get(url, headers={**headers, "Accept-Encoding": "gzip, deflate"})
    assert zipped.status_code == 200 and zipped.headers["Content-Encoding"] == "gzip"
    assert zipped.mimetype == "application/fhir+ndjson"

    assert gzip.decompress(zipped.data) == plain.data and len(zipped.data) < len(plain.data) // 3


def test_range_download_resumes_a_file(web, system_token):
    headers = system_token()
    url = file_path(manifest(web, headers, kickoff(web, headers, _type="Observation"))["output"][0]["url"])
    whole = web.get(url, headers=headers).data
    part = web.get(url, headers={**headers, "Range": "bytes=100-199", "Accept-Encoding": "gzip"})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(whole)}"
    assert part.data == whole[100:200]
    tail = web.get(url, headers={**headers, "Range": f"bytes={len(whole) - 10}-"})
    assert tail.status_code == 206 and tail.data == whole[-10:]


def test_downloads_need_a_token(web, system_token):
    headers = system_token()
    url = file_path(manifest(web, headers, kickoff(web, headers, _type="Patient"))["output"][0]["url"])
    response = web.get(url)
    assert response.status_code == 401 and response.get_json()["resourceType"] == "OperationOutcome"


def test_another_clients_job_and_files_answer_404(web, system_token, bulk_summary):
    mine = system_token()
    theirs = system_token(client=bulk_summary["other"])
    status = kickoff(web, mine, _type="Patient")
    url = file_path(manifest(web, mine, status)["output"][0]["url"])
    for method, path in [("GET", status), ("DELETE", status), ("GET", url)]:
        response = web.open(path, method=method, headers=theirs)
        assert response.status_code == 404, (method, path)
        assert response.get_json()["issue"][0]["code"] == "not-found"
    assert web.get(url, headers=mine).status_code == 200


def test_cancel_removes_the_files_then_404(web, system_token, tmp_path):
    headers = system_token()
    status = kickoff(web, headers, _type="Patient")
    job_id = status.rsplit("/", 1)[1]
    url = file_path(manifest(web, headers, status)["output"][0]["url"])
    assert os.listdir(tmp_path / "exports" / job_id) == ["Patient-1.ndjson"]
    deleted = web.delete(status, headers=headers)
    assert deleted.status_code == 202
    assert not (tmp_path / "exports" / job_id).exists()
    assert web.get(status, headers=headers).status_code == 404
    assert web.get(url, headers=headers).status_code == 404
    assert web.delete(status, headers=headers).status_code == 404


def test_expired_exports_are_deleted_and_answer_404(bulk_app, system_token, tmp_path):
    web = bulk_app(EXPORT_TTL=0).test_client()
    headers = system_token()
    status = kickoff(web, headers, _type="Patient")
    job_id = status.rsplit("/", 1)[1]
    assert (tmp_path / "exports" / job_id / "Patient-1.ndjson").exists()
    response = web.get(status, headers=headers)
    assert response.status_code == 404
    assert not (tmp_path / "exports" / job_id).exists()


def test_manifest_expires_header_follows_the_ttl(bulk_app, system_token, bulk_db):
    web = bulk_app(EXPORT_TTL=3600).test_client()
    headers = system_token()
    status = kickoff(web, headers, _type="Patient")
    finished, expires = bulk_db.execute("SELECT finished_at, expires_at FROM export_jobs").fetchone()
    assert expires == finished + 3600

    assert web.get(status, headers=headers).headers["Expires"] == formatdate(expires, usegmt=True)


def test_the_capability_statement_declares_the_export_operations(web):
    body = web.get("/fhir/metadata").get_json()
    assert body["instantiates"][1] == "http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data"
    rest = body["rest"][0]
    assert rest["operation"] == [
        {"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/export"}
    ]
    resources = {r["type"]: r for r in rest["resource"]}
    assert resources["Group"]["operation"] == [
        {"name": "export", "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/group-export"}
    ]
    assert resources["Patient"]["operation"][-1] == {
        "name": "export",
        "definition": "http://hl7.org/fhir/uv/bulkdata/OperationDefinition/patient-export",
    }


def test_export_files_are_owner_only(web, system_token, tmp_path):
    headers = system_token()
    job_id = kickoff(web, headers, _type="Patient").rsplit("/", 1)[1]
    folder = tmp_path / "exports" / job_id
    assert oct(folder.stat().st_mode & 0o777) == "0o700"
    assert oct((folder / "Patient-1.ndjson").stat().st_mode & 0o777) == "0o600"


def test_delete_cancels_a_running_job(bulk_app, bulk_db, system_token, tmp_path):
    from gateway.bulk_data import runner
    from gateway.store import export_jobs as jobs_store

    app = bulk_app(EXPORT_WORKERS="off", EXPORT_CHUNK=10)
    web, headers = app.test_client(), system_token()
    status = kickoff(web, headers)
    job_id = status.rsplit("/", 1)[1]
    now = int(time.time())
    job = jobs_store.claim_job(bulk_db, "worker-1", now, now - 60, 3)
    assert web.delete(status, headers=headers).status_code == 202
    assert runner.run_job(bulk_db, app.config, job, "worker-1") == "cancelled"
    assert not (tmp_path / "exports" / job_id).exists()
    assert web.get(status, headers=headers).status_code == 404
