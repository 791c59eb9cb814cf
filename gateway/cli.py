"""The ``fhir-gateway`` command: a thin Click layer over the store, fixtures and app factory."""

import datetime as dt
import os
import time

import click

from gateway import store
from gateway.server import BLOCKING_THREADS
from gateway.store import log_shards
from smart_auth.tokens import CLI_CLIENT

DEFAULT_DB = os.path.join("var", "gateway.db")
db_option = click.option(
    "--db",
    envvar=["GATEWAY_DATABASE_URL", "GATEWAY_DB"],
    default=DEFAULT_DB,
    show_default=True,
    help="SQLite database path, or a postgresql:// URL (env GATEWAY_DATABASE_URL, GATEWAY_DB).",
)


@click.group()
def cli():
    """Patient-access FHIR gateway: chart store, FHIR R4 API and SMART authorization."""


@cli.command()
@db_option
def init(db):
    """Create (or migrate) the database.

    Example: fhir-gateway init --db var/gateway.db
    """
    store.connect(db)
    click.echo(f"Database ready: {store.postgres.shown(db)}")


@cli.command("load-demo")
@db_option
def load_demo(db):
    """Load the demo practices and patients (deterministic; dates relative to today).

    Example: fhir-gateway load-demo --db var/demo.db
    """
    summary = _load_demo(db)
    click.echo(f"Loaded {len(summary['patients'])} demo patients into {store.postgres.shown(db)}")


def _load_demo(db):
    from fixtures import demo_accounts, demo_clients, demo_practice

    database = store.connect(db)
    summary = demo_practice.load(database, dt.date.today())
    demo_accounts.load(database, summary)
    demo_clients.load(database)
    store.optimize(database)
    return summary


@cli.command()
@db_option
@click.option("--patients", default=1000, show_default=True, help="How many patients to generate.")
@click.option("--seed", default=1, show_default=True, help="Random seed; the same seed gives the same charts.")
def generate(db, patients, seed):
    """Generate synthetic charts for scale tests (about 64 chart rows a patient: 7 visits, 4 orders, 3 specimens).

    Example: fhir-gateway generate --db var/bench.db --patients 10000 --seed 7
    """
    from fixtures import synthetic
    from gateway.errors import ChartError

    database = store.connect(db)
    started = time.perf_counter()
    try:
        summary = synthetic.generate(database, patients, seed)
    except ChartError as exc:
        raise click.ClickException(exc.message)
    store.optimize(database)
    seconds = time.perf_counter() - started
    resumed = f"; {summary['skipped']} more were already there (a resumed run)" if summary["skipped"] else ""
    click.echo(
        f"Generated {summary['patients']} patients ({summary['total_rows']} chart rows) in {seconds:.1f} s" + resumed
    )


@cli.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True)
@click.option("--workers", type=click.IntRange(min=1), default=None, help="Worker processes [default: one per core].")
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=BLOCKING_THREADS,
    show_default=True,
    help="Threads per worker running the app (granian's blocking threads).",
)
def serve(db, host, port, workers, threads):
    """Serve the gateway with granian (base URL from GATEWAY_BASE_URL, default http://HOST:PORT).

    Example: fhir-gateway serve --db var/gateway.db --port 8080 --workers 2
    """
    _serve(db, host, port, workers, threads)


def _serve(db, host, port, workers, threads, demo=False):
    from gateway.server import run

    base_url = os.environ.get("GATEWAY_BASE_URL") or f"http://{host}:{port}"
    # DEMO (the published demo secret, the outbox page) is never read from the environment: only `demo` sets it.
    run({"DB": db, "BASE_URL": base_url, **({"DEMO": True} if demo else {})}, f"{host}:{port}", workers, threads)


@cli.command()
@click.option("--db", default=os.path.join("var", "demo.db"), show_default=True)
@click.option("--port", default=8080, show_default=True)
@click.option("--reset/--keep", default=False, help="Start from a fresh demo database.")
def demo(db, port, reset):
    """Load the demo practice into its own database, serve it on 127.0.0.1 and print what to try.

    Example: fhir-gateway demo --reset
    """
    if reset and os.path.exists(db):
        for path in (db, store.access_log_path(db)):
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)
        for path in log_shards.shard_files(store.access_log_path(db)):  # the workers' own log files
            if os.path.exists(path):
                os.remove(path)
    database = store.connect(db)
    if not store.chart_rows(database, "practices"):
        _load_demo(db)
    from gateway.demo_guide import guide

    click.echo(guide(database, f"http://127.0.0.1:{port}"))
    _serve(db, "127.0.0.1", port, None, BLOCKING_THREADS, demo=True)


