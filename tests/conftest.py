"""Test session set-up: a real Secret Service on a private D-Bus bus for the whole run,
Qt offscreen, and fixtures for data folders, contexts and the CLI."""

from __future__ import annotations

import contextlib
import io
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import smki_desktop  # noqa: F401  (sets PYSIDE6_OPTION_LAZY before pytest-qt loads PySide6)

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# background jobs record any call into Qt (tests/gui/conftest.py fails the test on one)
os.environ["SMKI_QT_THREAD_GUARD"] = "1"
os.environ.pop("SMKI_DATA_DIR", None)
# a simulator started on demand by a test ends itself when idle, even if a test forgets it
os.environ.setdefault("SMKI_SIMULATOR_IDLE_EXIT", "300")
# `smki adt sign`/`verify` run in their own process unless a test asks for the command agent
# (tests/integration/test_command_agent.py starts its own, in a private folder): thousands of
# command runs with their own data folders would otherwise start agents that outlive the tests
os.environ["SMKI_AGENT"] = "off"

from hypothesis import settings as hypothesis_settings

from tests.support.postgres import PostgresServer
from tests.support.secret_service import (
    SecretServiceSession,
    delete_items_made_since,
    item_paths,
    keyring_daemon_gone,
    keyring_log,
    restart_keyring,
    secret_service_env,
)

FIXTURES = Path(__file__).parent / "fixtures"

# The property tests draw the same examples on every run, so that a CI result depends on the code
# alone (stop 28: a random draw failed one run). Exploring is the long fuzz run's job, and a run
# with SMKI_HYPOTHESIS_RANDOM=1 draws afresh; the fuzz tests keep their own profiles
# (tests/fuzz/harness.py).
hypothesis_settings.register_profile("repeatable", derandomize=True, database=None)
hypothesis_settings.register_profile("random", database=None)
hypothesis_settings.load_profile(
    "random" if os.environ.get("SMKI_HYPOTHESIS_RANDOM") == "1" else "repeatable")


@pytest.fixture(scope="session", autouse=True)
def secret_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecretServiceSession]:
    """A real gnome-keyring, unlocked, on a private session bus; the process environment points
    at it so that `keyring` (in-process and in subprocesses) uses it. Fails, never skips."""
    home = tmp_path_factory.mktemp("secret-service")
    try:
        env = secret_service_env(home)
        session = env.__enter__()
    except Exception as exc:
        pytest.fail(f"Could not start the real Secret Service for the tests: {exc}",
                    pytrace=False)
    global _KEYRING_LOG
    _KEYRING_LOG = keyring_log(session)
    yield session
    env.__exit__(None, None, None)


_KEYRING_RESTARTS: list[str] = []
_KEYRING_LOG: Path | None = None


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _KEYRING_RESTARTS:
        terminalreporter.write_line(
            f"gnome-keyring exited by itself {len(_KEYRING_RESTARTS)} time(s) and was started "
            f"again between tests (before: {', '.join(_KEYRING_RESTARTS)})", yellow=True)
        if _KEYRING_LOG is not None and _KEYRING_LOG.exists():
            tail = _KEYRING_LOG.read_text(errors="replace").splitlines()[-15:]
            terminalreporter.write_line("gnome-keyring's last messages:\n  " + "\n  ".join(tail))


def _item_paths(session: SecretServiceSession) -> set[str]:
    """The keyring's items; a daemon that dies *during* the call (gnome-keyring has crashed
    moments after a test killed its clients with SIGKILL, after the check that it was alive:
    CI's D-Bus answer was NoReply) is started again, unlocked, and asked once more."""
    from secretstorage.exceptions import SecretServiceNotAvailableException

    try:
        return item_paths(session)
    except SecretServiceNotAvailableException:
        _KEYRING_RESTARTS.append(os.environ.get("PYTEST_CURRENT_TEST", "?") + " (mid-call)")
        restart_keyring(session)
        return item_paths(session)


