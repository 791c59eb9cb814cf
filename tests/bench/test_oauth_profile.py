"""bench.oauth_profile: the stages of a token exchange add up to it, and each one named is actually timed."""

import contextlib
import sqlite3

from bench import floor, oauth, oauth_profile
from gateway.server import _worker_app


def test_the_stages_of_code_exchanges_and_refreshes_are_each_timed(demo_db_path, tmp_path):
    path = str(tmp_path / "bench.db")
    with contextlib.closing(sqlite3.connect(demo_db_path)) as source, contextlib.closing(sqlite3.connect(path)) as copy:
        source.backup(copy)
        ids = floor.patients_with_labs(copy, 2)
    minter = oauth.Minter(path, "http://127.0.0.1:1", ids)
    app = _worker_app({"DB": path, "BASE_URL": "http://127.0.0.1:1"})
    server = app.flask_app.extensions["smart_auth"]
    for forms in (minter.code_exchanges(8), minter.refreshes(8)):
        stages, cpu_us = oauth_profile.profile_case(app, server, forms, rounds=2)
        assert set(stages) == set(oauth_profile.STAGES)
        assert all(spent > 0 for spent in stages.values()), stages
        assert stages["RSA signature"] > stages["id_token claims"] and cpu_us > stages["RSA signature"]
    # the patches are undone: a plain exchange afterwards is not timed
    oauth_profile.post(app, oauth_profile.environ_of(minter.code_exchanges(1)[0]))
    assert not hasattr(server._save_token, "__wrapped__") and server._save_token.__name__ == "save_token"