@cli.group()
def token():
    """Access tokens for operators and tests."""


@token.command("issue")
@db_option
@click.option("--scope", required=True, help='SMART scopes, e.g. "patient/*.rs" or "system/*.read".')
@click.option("--patient", default=None, help="Patient FHIR id for patient/ scopes.")
@click.option("--ttl", default=3600, show_default=True, help="Lifetime in seconds.")
@click.option("--client", "client_id", default=CLI_CLIENT, show_default=True, help="Client id recorded with the token.")
@click.option("--practice", default=None, help="For system/ scopes: the practice (id or Organization id) it sees.")
@click.option("--all-practices", is_flag=True, help="For system/ scopes: see every practice's charts.")
def token_issue(db, scope, patient, ttl, client_id, practice, all_practices):
    """Issue a bearer token and print it alone on the last line.

    Example: fhir-gateway token issue --scope "patient/*.rs" --patient 6f1c...
    """
    from smart_auth.scopes import InvalidScope
    from smart_auth.tokens import issue_access_token

    database = store.connect(db)
    if patient and not store.chart_rows(database, "patients", uid=patient):
        raise click.BadParameter(f"no patient has the FHIR id '{patient}'", param_hint="--patient")
    reach = _practice_reach(database, practice, all_practices)
    try:
        issued = issue_access_token(database, client_id, scope, patient, ttl=ttl, practice_reach=reach)
    except (InvalidScope, ValueError) as exc:
        raise click.BadParameter(str(exc), param_hint="--scope/--patient/--practice")
    click.echo(f"# scope: {scope}; patient: {patient or '-'}; practice: {reach or '-'}; expires in {ttl} s")
    click.echo(issued)


def _practice_reach(database, practice, all_practices):
    """The practice reach ``--practice``/``--all-practices`` name for a token, or None."""
    from smart_auth import clients
    from smart_auth.tokens import ALL_PRACTICES

    if practice and all_practices:
        raise click.BadParameter("--practice or --all-practices, not both", param_hint="--practice")
    if all_practices:
        return ALL_PRACTICES
    try:
        return clients.practice_id(database, practice) if practice else None
    except clients.ClientError as exc:
        raise click.BadParameter(str(exc), param_hint="--practice")


@cli.group()
def account():
    """Portal accounts (patients and representatives)."""


@account.command("add")
@db_option
@click.option("--email", required=True)
@click.option("--password", required=True, help="8+ characters, an uppercase letter, a number or symbol.")
@click.option("--patient", "patients", multiple=True, required=True, help="Patient FHIR id to link (repeatable).")
@click.option(
    "--relation",
    default="self",
    show_default=True,
    type=click.Choice(["self", "parent", "guardian", "spouse", "child", "caregiver", "other"]),
)
@click.option("--name", default=None, help="The account holder's name.")
def account_add(db, email, password, patients, relation, name):
    """Create a confirmed portal account linked to one or more charts.

    Example: fhir-gateway account add --email ana@example.com --password 'Secret-123' --patient 6f1c...
    """
    from smart_auth import accounts

    database = store.connect(db)
    rows = []
    for uid in patients:
        found = store.chart_rows(database, "patients", uid=uid)
        if not found:
            raise click.BadParameter(f"no patient has the FHIR id '{uid}'", param_hint="--patient")
        rows.append(found[0])
    try:
        created = accounts.create_account(database, email, password, name=name, confirmed=True)
    except accounts.AccountError as exc:
        raise click.BadParameter(" ".join(exc.problems), param_hint="--email/--password")
    for row in rows:
        accounts.link_account_to_chart(database, created["id"], row["id"], relation)
    click.echo(f"Account {created['email']} linked to {len(rows)} record(s) as {relation}")


@cli.group()
def staff():
    """Practice staff users of the practice console."""


@staff.command("add")
@db_option
@click.option("--email", required=True)
@click.option("--password", required=True)
@click.option("--name", required=True)
@click.option("--practice", required=True, help="The practice's Organization FHIR id.")
@click.option("--admin", is_flag=True, help="A practice administrator: may change the practice's proxy policy.")
def staff_add(db, email, password, name, practice, admin):
    """Create a practice staff user (with --admin: a practice administrator).

    Example: fhir-gateway staff add --email desk@clinic.example --password 'Secret-123' --name Desk --practice 1a2b...
    """
    from smart_auth import accounts

    database = store.connect(db)
    found = store.chart_rows(database, "practices", uid=practice)
    if not found:
        raise click.BadParameter(f"no practice has the Organization id '{practice}'", param_hint="--practice")
    try:
        accounts.create_staff(database, email, password, name, found[0]["id"], is_admin=admin)
    except accounts.AccountError as exc:
        raise click.BadParameter(str(exc), param_hint="--email/--password")
    click.echo(f"Staff user {email} added to {found[0]['name']}{' as a practice administrator' if admin else ''}")


