"""A throwaway PostgreSQL cluster for the tests: initdb + pg_ctl in a temp folder, on a free loopback port.

``Cluster.start()`` makes one (trust authentication, loopback only, locale C, no fsync: a test cluster keeps
nothing); ``cluster.database()`` creates a new database and returns its URL, ``template=`` copying another
(CREATE DATABASE ... TEMPLATE is a file copy: a migrated or loaded database per test costs milliseconds);
``cluster.stop()`` stops it and removes the folder. ``make postgres`` installs Debian's ``postgresql`` when
the binaries are missing. Running as root (containers, CI), the cluster runs as the ``nobody`` user, since
PostgreSQL refuses to run as root.
"""

import contextlib
import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile

import psycopg

_names = itertools.count(1)
# A test cluster keeps nothing, so it skips durability; bench/postgres.py passes its own (durable) settings.
TEST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "max_connections": "300"}


def binaries():
    """The folder holding initdb and pg_ctl: on PATH, else the newest /usr/lib/postgresql/*/bin; None if neither."""
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return os.path.dirname(os.path.realpath(found))
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True):
        if os.path.exists(os.path.join(folder, "initdb")):
            return folder
    return None


def free_port():
    with contextlib.closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, folder, port, bin_dir, user):
        self.folder, self.port, self.bin_dir, self.user = folder, port, bin_dir, user

    @classmethod
    def start(cls, settings=None):
        """Create and start a cluster with ``settings`` (server parameters; default TEST_SETTINGS)."""
        bin_dir = binaries()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL is not installed: run `make postgres` (Debian's postgresql package)")
        folder = tempfile.mkdtemp(prefix="gateway-pg-")
        os.chmod(folder, 0o755)
        cluster = cls(folder, free_port(), bin_dir, "nobody" if os.geteuid() == 0 else None)
        data = os.path.join(folder, "data")
        cluster._run("initdb", "-D", data, "-A", "trust", "-U", "postgres", "--locale=C", "-E", "UTF8", "--no-sync")
        options = f"-c listen_addresses=127.0.0.1 -p {cluster.port} -k {folder} "
        options += " ".join(f"-c {name}={value}" for name, value in (settings or TEST_SETTINGS).items())
        cluster._run("pg_ctl", "-D", data, "-o", options, "-l", os.path.join(folder, "log"), "-w", "start")
        return cluster

    def _run(self, program, *args):
        command = [os.path.join(self.bin_dir, program), *args]
        if self.user:
            shutil.chown(self.folder, self.user)
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, capture_output=True)

    def url(self, name="postgres"):
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"

    def database(self, template=None):
        """A new database's URL (a copy of ``template``'s database when given)."""
        name = f"t{next(_names)}"
        if template:  # a template must have no sessions: this process's pool on it closes
            from gateway.store import postgres

            postgres.close_pool(template)
        with psycopg.connect(self.url(), autocommit=True) as conn:
            if template:
                conn.execute(f"CREATE DATABASE {name} TEMPLATE {template.rsplit('/', 1)[1]}")
            else:
                conn.execute(f"CREATE DATABASE {name} TEMPLATE template0 LOCALE 'C' ENCODING 'UTF8'")
        return self.url(name)

    def drop(self, url):
        from gateway.store import postgres

        postgres.close_pool(url)
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {url.rsplit('/', 1)[1]} WITH (FORCE)")

    def stop(self):
        from gateway.store import postgres

        for key in [k for k in postgres._pools if f"@127.0.0.1:{self.port}/" in k[0]]:
            postgres.close_pool(key[0])  # this process's pools first: no reconnect attempts to a stopped cluster
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run("pg_ctl", "-D", os.path.join(self.folder, "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)

    def standby(self):
        """A hot standby of this cluster on another free port, streaming its WAL (``pg_basebackup -R``).

        The throwaway cluster's defaults already allow it: wal_level ``replica``, max_wal_senders 10 and initdb's
        pg_hba.conf, which trusts replication connections from loopback
        (https://www.postgresql.org/docs/15/app-pgbasebackup.html). ``-R`` writes ``standby.signal`` and the
        ``primary_conninfo`` to reach this cluster; ``-X stream`` copies the WAL written meanwhile, so the standby
        starts consistent. Stop it with its own ``stop()`` (before this cluster's).
        """
        folder = tempfile.mkdtemp(prefix="gateway-pg-standby-")
        os.chmod(folder, 0o755)
        standby = Cluster(folder, free_port(), self.bin_dir, self.user)
        data = os.path.join(folder, "data")
        standby._run(
            "pg_basebackup",
            "-D",
            data,
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-R",
            "-X",
            "stream",
            "--checkpoint=fast",
            "--no-sync",
        )
        options = f"-c listen_addresses=127.0.0.1 -p {standby.port} -k {folder} -c hot_standby=on"
        options += " -c fsync=off -c max_connections=300"
        standby._run("pg_ctl", "-D", data, "-o", options, "-l", os.path.join(folder, "log"), "-w", "start")
        standby.options = options  # a test that stops the standby starts it again with these
        return standby

    def sql(self, statement, name="postgres"):
        """Run one statement on database ``name``: its first row, or None (a standby's replay controls, DDL)."""
        with psycopg.connect(self.url(name), autocommit=True) as conn:
            cursor = conn.execute(statement)
            return cursor.fetchone() if cursor.description else None