@pytest.fixture(autouse=True)
def keyring_left_as_found(secret_service: SecretServiceSession) -> Iterator[None]:
    """Each test's keyring entries are deleted when it ends (those of wider-scoped fixtures,
    made before, stay). gnome-keyring rewrites and re-encrypts its whole file, and holds every
    secret in locked memory, on each change: left to grow over the run (about 2,000 entries),
    each call slowed down and the daemon's locked memory passed 300 MB by mid-run; on the CI
    machine the run's second half then found the collection locked. A daemon that exited by
    itself between tests or during the clean-up (a gnome-keyring crash, seen twice on CI) is
    started again, unlocked, and the run's summary says so: else D-Bus activation would start it
    locked for the rest."""
    if keyring_daemon_gone(secret_service):
        _KEYRING_RESTARTS.append(os.environ.get("PYTEST_CURRENT_TEST", "?"))
        restart_keyring(secret_service)
    before = _item_paths(secret_service)
    yield
    delete_items_made_since(
        secret_service, before,
        on_restart=lambda: _KEYRING_RESTARTS.append(
            os.environ.get("PYTEST_CURRENT_TEST", "?") + " (clean-up)"))


def _simulators_under(folder: Path) -> list[int]:
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "smki_desktop.simulator" in cmd and str(folder) in cmd:
            pids.append(int(proc.name))
    return pids


