"""`fhir-gateway outbox` lists what was sent, and the demo loader makes the demo logins work."""
from gateway import store
from gateway.cli import cli
from smart_auth import accounts
from smart_auth.notify import Notifier


def test_outbox_lists_messages_newest_first(runner, tmp_path):
    db = str(tmp_path / "o.db")
    assert "empty" in runner.invoke(cli, ["outbox", "--db", db]).output
    notifier = Notifier(store.connect(db), {})
    notifier.email("a@example.com", "First", "Open https://x/portal/invite/abc", "<p>x</p>", "invite")
    notifier.sms("555-010-0001", "Your code is 123456", "security code")
    result = runner.invoke(cli, ["outbox", "--db", db])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert "sms to 555-010-0001" in lines[0] and "email to a@example.com" in lines[2]
    assert "    Open https://x/portal/invite/abc" in lines
    only_email = runner.invoke(cli, ["outbox", "--db", db, "--channel", "email", "--limit", "1"]).output
    assert "sms" not in only_email and "First" in only_email


def test_load_demo_creates_the_demo_logins(runner, tmp_path):
    db = str(tmp_path / "d.db")
    assert runner.invoke(cli, ["load-demo", "--db", db]).exit_code == 0
    from fixtures import demo_accounts
    database = store.connect(db)
    for email, password, *_ in demo_accounts.ACCOUNTS:
        assert accounts.authenticate(database, email, password, "127.0.0.1")
    for email, password, *_ in demo_accounts.STAFF:
        assert accounts.authenticate(database, email, password, "127.0.0.1", kind="staff")
