"""Layered configuration: safe local defaults, then ``GATEWAY_*`` environment variables, then the caller's dict."""

import os
import re
import secrets
import tempfile

DEMO_SECRET = "demo-only-secret-change-me"

DEFAULTS = {
    "DB": os.path.join("var", "gateway.db"),
    # A postgresql:// URL selects the PostgreSQL store (gateway/store/postgres.py) instead of the SQLite file DB;
    # every host of one gateway names the same database, and shares GATEWAY_SECRET_KEY and GATEWAY_EXPORT_DIR.
    "DATABASE_URL": None,
    "DATABASE_POOL": 10,  # PostgreSQL connections one process may hold at once
    # Hot standbys of DATABASE_URL (postgresql:// URLs, comma-separated) that serve the FHIR API's reads
    # (gateway/store/replicas.py); a replica more than DATABASE_REPLICA_MAX_LAG seconds behind is left alone.
    "DATABASE_REPLICA_URL": None,
    "DATABASE_REPLICA_MAX_LAG": 10,
    "BASE_URL": "http://127.0.0.1:8080",
    "SECRET_KEY": None,  # unset: a random secret kept beside the database (kept_secret)
    "DEMO": False,  # set only by ``fhir-gateway demo``: the demo secret and the demo outbox page
    "ENV": "development",
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "TIMEZONE": "America/Los_Angeles",
    "REGISTRATION_APPROVAL": "0",
    # Open client registrations (POST /oauth/register) one address may make per window (seconds).
    "REGISTRATION_LIMIT": 10,
    "REGISTRATION_WINDOW": 3600,
    # Request threads of one process that may wait on outbound calls at once (gateway/outbound.py).
    "OUTBOUND_SLOTS": 2,
    "PRUNE_INTERVAL": 600,  # seconds between pruning rounds run from requests (0: only at start and by the CLI)
    # How many reverse proxies in front of the gateway may set X-Forwarded-For/-Proto/-Host/-Port (0: none).
    "TRUSTED_PROXIES": 0,
    # Who delivers queued email and SMS (gateway/outbox_sender.py): "thread" (a daemon thread in each server
    # process, woken after a response that queued something), "inline" (after each such request, in the request
    # thread: tests) or "off" (only `fhir-gateway outbox send`, e.g. from cron).
    "OUTBOX_SENDER": "thread",
    "OUTBOX_POLL": 5,  # seconds between the sender's looks at the queue (retries, other processes' messages)
    "OUTBOX_ATTEMPTS": 5,  # deliveries tried before a message is failed for staff to see
    "OUTBOX_BACKOFF": 30,  # seconds before the second attempt, doubling each time
    "SMTP_DEADLINE": 15,  # seconds for a whole SMTP conversation
    "SMS_DEADLINE": 10,  # seconds for a whole SMS provider call
    # Bulk Data export (gateway/bulk_data): files under EXPORT_DIR (default: "exports" beside the database),
    # NDJSON files split at EXPORT_FILE_BYTES, deleted EXPORT_TTL seconds after the job ends.
    "EXPORT_DIR": None,
    "EXPORT_FILE_BYTES": 64 * 1024 * 1024,
    "EXPORT_TTL": 24 * 3600,
    # Who runs jobs: "thread" (EXPORT_THREADS daemon threads in each server process, started at its first
    # request), "inline" (in the kick-off request, after the job is queued: tests) or "off" (only the CLI).
    "EXPORT_WORKERS": "thread",
    "EXPORT_THREADS": 1,
    "EXPORT_MAX_PER_CLIENT": 2,  # queued or running jobs of one client; beyond, 429 with Retry-After
    "EXPORT_MAX_ACTIVE": 8,  # queued or running jobs of all clients
    "EXPORT_CHUNK": 5000,  # resources read a statement (keyset chunks: no read transaction spans the job)
    "EXPORT_STALE": 120,  # seconds without a heartbeat before another worker takes a running job over
    "EXPORT_ATTEMPTS": 3,  # claims of one job before it is failed
    "EXPORT_POLL": 5,  # seconds between a worker's looks for queued jobs and expired files
    # Reading a SMART Health Link at check-in (gateway/health_links/reader.py): bytes of one answer (manifest or
    # file), bytes of everything decrypted and inflated together, and seconds for the whole reading.
    "HEALTH_LINK_MAX_BYTES": 5 * 1024 * 1024,
    "HEALTH_LINK_MAX_PAYLOAD": 20 * 1024 * 1024,
    "HEALTH_LINK_DEADLINE": 15,
    # "Verify with a digital ID" at enrollment (smart_auth/idp_client.py): an OpenID Connect provider for the
    # whole gateway; off (no button) while IDP_ISSUER is unset.
    "IDP_ISSUER": None,
    "IDP_CLIENT_ID": None,
    "IDP_CLIENT_SECRET": None,
    "IDP_NAME": "",  # what the button and pages call the provider ("Login.gov"); default "a digital ID"
    # Accepted ``acr`` values (space-separated), each meaning NIST SP 800-63-3 IAL2 identity proofing: the iGov /
    # FICAM URIs (Login.gov's original IAL2 value; ID.me's IAL2/AAL2 policy) and Login.gov's current IAL2 level
    # (https://developers.login.gov/oidc/authorization/ "urn:acr.login.gov:verified-facial-match-required"; its
    # plain "verified" and "facial-match-preferred" levels do not always meet IAL2, so they are not accepted).
    "IDP_ACR_VALUES": "http://idmanagement.gov/ns/assurance/ial/2 "
    "http://idmanagement.gov/ns/assurance/ial/2/aal/2 "
    "urn:acr.login.gov:verified-facial-match-required",
    # Accepted Vectors of Trust (RFC 8485 ``vot``, e.g. "P2.Cc"), space-separated; empty: ``vot`` is not required.
    "IDP_VOT_VALUES": "",
    "IDP_SCOPE": "openid profile email address",
    # SMART Health Link requests (manifest, file, direct file) one client address may make per window (seconds).
    "SHL_LIMIT": 60,
    "SHL_WINDOW": 60,
}
# Variables read from the environment as GATEWAY_<NAME>.
ENV_KEYS = (
    "DB",
    "DATABASE_URL",
    "DATABASE_POOL",
    "DATABASE_REPLICA_URL",
    "DATABASE_REPLICA_MAX_LAG",
    "BASE_URL",
    "SECRET_KEY",
    "ENV",
    "MAX_CONTENT_LENGTH",
    "TIMEZONE",
    "REGISTRATION_APPROVAL",
    "OUTBOUND_SLOTS",
    "PRUNE_INTERVAL",
    "TRUSTED_PROXIES",
    "REGISTRATION_LIMIT",
    "REGISTRATION_WINDOW",
    "OUTBOX_SENDER",
    "OUTBOX_POLL",
    "OUTBOX_ATTEMPTS",
    "OUTBOX_BACKOFF",
    "SMTP_DEADLINE",
    "SMS_DEADLINE",
    "EXPORT_DIR",
    "EXPORT_FILE_BYTES",
    "EXPORT_TTL",
    "EXPORT_WORKERS",
    "EXPORT_THREADS",
    "EXPORT_MAX_PER_CLIENT",
    "EXPORT_MAX_ACTIVE",
    "EXPORT_CHUNK",
    "EXPORT_STALE",
    "EXPORT_ATTEMPTS",
    "EXPORT_POLL",
    "HEALTH_LINK_MAX_BYTES",
    "HEALTH_LINK_MAX_PAYLOAD",
    "HEALTH_LINK_DEADLINE",
    "IDP_ISSUER",
    "IDP_CLIENT_ID",
    "IDP_CLIENT_SECRET",
    "IDP_NAME",
    "IDP_ACR_VALUES",
    "IDP_VOT_VALUES",
    "IDP_SCOPE",
    "SHL_LIMIT",
    "SHL_WINDOW",
)
# Email and SMS senders (smart_auth/notify.py); with SMTP_HOST or SMS_URL unset, messages go to the outbox table.
NOTIFY_KEYS = (
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_USER",
    "SMTP_PASSWORD",
    "SMTP_STARTTLS",
    "SMTP_FROM",
    "SMTP_CAFILE",
    "SMS_URL",
    "SMS_SID",
    "SMS_TOKEN",
    "SMS_FROM",
)
ENV_KEYS += NOTIFY_KEYS
INT_KEYS = {
    "DATABASE_POOL",
    "DATABASE_REPLICA_MAX_LAG",
    "MAX_CONTENT_LENGTH",
    "OUTBOUND_SLOTS",
    "PRUNE_INTERVAL",
    "TRUSTED_PROXIES",
    "REGISTRATION_LIMIT",
    "REGISTRATION_WINDOW",
    "OUTBOX_POLL",
    "OUTBOX_ATTEMPTS",
    "OUTBOX_BACKOFF",
    "SMTP_DEADLINE",
    "SMS_DEADLINE",
    "EXPORT_FILE_BYTES",
    "EXPORT_TTL",
    "EXPORT_THREADS",
    "EXPORT_MAX_PER_CLIENT",
    "EXPORT_MAX_ACTIVE",
    "EXPORT_CHUNK",
    "EXPORT_STALE",
    "EXPORT_ATTEMPTS",
    "EXPORT_POLL",
    "HEALTH_LINK_MAX_BYTES",
    "HEALTH_LINK_MAX_PAYLOAD",
    "HEALTH_LINK_DEADLINE",
    "SHL_LIMIT",
    "SHL_WINDOW",
}
SENDER_MODES = ("thread", "inline", "off")