@pytest.fixture(scope="session", autouse=True)
def no_simulator_left_behind(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Every simulator process a test started (under this run's temporary folders) is ended
    when the run ends."""
    yield
    import signal
    import time

    base = tmp_path_factory.getbasetemp()
    pids = _simulators_under(base)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while pids and time.monotonic() < deadline:
        time.sleep(0.1)
        pids = [p for p in pids if Path(f"/proc/{p}").exists()]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


# The store backend the contexts of a test open: "sqlite" (each data folder's own database) or
# "postgres" (a team store on a real PostgreSQL server, one database per environment per test).
# SMKI_TEST_BACKEND=postgres runs every test on PostgreSQL; a module or test marked
# `both_backends` runs on both (a parameter, not a copy).
BACKEND = os.environ.get("SMKI_TEST_BACKEND", "sqlite")
BACKENDS = ("sqlite", "postgres")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames and \
            metafunc.definition.get_closest_marker("both_backends") is not None:
        metafunc.parametrize("backend", BACKENDS, indirect=True)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark `uses_store` every test that reaches the store through these fixtures (`data_root`,
    `ctx`, `live_ctx`, `cli_run`, `open_db`, and any fixture built on them: all depend on
    `backend`). Only those tests change with SMKI_TEST_BACKEND; the PostgreSQL pass of CI runs
    them (`-m "uses_store and not both_backends"`) and not the pure-logic tests, which would
    run the same twice. Derived from each test's fixture closure, so it cannot rot."""
    for item in items:
        if "backend" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.uses_store)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    name = str(getattr(request, "param", BACKEND))
    if name not in BACKENDS:
        pytest.fail(f"SMKI_TEST_BACKEND={name!r}: one of {', '.join(BACKENDS)}", pytrace=False)
    return name


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the run (started on first use; fails, never skips)."""
    try:
        server = PostgresServer().start()
    except Exception as exc:
        pytest.fail(f"Could not start the PostgreSQL server for the tests: {exc}",
                    pytrace=False)
    yield server
    server.stop()


def link_team_store(server: PostgresServer, root: Path) -> list[str]:
    """Make `root` a workstation linked to fresh team stores (Test and Live), initialised as
    `smki team init` does but without its audit record (a test counts its own records)."""
    import secrets as _secrets

    from smki_desktop.core.environment import Environment
    from smki_desktop.core.team_url import parse_team_url
    from smki_desktop.store import team_link
    from smki_desktop.store.repos import team as team_repo

    names = []
    for env in Environment:
        name = server.create_migrated_database()
        names.append(name)
        env_dir = root / env.value
        env_dir.mkdir(parents=True, exist_ok=True)
        link = team_link.TeamLink(parse_team_url(server.socket_url(name))[0].text(),
                                  _secrets.token_hex(16), "2026-01-01T00:00:00+00:00")
        team_link.save(env_dir, link)
        store = team_link.open_store(link, None, env_dir)
        try:
            team_repo.initialise(store, env.value, "", link.installation_id, link.connected_at)
        finally:
            store.close()
    return names


@pytest.fixture
def data_root(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Iterator[Path]:
    root = tmp_path / "smki-data"
    root.mkdir()
    if backend != "postgres":
        yield root
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    names = link_team_store(server, root)
    yield root
    for name in names:
        server.discard_database(name)  # dropped on the server's spares thread


@pytest.fixture
def open_db(tmp_path: Path, backend: str, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """`open_db()` opens (or reopens) this test's store on the test's backend: a SQLite file,
    or a database of its own on the PostgreSQL server; typed as the `Database` surface."""
    from smki_desktop.store import team_link
    from smki_desktop.store.db import Database

    opened: list[object] = []
    pg: dict[str, object] = {}

    def open_() -> Database:
        if backend == "sqlite":
            db = Database(tmp_path / "db.sqlite")
        else:
            server: PostgresServer = request.getfixturevalue("postgres_server")
            if "name" not in pg:
                # the app's schema is in place (a copy of the template the app migrated at
                # the run's start): opening it runs no migration, as a reopen does not
                pg["name"] = server.create_migrated_database()
            from smki_desktop.core.team_url import parse_team_url
            from smki_desktop.store.postgres import PgDatabase

            address = parse_team_url(server.socket_url(str(pg["name"])))[0]
            # a workstation's folder of the Test environment, linked to the store as `smki
            # team connect` leaves it (what reads "another environment's store" follows)
            env_dir = tmp_path / "test"
            env_dir.mkdir(exist_ok=True)
            if team_link.load(env_dir) is None:
                team_link.save(env_dir, team_link.TeamLink(
                    address.text(), "open-db-" + str(pg["name"]), "2026-01-01T00:00:00+00:00"))
            db = team_link.as_database(PgDatabase(address.driver_url(),
                                                  env_dir / "smki.sqlite3"))
        opened.append(db)
        return db

    yield open_
    for db in opened:
        db.close()  # type: ignore[attr-defined]
    if "name" in pg:
        request.getfixturevalue("postgres_server").discard_database(str(pg["name"]))


@pytest.fixture
def ctx(data_root: Path):  # type: ignore[no-untyped-def]
    from smki_desktop.core.environment import Environment
    from smki_desktop.services.context import open_context

    c = open_context(Environment.TEST, data_root)
    yield c
    c.close()


@pytest.fixture
def live_ctx(data_root: Path):  # type: ignore[no-untyped-def]
    from smki_desktop.core.environment import Environment
    from smki_desktop.services.context import open_context

    c = open_context(Environment.LIVE, data_root)
    yield c
    c.close()


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self):  # type: ignore[no-untyped-def]
        import json

        return json.loads(self.out)


@pytest.fixture
def cli_run(data_root: Path):  # type: ignore[no-untyped-def]
    """Run `smki` in-process against `data_root`: cli_run("key", "list", env="live",
    stdin="1234\\n") -> CliResult."""
    from smki_desktop.cli.main import main

    def run(*args: str, env: str = "test", stdin: str | None = None,
            root: Path | None = None) -> CliResult:
        out, err = io.StringIO(), io.StringIO()
        argv = ["--env", env, "--data-dir", str(root or data_root), *args]
        old_stdin = sys.stdin
        if stdin is not None:
            sys.stdin = io.StringIO(stdin)
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = main(argv)
                except SystemExit as exc:
                    code = int(exc.code or 0)
        finally:
            sys.stdin = old_stdin
        return CliResult(code, out.getvalue(), err.getvalue())

    run.data_root = data_root  # type: ignore[attr-defined]  # for helpers that need a context
    return run
