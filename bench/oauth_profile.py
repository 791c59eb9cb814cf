"""Where the microseconds of one token exchange go, in-process (issue 16): ``python -m bench.oauth_profile``.

Codes and refresh tokens are minted as ``bench.oauth`` mints them (the bench app, PKCE S256, scope
``launch/patient openid fhirUser offline_access patient/*.rs``), then spent one after another straight into the
WSGI callable a granian worker runs, with no HTTP server in the way. A timer per stage counts *exclusive* CPU time
of the thread (a stage's minus that of the stages called inside it; CPU time stays steady on a loaded machine,
where wall time does not), so the stages add up to the whole request:

- SQLite lookups: the client, the code or refresh token, the consent behind it, the signing key;
- token write: the one write transaction that uses the credential up and stores the new tokens (server.save_token);
- RSA signature: the id_token's RS256 signature and its compact serialization (keys.SigningKey.sign_jwt);
- id_token claims: the claims Authlib and the SMART grants put in it;
- grant logic: Authlib's grant and client authentication, PKCE, the token response;
- WSGI / front: everything else (reading the form, the OAuth2Request, the JSON answer, its headers).

Each is printed in µs per exchange, beside a bare ``cryptography`` RSA-2048 PKCS1v15 SHA-256 signature timed in the
same process, and the CPU time per exchange measured without timers. Example:
python -m bench.oauth_profile --db var/bench-demo.db --requests 300
"""

import argparse
import contextlib
import os
import shutil
import sqlite3
import statistics
import tempfile
import time
from urllib.parse import urlencode

from bench import profile

STAGES = ("SQLite lookups", "token write", "RSA signature", "id_token claims", "grant logic", "WSGI / front")
# (module, class or None, attribute, stage): the functions each stage is made of, patched where callers find them.
_PATCHES = (
    *(
        ("gateway.store.oauth", None, name, "SQLite lookups")
        for name in ("client_by_id", "find_code", "find_refresh_token", "grant_by_id", "account_link_active")
    ),
    ("gateway.store.oauth", None, "active_key", "SQLite lookups"),
    ("smart_auth.keys", "SigningKey", "sign_jwt", "RSA signature"),
    ("smart_auth.grants", "_SmartIdToken", "encode_id_token", "id_token claims"),
    ("smart_auth.server", "SmartAuthorizationServer", "token_answer", "grant logic"),
)


class StageClock(profile.StageClock):
    """bench.profile's exclusive time per stage, for the token endpoint's stages, in the thread's CPU time."""

    stages = STAGES
    now = staticmethod(time.thread_time)

    def claims(self, stage):
        return True


@contextlib.contextmanager
def patched(clock, server):
    """Wrap every stage's functions where their callers find them, and the ``server``'s save_token (bound when
    the app was made); restore them afterwards."""
    import importlib

    undo = [(server, "_save_token", server._save_token)]
    server._save_token = clock.wrap(server._save_token, "token write")
    for module_name, class_name, name, stage in _PATCHES:
        owner = importlib.import_module(module_name)
        owner = getattr(owner, class_name) if class_name else owner
        original = getattr(owner, name)
        undo.append((owner, name, original))
        setattr(owner, name, clock.wrap(original, stage))
    try:
        yield
    finally:
        for owner, name, original in reversed(undo):
            setattr(owner, name, original)


def environ_of(form):
    """The WSGI environ of one POST /oauth/token with ``form`` (built before the clock starts)."""
    from werkzeug.test import EnvironBuilder

    return EnvironBuilder(
        path="/oauth/token", method="POST", data=urlencode(form), content_type="application/x-www-form-urlencoded"
    ).get_environ()


def post(app, environ):
    """One POST /oauth/token through the worker's WSGI callable; AssertionError unless it is a 200."""
    statuses = []
    b"".join(app(environ, lambda status, headers, exc_info=None: statuses.append(status)))
    if not statuses[0].startswith("200"):
        raise AssertionError(f"token exchange answered {statuses[0]}")


def bare_rsa_us(n=200):
    """CPU µs of one bare RSA-2048 PKCS1v15 SHA-256 signature with ``cryptography`` (the floor of an id_token)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    message = b"x" * 600
    key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    started = time.process_time()
    for _ in range(n):
        key.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return 1e6 * (time.process_time() - started) / n


def profile_case(app, server, forms, rounds):
    """(µs per stage, CPU µs per exchange untimed) of spending ``forms`` in ``rounds`` alternating halves."""
    clock = StageClock()
    half = len(forms) // 2
    timed_forms, plain_forms = [environ_of(f) for f in forms[:half]], [environ_of(f) for f in forms[half:]]
    cpu = []
    for r in range(rounds):
        chunk = slice(r * len(plain_forms) // rounds, (r + 1) * len(plain_forms) // rounds)
        started = time.process_time()
        for form in plain_forms[chunk]:
            post(app, form)
        cpu.append(1e6 * (time.process_time() - started) / max(1, len(plain_forms[chunk])))
        with patched(clock, server):
            for form in timed_forms[r * len(timed_forms) // rounds : (r + 1) * len(timed_forms) // rounds]:
                clock.request(lambda form=form: post(app, form))
    return {stage: 1e6 * spent / len(timed_forms) for stage, spent in clock.spent.items()}, statistics.median(cpu)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m bench.oauth_profile", description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a bench database (copied; the copy is deleted afterwards)")
    parser.add_argument("--requests", type=int, default=300, help="exchanges of each kind (half timed per stage)")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)

    from bench import floor
    from bench.oauth import Minter
    from gateway.server import _worker_app

    folder = tempfile.mkdtemp(prefix="oauth-profile-")
    try:
        db = os.path.join(folder, "bench.db")
        shutil.copy(args.db, db)
        with contextlib.closing(sqlite3.connect(db)) as conn:
            ids = floor.patients_with_labs(conn, 50)
        minter = Minter(db, "http://127.0.0.1:8080", ids)
        app = _worker_app({"DB": db, "BASE_URL": "http://127.0.0.1:8080"})
        for form in minter.code_exchanges(30):
            post(app, environ_of(form))  # warm the handles and the key
        cases = {
            "authorization_code": minter.code_exchanges(args.requests),
            "refresh_token": minter.refreshes(args.requests),
        }
        rsa = bare_rsa_us()
        print(f"\nPOST /oauth/token in-process, µs per exchange (bare RSA-2048 sign here: {rsa:.0f} µs CPU)")
        print(f"{'stage':<18}" + "".join(f"{name:>20}" for name in cases))
        server = app.flask_app.extensions["smart_auth"]
        results = {name: profile_case(app, server, forms, args.rounds) for name, forms in cases.items()}
        for stage in STAGES:
            print(f"{stage:<18}" + "".join(f"{results[name][0][stage]:>20.0f}" for name in cases))
        print(f"{'sum of stages':<18}" + "".join(f"{sum(results[name][0].values()):>20.0f}" for name in cases))
        print(f"{'CPU, no timers':<18}" + "".join(f"{results[name][1]:>20.0f}" for name in cases))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
