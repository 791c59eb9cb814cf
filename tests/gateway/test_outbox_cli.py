"""`fhir-gateway outbox` lists what was queued or sent, `outbox send` delivers the queue, and the demo loader makes
the demo logins work."""

from gateway import store
from gateway.cli import cli
from smart_auth import accounts
from smart_auth.notify import Notifier
from tests.smtp_server import SmtpServer


def test_outbox_lists_messages_newest_first(runner, new_db_path):
    db = new_db_path("o")
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


def test_load_demo_creates_the_demo_logins(runner, new_db_path):
    db = new_db_path("d")
    assert runner.invoke(cli, ["load-demo", "--db", db]).exit_code == 0
    from fixtures import demo_accounts

    database = store.connect(db)
    for email, password, *_ in demo_accounts.ACCOUNTS:
        assert accounts.authenticate(database, email, password, "127.0.0.1")
    for email, password, *_ in demo_accounts.STAFF:
        assert accounts.authenticate(database, email, password, "127.0.0.1", kind="staff")


def test_outbox_send_delivers_the_queue_once_and_reports_what_is_left(runner, new_db_path):
    db = new_db_path("q")
    with SmtpServer() as smtp:
        env = {"GATEWAY_SMTP_HOST": "127.0.0.1", "GATEWAY_SMTP_PORT": str(smtp.port)}
        notifier = Notifier(store.connect(db), smtp.config)
        notifier.email("a@example.com", "Queued", "Open https://x/y", "<p>x</p>", "test")
        queued = runner.invoke(cli, ["outbox", "--db", db]).output
        assert "[test; queued; 0 attempt(s)] Queued" in queued and "    Open https://x/y" in queued
        assert smtp.inbox.messages == []
        result = runner.invoke(cli, ["outbox", "send", "--db", db], env=env)
        assert result.exit_code == 0, result.output
        assert result.output == "Handled 1 message(s); now 1 sent, 0 queued, 0 sending, 0 failed.\n"
        [message] = smtp.inbox.wait_for("a@example.com")
    assert message["Subject"] == "Queued"
    listed = runner.invoke(cli, ["outbox", "--db", db]).output.splitlines()
    assert len(listed) == 1 and listed[0].endswith("email to a@example.com [test; sent] Queued")


def test_outbox_send_without_a_sender_configured_says_so(runner, new_db_path):
    result = runner.invoke(
        cli, ["outbox", "send", "--db", new_db_path("n")], env={"GATEWAY_SMTP_HOST": "", "GATEWAY_SMS_URL": ""}
    )
    assert result.exit_code == 1
    assert "No GATEWAY_SMTP_HOST or GATEWAY_SMS_URL is set" in result.output