@cli.group()
def client():
    """OAuth clients (SMART apps): register, list, approve and remove them."""


@client.command("add")
@db_option
@click.option("--name", required=True, help="The app's name, as people see it on the consent page.")
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="Exact redirect URI (repeatable).")
@click.option(
    "--type",
    "kind",
    default="public",
    show_default=True,
    type=click.Choice(["public", "confidential", "asymmetric", "backend", "resource-server"]),
    help="resource-server: no redirect URI and no tokens of its own; it introspects any app's access token.",
)
@click.option("--jwks-url", default=None, help="JWKS URL of an asymmetric or backend client.")
@click.option("--jwks-file", type=click.File(), default=None, help="A JWK Set file (public keys) instead of a URL.")
@click.option("--scope", default="", help="Scopes the client may ask for (default: any of its kind).")
@click.option("--launch-uri", default=None, help="Where the practice console opens the app (EHR launch).")
@click.option("--practice", default=None, help="Backend: the one practice (id or Organization id) it may see.")
@click.option("--all-practices", is_flag=True, help="Backend: it may see every practice on this gateway.")
def client_add(db, name, redirect_uris, kind, jwks_url, jwks_file, scope, launch_uri, practice, all_practices):
    """Register a client and print it as JSON on the last line (with client_secret for secret-holding kinds).

    A backend client needs --practice ID (it sees that practice's charts only) or --all-practices.

    Example: fhir-gateway client add --name "My app" --redirect-uri http://127.0.0.1:9000/callback
    """
    import json

    from smart_auth import clients

    jwks = json.load(jwks_file) if jwks_file else None
    try:
        created, secret = clients.register_client(
            store.connect(db),
            name,
            redirect_uris,
            kind,
            scope,
            jwks,
            jwks_url,
            launch_uri,
            practice=practice,
            all_practices=all_practices,
        )
    except clients.ClientError as exc:
        raise click.BadParameter(str(exc))
    click.echo(f"# registered {kind} client {created.name}")
    click.echo(json.dumps(clients.client_info(created, secret)))


@client.command("list")
@db_option
def client_list(db):
    """List registered clients, one JSON object a line.

    Example: fhir-gateway client list
    """
    import json

    from smart_auth import clients

    for found in clients.list_clients(store.connect(db)):
        click.echo(json.dumps(clients.client_info(found)))


@client.command("show")
@db_option
@click.argument("client_id")
def client_show(db, client_id):
    """Show one registered client as JSON (a backend client's practice, or all_practices, included).

    Example: fhir-gateway client show 3f2c...
    """
    import json

    from smart_auth import clients

    found = [c for c in clients.list_clients(store.connect(db)) if c.client_id == client_id]
    if not found:
        raise click.BadParameter(f"no client has the id '{client_id}'", param_hint="CLIENT_ID")
    click.echo(json.dumps(clients.client_info(found[0])))


@client.command("bind")
@db_option
@click.argument("client_id")
@click.option("--practice", default=None, help="The one practice (id or Organization id) it may see.")
@click.option("--all-practices", is_flag=True, help="It may see every practice on this gateway.")
def client_bind(db, client_id, practice, all_practices):
    """Bind a backend client to one practice or to all; the tokens it holds stop working.

    Example: fhir-gateway client bind 3f2c... --practice 1
    """
    import json

    from smart_auth import clients

    try:
        bound = clients.bind_client(store.connect(db), client_id, practice, all_practices)
    except clients.ClientError as exc:
        raise click.BadParameter(str(exc))
    info = clients.client_info(bound)
    click.echo(
        f"Bound client {client_id} to " + (f"practice {info['practice']}" if info["practice"] else "all practices")
    )
    click.echo(json.dumps(info))


@client.command("remove")
@db_option
@click.argument("client_id")
def client_remove(db, client_id):
    """Remove a client; every token it holds stops working.

    Example: fhir-gateway client remove 3f2c...
    """
    from smart_auth import clients

    _change_client(clients.remove_client, db, client_id, "Removed")


@client.command("approve")
@db_option
@click.argument("client_id")
def client_approve(db, client_id):
    """Approve a dynamically registered client (when GATEWAY_REGISTRATION_APPROVAL=1).

    Example: fhir-gateway client approve 3f2c...
    """
    from smart_auth import clients

    _change_client(clients.approve_client, db, client_id, "Approved")


