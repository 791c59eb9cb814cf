"""A real SMTP server for tests (aiosmtpd on loopback) that keeps what it receives; optionally STARTTLS or slow."""

import asyncio
import datetime as dt
import email
import email.policy
import socket
import ssl
import time

from aiosmtpd.controller import Controller


class Inbox:
    """aiosmtpd handler: every received message, parsed."""

    def __init__(self, delay=0.0):
        self.messages, self.delay = [], delay

    async def handle_DATA(self, server, session, envelope):
        await asyncio.sleep(self.delay)  # a slow mail server: what a page must never wait for
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"

    def wait_for(self, to, count=1, timeout=5):
        """The messages for ``to``, waiting until there are ``count`` of them."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            found = [m for m in self.messages if to.lower() in str(m["To"]).lower()]
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"no email for {to} (got {[str(m['To']) for m in self.messages]})")

    @staticmethod
    def text_of(message):
        return message.get_body(("plain",)).get_content()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed(directory):
    """A certificate for 127.0.0.1 and its key, written to ``directory``; returns (cert path, key path)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)


class SmtpServer:
    """Start with ``with SmtpServer() as smtp``; ``smtp.config`` is what the gateway needs to send to it."""

    def __init__(self, tls_dir=None, delay=0.0):
        self.inbox, self.port = Inbox(delay), free_port()
        kwargs, self.config = (
            {},
            {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": self.port, "SMTP_FROM": "Portal <portal@gateway.test>"},
        )
        if tls_dir is not None:
            cert, key = self_signed(tls_dir)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(cert, key)
            kwargs = {"tls_context": context, "require_starttls": True}
            self.config.update(SMTP_STARTTLS="true", SMTP_CAFILE=cert)
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **kwargs)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()
