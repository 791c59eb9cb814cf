"""``fhir-gateway export`` and ``fhir-gateway group``: Bulk Data exports and Groups for operators.

``export run`` queues a job and runs it in the foreground through the very code the server's workers run.
"""

import os
import time

import click

from gateway import config as config_module
from gateway import store
from gateway.bulk_data import groups, kickoff, workers
from gateway.errors import GatewayError
from gateway.store import export_jobs as jobs_store
from smart_auth.scopes import parse_scopes
from smart_auth.tokens import ALL_PRACTICES, AccessToken

OPERATOR = "operator-cli"  # the client id an operator's exports are recorded under
OPERATOR_SCOPE = "system/*.rs"
BAR = 20

db_option = click.option(
    "--db",
    envvar=["GATEWAY_DATABASE_URL", "GATEWAY_DB"],
    default=os.path.join("var", "gateway.db"),
    show_default=True,
    help="SQLite database path, or a postgresql:// URL.",
)


@click.group()
def export():
    """Bulk Data exports: list the jobs, or run one to a folder."""


def progress_bar(written, total):
    """``[#####---------------]  25% 1234/4936``: a job's progress in a fixed width."""
    share = min(1.0, written / total) if total else (1.0 if written else 0.0)
    filled = int(share * BAR)
    return f"[{'#' * filled}{'-' * (BAR - filled)}] {int(share * 100):3d}% {written}/{total or 0}"


@export.command("list")
@db_option
def export_list(db):
    """List export jobs, newest first, with their progress.

    Example: fhir-gateway export list --db var/gateway.db
    """
    conn = store.connect(db)
    jobs = jobs_store.export_jobs(conn)
    if not jobs:
        click.echo("No exports.")
    for job in jobs:
        created = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(job["created_at"]))
        bar = progress_bar(job["written"], job["total"])
        kind = job["spec"]["kind"] + (f" {job['spec']['group']}" if job["spec"]["group"] else "")
        click.echo(f"{job['id']}  {job['status']:<7}  {bar}  {created}Z  {job['client_id']}  {kind}")


@export.command("run")
@db_option
@click.option("--out", required=True, type=click.Path(file_okay=False), help="An empty (or new) folder for the files.")
@click.option("--group", "group_id", default=None, help="Export a Group's members (its id), not every patient.")
@click.option("--type", "types", multiple=True, help="Resource types (repeatable or comma-separated; default all).")
@click.option("--since", default=None, help="Only resources changed after this FHIR instant.")
def export_run(db, out, group_id, types, since):
    """Export to a folder in the foreground (NDJSON per type), with a progress bar.

    Example: fhir-gateway export run --db var/gateway.db --out exports/today --type Patient,Condition
    """
    if os.path.isdir(out) and os.listdir(out):
        raise click.ClickException(f"{out} is not empty: choose a new or empty folder")
    config = config_module.load({"DB": db, "EXPORT_WORKERS": "off"})
    conn = store.connect(db)
    # The operator exports every practice (a practice's patients: --group with its Organization id).
    token = AccessToken(OPERATOR, OPERATOR_SCOPE, parse_scopes(OPERATOR_SCOPE), None, None, 0, ALL_PRACTICES)
    pairs = [("_type", t) for t in types] + ([("_since", since)] if since else [])
    try:
        spec = kickoff.export_spec(
            conn, token, config["FHIR_BASE"], "group" if group_id else "system", group_id, pairs, False
        )
    except GatewayError as exc:
        raise click.ClickException(exc.message)
    spec["folder"] = os.path.abspath(out)
    config = {**config, "EXPORT_MAX_PER_CLIENT": 1_000_000, "EXPORT_MAX_ACTIVE": 1_000_000}
    job_id = kickoff.queue_export(conn, config, token, "fhir-gateway export run", spec)
    shown = {"last": 0.0}

    def progress(written, total):
        if time.monotonic() - shown["last"] >= 0.2:
            shown["last"] = time.monotonic()
            click.echo("\r" + progress_bar(written, total), nl=False, err=True)

    _, outcome = workers.run_next(conn, config, job_id, progress)
    job = jobs_store.export_job(conn, job_id)
    click.echo("\r" + progress_bar(job["written"], job["total"]), err=True)
    if outcome != "done":
        raise click.ClickException(f"The export {outcome}: {job['error'] or ''}".rstrip(": "))
    files = jobs_store.export_files(conn, job_id)
    for f in files:
        click.echo(f"{f['name']}  {f['count']} resources  {f['bytes']} bytes")
    click.echo(f"Exported {job['written']} resources in {len(files)} files to {out}")


@export.command("prune")
@db_option
def export_prune(db):
    """Delete the exports (rows and files) whose GATEWAY_EXPORT_TTL has passed; the server's workers do it too.

    Example: fhir-gateway export prune --db var/gateway.db
    """
    config = config_module.load({"DB": db})
    click.echo(f"Deleted {workers.expire(store.connect(db), config)} expired export(s).")


@click.group()
def group():
    """Groups of patients for Group-level Bulk Data export (a Group per practice needs none)."""


@group.command("add")
@db_option
@click.option("--name", required=True, help="The Group's name.")
@click.option("--patients", multiple=True, help="Patient FHIR ids (repeatable, or comma/space-separated).")
@click.option("--file", "id_file", type=click.File(), default=None, help="A file of Patient ids, one a line.")
def group_add(db, name, patients, id_file):
    """Define a Group of patients; print its id.

    Example: fhir-gateway group add --name "Diabetes registry" --patients 1f0c...,9a2e...
    """
    ids = [p for value in patients for p in value.replace(",", " ").split()]
    if id_file is not None:
        ids += [line.strip() for line in id_file if line.strip() and not line.startswith("#")]
    if not ids:
        raise click.ClickException("name the patients with --patients or --file")
    try:
        group_id = groups.add_group(store.connect(db), name, ids, int(time.time()))
    except ValueError as exc:
        raise click.ClickException(str(exc))
    click.echo(f"Group/{group_id}: {name} ({len(set(ids))} patients)")


@group.command("list")
@db_option
def group_list(db):
    """List every Group: one per practice, then the operator's.

    Example: fhir-gateway group list --db var/gateway.db
    """
    for found in groups.all_groups(store.connect(db)):
        click.echo(f"Group/{found['id']}  {found['quantity']} patients  {found['name']}")