def _change_client(change, db, client_id, done):
    if not change(store.connect(db), client_id):
        raise click.BadParameter(f"no client has the id '{client_id}'", param_hint="CLIENT_ID")
    click.echo(f"{done} client {client_id}")


@cli.command()
@db_option
def prune(db):
    """Delete what is past use: ended sessions, old attempts, spent codes, expired or revoked tokens, old launches.

    The server also does this at start and every GATEWAY_PRUNE_INTERVAL seconds (default 600); run it from
    cron instead when that is set to 0. The access log and the enrollment audit are never pruned.

    Example: fhir-gateway prune --db var/gateway.db
    """
    from gateway.store import pruning as prune_store

    database = store.connect(db)
    deleted = prune_store.prune(database, time.time())
    for kind, count in deleted.items():
        click.echo(f"{count:>8}  {kind}")


@cli.command("proxy-policy")
@db_option
@click.argument("practice_id")
@click.option("--limited-from", type=int, help="Age from which representatives see the limited record.")
@click.option("--ends-at", type=int, help="Age at which access given during childhood ends.")
@click.option("--withhold", multiple=True, help="A sensitive category the limited record leaves out (repeat).")
def proxy_policy_command(db, practice_id, limited_from, ends_at, withhold):
    """Show, or set, a practice's proxy access policy (the practice's Organization id).

    With no option it prints the policy in force; any option sets the whole policy, defaults filling the rest.
    Categories: reproductive-health, mental-health, sexual-health, substance-use (mappers.sensitivity recognises
    them by ICD-10-CM, SNOMED CT, RxNorm ingredient and LOINC); notes a clinician marked confidential are always
    left out of the limited record.

    Example: fhir-gateway proxy-policy ORG_ID --limited-from 13 --withhold mental-health --withhold substance-use
    """
    from gateway.store import accounts as account_store
    from smart_auth import proxy_policy

    database = store.connect(db)
    rows = store.chart_rows(database, "practices", uid=practice_id)
    if not rows:
        raise click.BadParameter(f"no practice has the id '{practice_id}'", param_hint="PRACTICE_ID")
    current = proxy_policy.policy_of(account_store.proxy_policy(database, rows[0]["id"]))
    if limited_from is not None or ends_at is not None or withhold:
        default = proxy_policy.DEFAULT_POLICY
        try:
            current = proxy_policy.Policy(
                default.limited_from if limited_from is None else limited_from,
                default.ends_at if ends_at is None else ends_at,
                tuple(withhold) or default.withheld,
            )
        except ValueError as exc:
            raise click.BadParameter(str(exc)) from None
        with store.transaction(database):
            account_store.save_proxy_policy(
                database, rows[0]["id"], current.limited_from, current.ends_at, " ".join(current.withheld)
            )
    click.echo(
        f"Under {current.limited_from}: the whole record. From {current.limited_from} to {current.ends_at - 1}:"
        f" without {', '.join(current.withheld) or 'nothing'}. At {current.ends_at}: access given in childhood ends."
    )


@cli.command("access-notices")
@db_option
def access_notices(db):
    """Queue the emails telling representatives, and the patient, that access given during childhood ends in 30 days.

    Access ends by itself at the practice's age (default 18) whether or not this runs; run it daily from cron.

    Example: fhir-gateway access-notices --db var/gateway.db
    """
    from gateway import config as config_module
    from smart_auth import representatives
    from smart_auth.enrollment import Context
    from smart_auth.notify import Notifier

    settings = config_module.load({"DB": db})
    database = store.connect(db)
    context = Context(database, settings["SECRET_KEY"], settings["BASE_URL"], Notifier(database, settings))
    click.echo(f"Told {representatives.send_ending_notices(context)} representative(s) and their patients.")


@cli.group()
def keys():
    """The id_token signing keys."""


@keys.command("rotate")
@db_option
@click.option("--keep", default=3600, show_default=True, help="Seconds the old keys stay published.")
def keys_rotate(db, keep):
    """Start signing id_tokens with a new key; old keys stay in the JWKS until their tokens expire.

    Example: fhir-gateway keys rotate
    """
    from gateway import config
    from smart_auth import keys as signing_keys

    secret = config.load({"DB": db})["SECRET_KEY"]
    try:
        kid = signing_keys.rotate_signing_key(
            store.connect(db), secret, keep_published=max(keep, signing_keys.ID_TOKEN_TTL)
        )
    except signing_keys.KeyLocked as exc:
        raise click.ClickException(
            f"{exc}: run with the GATEWAY_SECRET_KEY the server uses (or keep the secret file beside the database)"
        )
    click.echo(f"Signing with new key {kid}")