class ConfigError(RuntimeError):
    """Configuration that the gateway refuses to start with."""


def load(overrides=None, environ=None):
    """Return the effective configuration dict."""
    environ = os.environ if environ is None else environ
    config = dict(DEFAULTS)
    for key in ENV_KEYS:
        value = environ.get(f"GATEWAY_{key}")
        if value is not None:
            config[key] = _integer(key, value) if key in INT_KEYS else value
    config.update(overrides or {})
    if config["DATABASE_URL"] and not (overrides or {}).get("DB"):
        config["DB"] = config["DATABASE_URL"]
    if config["DATABASE_URL"] and not is_database_url(config["DATABASE_URL"]):
        raise ConfigError("GATEWAY_DATABASE_URL must be a postgresql:// URL (a SQLite file is GATEWAY_DB)")
    config["DATABASE_REPLICAS"] = replica_urls(config)
    config["BASE_URL"] = config["BASE_URL"].rstrip("/")
    config["FHIR_BASE"] = config["BASE_URL"] + "/fhir"
    if int(config["TRUSTED_PROXIES"]) < 0:
        raise ConfigError("GATEWAY_TRUSTED_PROXIES must be 0 (no proxy) or the number of proxies in front")
    if not config["SECRET_KEY"] and is_database_url(config["DB"]) and not config["DEMO"]:
        # No file beside a PostgreSQL database to keep one in, and every host must sign with the same secret.
        raise ConfigError("GATEWAY_SECRET_KEY must be set with a PostgreSQL database (the same on every host)")
    if not config["SECRET_KEY"]:
        config["SECRET_KEY"] = DEMO_SECRET if config["DEMO"] else kept_secret(config["DB"])
    if config["ENV"] == "production" and config["SECRET_KEY"] == DEMO_SECRET:
        raise ConfigError("GATEWAY_SECRET_KEY must be set to a real secret when GATEWAY_ENV=production")
    if config["OUTBOX_SENDER"] not in SENDER_MODES:
        raise ConfigError(f"GATEWAY_OUTBOX_SENDER must be one of {', '.join(SENDER_MODES)}")
    if config["EXPORT_WORKERS"] not in SENDER_MODES:
        raise ConfigError(f"GATEWAY_EXPORT_WORKERS must be one of {', '.join(SENDER_MODES)}")
    _check_identity_provider(config)
    if not config["EXPORT_DIR"]:
        config["EXPORT_DIR"] = export_dir(config["DB"])
    return config


