"""`fhir-gateway proxy-policy` shows and sets a practice's proxy access policy."""

from click.testing import CliRunner

from gateway import store
from gateway.cli import cli
from gateway.store import accounts as account_store
from smart_auth import proxy_policy
from tests import chart


def run(path, *args):
    return CliRunner().invoke(cli, ["proxy-policy", "--db", path, *args])


def test_shows_the_defaults_then_sets_a_practices_policy(empty_db_path):
    db = store.connect(empty_db_path)
    chart.build(db)
    shown = run(empty_db_path, "org-1")
    assert (shown.exit_code, shown.output) == (
        0,
        "Under 12: the whole record. From 12 to 17: without reproductive-health, mental-health, sexual-health,"
        " substance-use. At 18: access given in childhood ends.\n",
    )
    done = run(empty_db_path, "org-1", "--limited-from", "13", "--withhold", "mental-health")
    assert done.output == (
        "Under 13: the whole record. From 13 to 17: without mental-health. At 18: access given in childhood ends.\n"
    )
    assert proxy_policy.policy_of(account_store.proxy_policy(db, 1)) == proxy_policy.Policy(13, 18, ("mental-health",))


def test_refuses_an_unknown_practice_or_category(empty_db_path):
    chart.build(store.connect(empty_db_path))
    unknown = run(empty_db_path, "org-9")
    assert unknown.exit_code == 2 and "no practice has the id 'org-9'" in unknown.output
    bad = run(empty_db_path, "org-1", "--withhold", "gossip")
    assert bad.exit_code == 2 and "unknown sensitive category 'gossip'" in bad.output
