"""A real PostgreSQL server for the tests (Debian's `postgresql` package).

`PostgresServer.start()` runs `initdb` in a `tempfile.mkdtemp()` folder chowned to the
`postgres` user (the tests run as root, and the server refuses to run as root), then the server
itself with `runuser -u postgres`, listening on a private unix socket and on 127.0.0.1 at a free
port. Local socket connections are trusted; TCP connections need the password of the role
`smki` (scram-sha-256), so `smki team connect` is tested with a real password check.
`create_database()` gives each test its own empty database, and `create_migrated_database()`
one with the app's schema already in place (a copy of a template migrated once per run: the
migrations are the bulk of a team store's set-up); `pause()`/`resume()` stop the
server keeping its data and start it again (partitions, crashes); `stop()` ends the server and
removes the folder.

Copying the template is most of a test's set-up on PostgreSQL (about 9 MB of catalogs and
tables each time, two databases per test: 0.3-1 s of the 1.3 s a test took on the 2-core CI
machine), so a thread of the test process keeps a few copies ready (`SPARES`) and drops the
databases `discard_database()` is given, while the tests run: a test takes a copy nobody has
used, as before, only made earlier. The thread leaves the server alone while it is paused, and
`pause()` waits for the one statement it may be running.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg

from smki_desktop.core.environment import Environment

if TYPE_CHECKING:
    from smki_desktop.services.context import AppContext

BIN = Path(os.environ.get("SMKI_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
ROLE = "smki"
PASSWORD = "team-store-test-password"
# how CREATE DATABASE copies its template: file by file after a checkpoint, not page by page
# through the write-ahead log (PostgreSQL 15's default, WAL_LOG, meant for small templates in a
# busy cluster): a third less server time per copy here, where the server's buffers are few and
# fsync is off, so the checkpoint costs next to nothing
STRATEGY = "STRATEGY FILE_COPY"
# migrated databases kept ready by the spares thread (two per test: Test and Live); 0: none,
# every copy made when a test asks for it
SPARES = int(os.environ.get("SMKI_TEST_PG_SPARES", "4"))


def available() -> bool:
    return (BIN / "initdb").exists() and shutil.which("runuser") is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="smki-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.port = _free_port()
        self.started = False
        self._template: str | None = None
        # the spares thread's state, under _cond: copies ready, databases to drop, and whether
        # it must leave the server alone (paused) or end (stopping)
        self._cond = threading.Condition()
        self._spares: list[str] = []
        self._doomed: list[str] = []
        self._held = False
        self._closing = False
        self._worker: threading.Thread | None = None
        self._failed = False  # the thread's last copy failed: a test makes its own (and fails)
        # held by the spares thread for each statement, and by pause()/resume() around pg_ctl
        self._admin_lock = threading.Lock()

    def _as_postgres(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        argv = list(cmd)
        if os.geteuid() == 0:
            argv = ["runuser", "-u", "postgres", "--", *argv]
        return subprocess.run(argv, check=check, capture_output=True, text=True, timeout=120)

    def start(self) -> PostgresServer:
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
        os.chmod(self.root, 0o755)
        self.socket_dir.mkdir()
        if os.geteuid() == 0:
            os.chown(self.socket_dir, pw.pw_uid, pw.pw_gid)
        self._as_postgres(str(BIN / "initdb"), "-D", str(self.data), "-U", "postgres",
                          "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
                          "--no-sync")
        self._opts = (f"-c listen_addresses=127.0.0.1 -c port={self.port} "
                f"-c unix_socket_directories={self.socket_dir} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        self._pg_start()
        self.started = True
        with self.admin() as c:
            c.execute(f"CREATE ROLE {ROLE} LOGIN PASSWORD '{PASSWORD}' CREATEDB")
        return self

    def admin(self, dbname: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(host=str(self.socket_dir), port=self.port, user="postgres",
                               dbname=dbname, autocommit=True)

    def create_database(self, name: str | None = None) -> str:
        name = name or f"t_{uuid.uuid4().hex[:16]}"
        with self.admin() as c:
            c.execute(f'CREATE DATABASE "{name}" OWNER {ROLE} {STRATEGY}')
        return name

    def create_migrated_database(self) -> str:
        """A new database holding the app's schema at its newest version and nothing else,
        copied from a template migrated by the app itself on first use (PostgreSQL copies a
        template's files: ~5 times faster than running the migrations again). A copy the
        spares thread made ahead if one is ready (or about to be), else one made now."""
        if self._template is None:
            from smki_desktop.core.team_url import parse_team_url
            from smki_desktop.store.postgres import PgDatabase

            name = self.create_database(f"tmpl_{uuid.uuid4().hex[:12]}")
            address = parse_team_url(self.socket_url(name))[0]
            store = PgDatabase(address.driver_url(), self.root / "template.sqlite3",
                               migrate=True)
            store.close()  # a template is copied only while nobody is connected to it
            self._template = name
        if SPARES > 0:
            with self._cond:
                if self._worker is None:
                    self._worker = threading.Thread(target=self._keep_spares, daemon=True,
                                                    name="pg-spares")
                    self._worker.start()
                self._cond.notify_all()
                # the thread makes a missing copy first: waiting for it beats a second copy
                # made at the same time on two cores
                self._failed = False
                self._cond.wait_for(lambda: self._spares or self._held or self._closing
                                    or self._failed or not self._worker_alive(), timeout=60)
                if self._spares:
                    name = self._spares.pop(0)
                    self._cond.notify_all()
                    return name
        return self._copy_template()

    def _copy_template(self) -> str:
        name = f"t_{uuid.uuid4().hex[:16]}"
        with self.admin() as c:
            c.execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._template}" OWNER {ROLE} '
                      f'{STRATEGY}')
        return name

    def drop_database(self, name: str) -> None:
        with self.admin() as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def discard_database(self, name: str) -> None:
        """Drop `name` soon, on the spares thread (a test's own databases, once it is over:
        the connections still open to it are ended as `drop_database` ends them)."""
        if self._worker is None:
            self.drop_database(name)
            return
        with self._cond:
            self._doomed.append(name)
            self._cond.notify_all()

    def _worker_alive(self) -> bool:
        return self._worker is not None and self._worker.is_alive()

    def _next_job(self) -> tuple[str, str] | None:
        """What the spares thread does next (under _cond): a missing copy first, then a drop,
        then copies up to SPARES; None when it must end."""
        def job() -> tuple[str, str] | None:
            if self._held:
                return None
            if not self._spares:
                return ("copy", "")
            if self._doomed:
                return ("drop", self._doomed[0])
            return ("copy", "") if len(self._spares) < SPARES else None

        while not self._closing:
            next_ = job()
            if next_ is not None:
                return next_
            self._cond.wait()
        return None

    def _keep_spares(self) -> None:
        while True:
            with self._cond:
                job = self._next_job()
                if job is None:
                    return
            kind, name = job
            try:
                with self._admin_lock:
                    with self._cond:
                        if self._held or self._closing:
                            continue  # paused meanwhile: ask again once it runs
                    if kind == "drop":
                        self.drop_database(name)
                    else:
                        name = self._copy_template()
            except Exception:
                # the server went away under us (a test stopped it): a copy is tried again,
                # a database not dropped is left for stop() to remove with the server's folder
                with self._cond:
                    if kind == "drop":
                        self._doomed.remove(name)
                    else:
                        self._failed = True
                    self._cond.notify_all()
                time.sleep(0.5)
                continue
            with self._cond:
                if kind == "drop":
                    self._doomed.remove(name)
                else:
                    self._spares.append(name)
                self._cond.notify_all()

    def socket_url(self, dbname: str) -> str:
        """A URL over the local socket (trusted: no password)."""
        return f"postgresql://{ROLE}@/{dbname}?host={self.socket_dir}&port={self.port}"

    def tcp_url(self, dbname: str) -> str:
        """A URL over TCP on the loopback interface (needs PASSWORD)."""
        return f"postgresql://{ROLE}@127.0.0.1:{self.port}/{dbname}"

    def _pg_start(self) -> None:
        self._as_postgres(str(BIN / "pg_ctl"), "-D", str(self.data), "-l",
                          str(self.root / "server.log"), "-o", self._opts, "-w", "-t", "60",
                          "start")

    def pause(self, mode: str = "fast") -> None:
        """Stop the server but keep its data (a partition, or a crash with mode "immediate"):
        every client's connection is cut; `resume()` starts it again on the same socket and
        port."""
        with self._cond:
            self._held = True
            self._cond.notify_all()
        with self._admin_lock:  # the spares thread's statement, if one runs, ends first
            self._as_postgres(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w",
                              "stop")

    def resume(self) -> None:
        with self._admin_lock:
            self._pg_start()
        with self._cond:
            self._held = False
            self._cond.notify_all()

    def running(self) -> bool:
        r = self._as_postgres(str(BIN / "pg_ctl"), "-D", str(self.data), "status",
                              check=False)
        return r.returncode == 0

    def restart(self, mode: str = "fast") -> None:
        """Stop and start again (`pg_ctl restart` would hand the server our output pipe, as
        it has no log file of its own: `run` would wait for the server to end)."""
        self.pause(mode)
        self.resume()

    def stop(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        if self._worker is not None:
            self._worker.join(timeout=60)
        if self.started:
            self._as_postgres(str(BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate",
                              "-w", "stop", check=False)
            self.started = False
        shutil.rmtree(self.root, ignore_errors=True)


def move_local_into(cli_run: Any, server: PostgresServer, name: str, *extra: str) -> Any:
    """What an officer types to move this data folder's store into the new database `name`:
    `team connect`, `team init`, `team migrate-from-local` (with `extra` options); each must
    succeed. The migrate's result."""
    assert cli_run("team", "connect", server.socket_url(name)).code == 0
    assert cli_run("team", "init").code == 0
    moved = cli_run("team", "migrate-from-local", *extra)
    assert moved.code == 0, moved.err
    return moved


@contextlib.contextmanager
def team_after_move(cli_run: Any, server: PostgresServer, data_root: Path,
                    env: Environment = Environment.TEST) -> Iterator[AppContext]:
    """The data folder's store moved into a new database of `server` (`move_local_into`), and
    the context of `env` opened on it (checked to be on PostgreSQL); closed and the database
    dropped afterwards."""
    from smki_desktop.services.context import open_context

    name = server.create_database()
    try:
        move_local_into(cli_run, server, name)
        team = open_context(env, data_root)
        try:
            assert team.db.backend != "sqlite"
            yield team
        finally:
            team.close()
    finally:
        server.drop_database(name)


def linked_store_contents(root: Path) -> dict[str, bytes]:
    """Every value of every table of the team stores the data folder `root` is linked to, as
    bytes (a bytea as its raw bytes, anything else as its text), one entry per store: what a
    scan of the data folder must also search when the store is not a file in it. Reached over
    the trusted local socket the tests use."""
    import json

    out: dict[str, bytes] = {}
    for link in sorted(root.glob("*/team.json")):
        url = str(json.loads(link.read_text())["url"])
        with psycopg.connect(url, autocommit=True) as c:
            tables = [r[0] for r in c.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema='public' AND table_type='BASE TABLE' ORDER BY table_name")]
            parts: list[bytes] = []
            for t in tables:
                for row in c.execute(f'SELECT * FROM "{t}"'):
                    parts.extend(v if isinstance(v, bytes) else str(v).encode() for v in row
                                 if v is not None)
        out[f"team store {link.parent.name} ({url})"] = b"\n".join(parts)
    return out