def _check_identity_provider(config):
    """A configured identity provider needs a client id, accepted ``acr`` values and (in production) https."""
    if not config["IDP_ISSUER"]:
        return
    if not config["IDP_CLIENT_ID"]:
        raise ConfigError("GATEWAY_IDP_CLIENT_ID must be set when GATEWAY_IDP_ISSUER is")
    if not str(config["IDP_ACR_VALUES"]).split():
        raise ConfigError("GATEWAY_IDP_ACR_VALUES must name at least one accepted acr value")
    if config["ENV"] == "production" and not config["IDP_ISSUER"].startswith("https://"):
        raise ConfigError("GATEWAY_IDP_ISSUER must be an https:// address when GATEWAY_ENV=production")


def replica_urls(config):
    """The replicas' URLs as a tuple (empty without any), or ConfigError when they cannot serve this database.

    The list splits only before a ``postgresql://``, so a libpq multi-host URL (``postgresql://a,b/db``) stays one.
    """
    given = config["DATABASE_REPLICA_URL"]
    urls = tuple(u.strip() for u in re.split(r",\s*(?=postgres(?:ql)?://)", given or "") if u.strip())
    if not urls:
        return ()
    if not is_database_url(config["DB"]):
        raise ConfigError(
            "GATEWAY_DATABASE_REPLICA_URL needs a PostgreSQL primary (GATEWAY_DATABASE_URL=postgresql://...): "
            "a SQLite gateway reads its own file"
        )
    if not all(is_database_url(u) and _conninfo(u) for u in urls):
        raise ConfigError("GATEWAY_DATABASE_REPLICA_URL must be postgresql:// URLs, separated by commas")
    if config["DB"] in urls:
        raise ConfigError("GATEWAY_DATABASE_REPLICA_URL names the primary itself (GATEWAY_DATABASE_URL)")
    if int(config["DATABASE_REPLICA_MAX_LAG"]) < 1:
        raise ConfigError("GATEWAY_DATABASE_REPLICA_MAX_LAG must be a whole number of seconds, at least 1")
    return urls