@cli.group(invoke_without_command=True)
@db_option
@click.option("--limit", default=20, show_default=True, help="How many of the newest messages.")
@click.option("--channel", type=click.Choice(["email", "sms"]), default=None, help="Only emails or only texts.")
@click.pass_context
def outbox(ctx, db, limit, channel):
    """List the emails and text messages the gateway queued, sent or kept in its outbox, newest first.

    With no SMTP server or SMS provider configured, whole messages are kept and shown, links included;
    a message that is sent or finally failed keeps only who, what kind and whether delivery worked.

    Example: fhir-gateway outbox --db var/demo.db --limit 5
    """
    if ctx.invoked_subcommand is not None:
        return
    from gateway.store import enrollment as enrollment_store

    messages = enrollment_store.messages(store.connect(db), limit=limit, channel=channel)
    if not messages:
        click.echo("The outbox is empty.")
    for m in messages:
        tried = f"; {m['attempts']} attempt(s)" if m["status"] in ("queued", "sending", "failed") else ""
        click.echo(
            f"#{m['id']} {m['created_at']} {m['channel']} to {m['recipient']} [{m['kind']}; {m['status']}"
            + tried
            + (f"; {m['error']}" if m["error"] else "")
            + "]"
            + (f" {m['subject']}" if m["subject"] else "")
        )
        for line in (m["body_text"] or "").splitlines():
            click.echo(f"    {line}")


@outbox.command("send")
@db_option
def outbox_send(db):
    """Deliver the queued messages that are due now, once, with the GATEWAY_SMTP_* and GATEWAY_SMS_* settings.

    Servers deliver the queue themselves; this is for operators (after fixing a mail server) and for cron
    with GATEWAY_OUTBOX_SENDER=off.

    Example: fhir-gateway outbox send --db var/gateway.db
    """
    from gateway import config as config_module
    from gateway.store import outbox as outbox_store
    from smart_auth import notify

    settings = config_module.load({"DB": db})
    if not (settings.get("SMTP_HOST") or settings.get("SMS_URL")):
        raise click.ClickException("No GATEWAY_SMTP_HOST or GATEWAY_SMS_URL is set: there is nothing to send with.")
    database = store.connect(db)
    handled = notify.deliver_due(database, settings, limit=10_000)
    counts = outbox_store.queue_counts(database)
    click.echo(
        f"Handled {handled} message(s); now {counts.get('sent', 0)} sent, {counts.get('queued', 0)} queued,"
        f" {counts.get('sending', 0)} sending, {counts.get('failed', 0)} failed."
    )


@cli.command("migrate-to-postgres")
@click.option("--from", "source", required=True, help="The SQLite database to copy (e.g. var/gateway.db).")
@click.option("--to", "target", required=True, help="The PostgreSQL database, a postgresql:// URL.")
@click.option("--batch", default=5000, show_default=True, help="Rows a transaction copies.")
def migrate_to_postgres(source, target, batch):
    """Copy a SQLite gateway into PostgreSQL, then verify counts and a checksum of the stored FHIR per type.

    Restartable: run it again after an interruption and it continues. Stop the gateway (or accept that rows written
    during the copy are not copied) first. Example: fhir-gateway migrate-to-postgres --from var/gateway.db
    --to postgresql://gateway@db.internal/gateway
    """
    from gateway.store import moving

    if not store.postgres.is_url(target):
        raise click.BadParameter("must be a postgresql:// URL", param_hint="--to")
    if store.postgres.is_url(source) or not os.path.exists(source):
        raise click.BadParameter(f"no SQLite database at {source}", param_hint="--from")
    bars = {}

    def progress(table, done, total):
        if table not in bars:
            for bar in bars.values():
                bar.render_finish()
            bars[table] = click.progressbar(length=total, label=f"{table:<24}", show_pos=True)
            bars[table].update(done)
        else:
            bars[table].update(done - bars[table].pos)

    copied = moving.copy_to_postgres(source, target, batch=batch, progress=progress)
    for bar in bars.values():
        bar.render_finish()
    click.echo(f"Copied {sum(copied.values())} row(s) in {len(copied)} table(s).")
    differences = moving.verify(source, target)
    for what, theirs, ours in differences:
        click.echo(f"DIFFERS {what}: SQLite {theirs}, PostgreSQL {ours}", err=True)
    if differences:
        raise click.ClickException("the copy differs from the source (see above): run the command again")
    click.echo("Verified: every table's row count and each resource type's FHIR checksum match.")


def _add_bulk_commands():
    from gateway.bulk_data.cli import export, group

    cli.add_command(export)
    cli.add_command(group)


_add_bulk_commands()
