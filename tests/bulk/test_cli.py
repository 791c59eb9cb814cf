"""``fhir-gateway export run|list`` and ``fhir-gateway group add|list``: the same job code as the server."""

import os

import orjson
from click.testing import CliRunner

from gateway.cli import cli
from gateway.store import export_jobs as jobs_store
from smart_auth.tokens import ALL_PRACTICES, issue_access_token
from tests.bulk.helpers import KICKOFF, stored


def run(*args):
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_export_run_writes_ndjson_to_a_folder_and_lists_the_job(bulk_db_path, bulk_db, tmp_path):
    out = tmp_path / "out"
    code, output = run("export", "run", "--db", bulk_db_path, "--out", str(out), "--type", "Patient,Condition")
    assert code == 0, output
    lines = output.splitlines()
    patients, conditions = stored(bulk_db, "Patient"), stored(bulk_db, "Condition")
    assert lines[-3:] == [
        f"Patient-1.ndjson  {patients} resources  " + str(os.path.getsize(out / "Patient-1.ndjson")) + " bytes",
        f"Condition-1.ndjson  {conditions} resources  " + str(os.path.getsize(out / "Condition-1.ndjson")) + " bytes",
        f"Exported {patients + conditions} resources in 2 files to {out}",
    ]
    assert f"\r[####################] 100% {patients + conditions}/{patients + conditions}\n" in output
    assert sorted(os.listdir(out)) == ["Condition-1.ndjson", "Patient-1.ndjson"]
    exported = [orjson.loads(line)["id"] for line in (out / "Patient-1.ndjson").read_bytes().splitlines()]
    assert exported == [r[0] for r in bulk_db.execute("SELECT id FROM resources WHERE type = 'Patient' ORDER BY pk")]
    code, listing = run("export", "list", "--db", bulk_db_path)
    job = jobs_store.export_jobs(bulk_db)[0]
    total = patients + conditions
    assert listing.startswith(f"{job['id']}  done     [####################] 100% {total}/{total}  ")
    assert listing.rstrip().endswith("operator-cli  system")


def test_export_run_refuses_a_folder_with_files(bulk_db_path, tmp_path):
    (tmp_path / "keep.txt").write_text("mine")
    result = CliRunner().invoke(cli, ["export", "run", "--db", bulk_db_path, "--out", str(tmp_path)])
    assert result.exit_code == 1 and f"{tmp_path} is not empty" in result.output


def test_export_run_reports_bad_types(bulk_db_path, tmp_path):
    result = CliRunner().invoke(
        cli, ["export", "run", "--db", bulk_db_path, "--out", str(tmp_path / "x"), "--type", "Nope"]
    )
    assert result.exit_code == 1
    assert "Error: _type names resource types this server does not export: Nope" in result.output


def test_group_add_then_export_that_group(bulk_db_path, bulk_db, tmp_path):
    first, second, third = [r[0] for r in bulk_db.execute("SELECT id FROM resources WHERE type = 'Patient' LIMIT 3")]
    id_file = tmp_path / "ids.txt"
    id_file.write_text(f"# registry\n{third}\n")
    code, output = run(
        "group",
        "add",
        "--db",
        bulk_db_path,
        "--name",
        "Registry",
        "--patients",
        f"{first},{second}",
        "--file",
        str(id_file),
    )
    assert code == 0
    group_id = output.split(":")[0].split("/")[1]
    assert output == f"Group/{group_id}: Registry (3 patients)\n"
    code, listing = run("group", "list", "--db", bulk_db_path)
    assert listing.splitlines()[-1] == f"Group/{group_id}  3 patients  Registry"
    out = tmp_path / "out"
    code, output = run(
        "export", "run", "--db", bulk_db_path, "--out", str(out), "--group", group_id, "--type", "Patient"
    )
    exported = sorted(orjson.loads(line)["id"] for line in (out / "Patient-1.ndjson").read_bytes().splitlines())
    assert exported == sorted([first, second, third])


def test_group_add_refuses_unknown_patients(bulk_db_path):
    result = CliRunner().invoke(cli, ["group", "add", "--db", bulk_db_path, "--name", "X", "--patients", "nobody"])
    assert result.exit_code == 1 and "Error: no such patients: nobody" in result.output


def test_export_prune_deletes_expired_exports(bulk_app, bulk_db_path, bulk_db, tmp_path, monkeypatch):
    web = bulk_app(EXPORT_TTL=0).test_client()
    token = issue_access_token(bulk_db, "backend-x", "system/*.rs", practice_reach=ALL_PRACTICES)
    assert (
        web.get("/fhir/$export?_type=Patient", headers={**KICKOFF, "Authorization": f"Bearer {token}"}).status_code
        == 202
    )
    (job_id,) = [r[0] for r in bulk_db.execute("SELECT id FROM export_jobs")]
    monkeypatch.setenv("GATEWAY_EXPORT_DIR", str(tmp_path / "exports"))
    assert (tmp_path / "exports" / job_id).exists()
    assert run("export", "prune", "--db", bulk_db_path) == (0, "Deleted 1 expired export(s).\n")
    assert not (tmp_path / "exports" / job_id).exists()
    assert bulk_db.execute("SELECT count(*) FROM export_jobs").fetchone()[0] == 0