def _conninfo(url):
    """True when libpq can read ``url`` (https://www.postgresql.org/docs/15/libpq-connect.html#LIBPQ-CONNSTRING)."""
    import psycopg

    try:
        psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return False  # a list written "a, b" (libpq refuses the space) or a stray "%"
    return True


def is_database_url(db):
    """True when ``db`` names a PostgreSQL database (``postgresql://``) rather than a SQLite file."""
    return isinstance(db, str) and db.startswith(("postgresql://", "postgres://"))


def export_dir(db_path):
    """Where exports are written by default: ``var/gateway.db`` -> ``var/exports``."""
    if is_database_url(db_path):  # several hosts set GATEWAY_EXPORT_DIR to one shared folder
        return os.path.abspath(os.path.join("var", "exports"))
    if db_path == ":memory:":
        return os.path.join(tempfile.gettempdir(), "fhir-gateway-exports")
    return os.path.join(os.path.dirname(os.path.abspath(db_path)), "exports")


def secret_path(db_path):
    """Where a deployment without GATEWAY_SECRET_KEY keeps its secret: ``var/gateway.db`` -> ``var/gateway.secret``."""
    return os.path.splitext(db_path)[0] + ".secret"


def kept_secret(db_path):
    """The secret kept beside the database, generated (owner-only) on first use; every worker and restart reads it.

    It lives outside the database on purpose: a copy of the database alone opens no sealed PIN or private key.
    """
    if db_path == ":memory:":
        return secrets.token_urlsafe(32)
    if is_database_url(db_path):  # a URL is no folder: its "file" would be written relative to the working directory
        raise ConfigError("GATEWAY_SECRET_KEY must be set with a PostgreSQL database (the same on every host)")
    path = secret_path(db_path)
    if not os.path.exists(path):
        _create_secret(path)
    with open(path, encoding="ascii") as f:
        value = f.read().strip()
    if not value:
        raise ConfigError(f"the secret file {path} is empty: delete it or set GATEWAY_SECRET_KEY")
    return value


def _create_secret(path):
    # Written whole to a private temporary file, then linked into place: link() never replaces an existing
    # file, so two processes starting at once agree on the first secret and nobody reads a half-written one.
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".secret-")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(secrets.token_urlsafe(32) + "\n")
            f.flush()
            os.fsync(f.fileno())
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)


def _integer(key, value):
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"GATEWAY_{key} must be a whole number, not {value!r}") from None
