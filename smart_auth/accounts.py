"""Portal accounts and practice staff: passwords (argon2id), logins with attempt limits, chart links."""

import re
import uuid

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from gateway import store
from gateway.store import accounts as account_store
from gateway.store.chart import utc_now
from gateway.store.errors import IntegrityError

from . import limits, proxy_policy

RELATIONS = ("self", "parent", "guardian", "spouse", "child", "caregiver", "other")
ACCOUNT_LIMIT, ADDRESS_LIMIT, LIMIT_WINDOW = 5, 20, 15 * 60
_hasher = PasswordHasher()  # argon2-cffi's defaults: RFC 9106's low-memory profile (64 MiB, 3 passes)
_DUMMY_HASH = _hasher.hash("not-a-real-password-0")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+$")
PASSWORD_RULES = (
    ("at least 8 characters", lambda p: len(p) >= 8),
    ("an uppercase letter", lambda p: any(c.isupper() for c in p)),
    ("a number or symbol", lambda p: any(not c.isalpha() for c in p if not c.isspace())),
)


class AccountError(Exception):
    """A refused account operation; ``problems`` lists each reason for the form to show, and ``fields``
    the same reasons by the form field they belong to ({"email": [...], "password": [...]}), when known."""

    def __init__(self, message, problems=(), fields=None):
        super().__init__(message)
        self.problems = list(problems) or [message]
        self.fields = dict(fields or {})


class LoginFailed(AccountError):
    """Wrong email or password: one message for both, so accounts cannot be enumerated."""

    def __init__(self):
        super().__init__("That email and password do not match an account.")


def password_problems(password):
    """Return the unmet password rules, in words ("at least 8 characters", ...)."""
    return [rule for rule, ok in PASSWORD_RULES if not ok(password or "")]


def use_password_hasher(hasher):
    """Hash and check passwords with ``hasher`` from now on; only the test suite calls this, to go cheap.

    Hashes made before keep verifying: an argon2 hash carries its own parameters.
    """
    global _hasher, _DUMMY_HASH
    # The dummy hash must cost what a real one costs, or a login's timing tells whether the email exists.
    _hasher, _DUMMY_HASH = hasher, hasher.hash("not-a-real-password-0")


def hash_password(password):
    return _hasher.hash(password)


def verify_password(password_hash, password):
    """Check a password in constant time against an argon2 hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


EMAIL_PROBLEM = "Enter an email address like name@example.com."


def weak_password_error(problems):
    """The AccountError for a password that misses ``problems`` (a sentence per unmet rule)."""
    sentences = [f"The password needs {p}." for p in problems]
    return AccountError("The password needs " + ", ".join(problems) + ".", sentences, {"password": sentences})


def normalize_email(email):
    """Trim an email and check its shape; raise AccountError if it is not an address."""
    email = (email or "").strip()
    if not _EMAIL.match(email) or len(email) > 254:
        raise AccountError(EMAIL_PROBLEM, fields={"email": [EMAIL_PROBLEM]})
    return email


def create_account(db, email, password, name=None, phone=None, confirmed=False):
    """Create a portal account; raise AccountError for a bad email, a weak password or a taken email."""
    email = normalize_email(email)
    problems = password_problems(password)
    if problems:
        raise weak_password_error(problems)
    now = utc_now()
    try:
        with store.transaction(db):
            account_id = account_store.insert_account(
                db, str(uuid.uuid4()), email, hash_password(password), name, phone, now if confirmed else None, now
            )
    except IntegrityError:
        raise AccountError("An account with that email already exists. Log in instead.")
    return account_store.account_by_id(db, account_id)


def authenticate(db, email, password, address, kind="account"):
    """Return the account (or staff user) for a login, or raise LoginFailed / TooManyAttempts.

    Failures are limited per email (a known account can be slowed, never opened) and per client address
    (one address cannot lock out others), each over 15 minutes; there is no site-wide limit. The attempt
    is counted before the password is checked, so parallel guesses cannot outrun the limit. An unknown
    email costs the same hashing time as a known one.
    """
    email = (email or "").strip()
    by_email, by_address = limits.key(f"{kind}-login", email), limits.key(f"{kind}-login-addr", address)
    conn = db
    counted = limits.reserve(conn, (by_email, ACCOUNT_LIMIT, LIMIT_WINDOW), (by_address, ADDRESS_LIMIT, LIMIT_WINDOW))
    lookup = account_store.staff_by_email if kind == "staff" else account_store.account_by_email
    user = lookup(conn, email)
    if not verify_password(user["password_hash"] if user else _DUMMY_HASH, password or "") or user is None:
        raise LoginFailed()
    limits.clear(conn, by_email)
    limits.release(conn, counted[1:])
    return user


def create_staff(db, email, password, name, practice_id, provider_id=None, is_admin=False):
    """Create a practice staff user (``is_admin``: a practice administrator, who may change the practice's
    settings); same email and password rules as accounts."""
    email = normalize_email(email)
    problems = password_problems(password)
    if problems:
        raise AccountError("The password needs " + ", ".join(problems) + ".")
    try:
        with store.transaction(db):
            staff_id = account_store.insert_staff(
                db,
                str(uuid.uuid4()),
                email,
                hash_password(password),
                name,
                practice_id,
                provider_id,
                utc_now(),
                is_admin=is_admin,
            )
    except IntegrityError as exc:
        raise AccountError(f"Cannot create that staff user: {exc}")
    return account_store.staff_by_id(db, staff_id)


def link_account_to_chart(db, account_id, patient_id, relation="self"):
    """Link an account to a chart (integer patient id) with a relation; return the link id."""
    if relation not in RELATIONS:
        raise AccountError(f"Relation must be one of {', '.join(RELATIONS)}.")
    with store.transaction(db):
        return account_store.upsert_link(db, account_id, patient_id, relation, utc_now())


def linked_records(db, account_id):
    """The active chart links of an account that the proxy rule still lets it see, own record first."""
    today, policies = proxy_policy.today(), {}
    shown = []
    for link in account_store.links_of_account(db, account_id):
        if link["practice_id"] not in policies:
            policies[link["practice_id"]] = proxy_policy.policy_of(account_store.proxy_policy(db, link["practice_id"]))
        policy = policies[link["practice_id"]]
        decided = proxy_policy.decide(
            link["relation"],
            link["linked_at"],
            link["birth_date"],
            policy,
            today,
            link["sections"],
            link["access_until"],
        )
        if decided.allowed:
            shown.append(link)
    return shown


def fhir_user(db, account, link):
    """The FHIR resource of the person acting on a linked record (the id_token's ``fhirUser``), or None.

    SMART App Launch 2.x (§ Scopes for requesting identity data) lets ``fhirUser`` be a Patient or a
    RelatedPerson: the patient themself, or a representative the chart keeps as a contact with the
    account's email. A representative the chart does not know gets none, rather than the patient's.
    """
    if link["relation"] == "self":
        return f"Patient/{link['patient_uid']}"
    contact = account_store.contact_of_chart(db, link["patient_id"], account["email"])
    return f"RelatedPerson/{contact}" if contact else None
