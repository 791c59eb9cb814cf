"""Layered configuration: safe local defaults, then ``GATEWAY_*`` environment variables, then the caller's dict."""
import os

DEMO_SECRET = "demo-only-secret-change-me"

DEFAULTS = {
    "DB": os.path.join("var", "gateway.db"),
    "BASE_URL": "http://127.0.0.1:8080",
    "SECRET_KEY": DEMO_SECRET,
    "ENV": "development",
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "TIMEZONE": "America/Los_Angeles",
    "REGISTRATION_APPROVAL": "0",
    # Request threads of one process that may wait on outbound calls at once (gateway/outbound.py).
    "OUTBOUND_SLOTS": 2,
    # Who delivers queued email and SMS (gateway/outbox_sender.py): "thread" (a daemon thread in each server
    # process, woken after a response that queued something), "inline" (after each such request, in the request
    # thread: tests) or "off" (only `fhir-gateway outbox send`, e.g. from cron).
    "OUTBOX_SENDER": "thread",
    "OUTBOX_POLL": 5,  # seconds between the sender's looks at the queue (retries, other processes' messages)
    "OUTBOX_ATTEMPTS": 5,  # deliveries tried before a message is failed for staff to see
    "OUTBOX_BACKOFF": 30,  # seconds before the second attempt, doubling each time
    "SMTP_DEADLINE": 15,  # seconds for a whole SMTP conversation
    "SMS_DEADLINE": 10,  # seconds for a whole SMS provider call
}
# Variables read from the environment as GATEWAY_<NAME>.
ENV_KEYS = ("DB", "BASE_URL", "SECRET_KEY", "ENV", "MAX_CONTENT_LENGTH", "TIMEZONE", "REGISTRATION_APPROVAL",
            "OUTBOUND_SLOTS", "OUTBOX_SENDER", "OUTBOX_POLL", "OUTBOX_ATTEMPTS", "OUTBOX_BACKOFF", "SMTP_DEADLINE",
            "SMS_DEADLINE")
# Email and SMS senders (smart_auth/notify.py); with SMTP_HOST or SMS_URL unset, messages go to the outbox table.
NOTIFY_KEYS = ("SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_PASSWORD", "SMTP_STARTTLS", "SMTP_FROM", "SMTP_CAFILE",
               "SMS_URL", "SMS_SID", "SMS_TOKEN", "SMS_FROM")
ENV_KEYS += NOTIFY_KEYS
INT_KEYS = {"MAX_CONTENT_LENGTH", "OUTBOUND_SLOTS", "OUTBOX_POLL", "OUTBOX_ATTEMPTS", "OUTBOX_BACKOFF",
            "SMTP_DEADLINE", "SMS_DEADLINE"}
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
            config[key] = int(value) if key in INT_KEYS else value
    config.update(overrides or {})
    config["BASE_URL"] = config["BASE_URL"].rstrip("/")
    config["FHIR_BASE"] = config["BASE_URL"] + "/fhir"
    if config["ENV"] == "production" and config["SECRET_KEY"] in (DEMO_SECRET, "", None):
        raise ConfigError("GATEWAY_SECRET_KEY must be set to a real secret when GATEWAY_ENV=production")
    if config["OUTBOX_SENDER"] not in SENDER_MODES:
        raise ConfigError(f"GATEWAY_OUTBOX_SENDER must be one of {', '.join(SENDER_MODES)}")
    return config
