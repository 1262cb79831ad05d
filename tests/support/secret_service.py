"""Start a private D-Bus session bus with a real gnome-keyring Secret Service.

Used by the test session (unlocked) and by tests of the locked and unavailable cases. If the
daemons cannot start, the caller fails: the suite never silently skips the real keyring.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

PASSWORD = "smki-test-keyring"


@dataclass
class SecretServiceSession:
    home: Path
    env: dict[str, str]
    pids: list[int] = field(default_factory=list)
    # the harness's own D-Bus connection, kept for the run (see `_connection`)
    conn: object | None = None

    def drop_connection(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()  # type: ignore[attr-defined]
            self.conn = None

    def stop(self) -> None:
        self.drop_connection()
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass


class SecretServiceError(RuntimeError):
    pass


def start_bus(home: Path) -> SecretServiceSession:
    for tool in ("dbus-daemon", "gnome-keyring-daemon"):
        if shutil.which(tool) is None:
            raise SecretServiceError(
                f"{tool} is not installed: install Debian's dbus-x11 and gnome-keyring "
                "(README's test command does)."
            )
    home.mkdir(parents=True, exist_ok=True)
    runtime = home / "run"
    runtime.mkdir(mode=0o700, exist_ok=True)
    env = dict(os.environ)
    env.update({
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_RUNTIME_DIR": str(runtime),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_CACHE_HOME": str(home / "cache"),
    })
    out = subprocess.run(
        ["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1",
         "--nopidfile"],
        capture_output=True, text=True, env=env, timeout=20, check=True,
    ).stdout.split()
    address, pid = out[0], int(out[1])
    env["DBUS_SESSION_BUS_ADDRESS"] = address
    return SecretServiceSession(home=home, env=env, pids=[pid])


_NAME = "org.freedesktop.secrets"


def start_keyring(session: SecretServiceSession, *, unlock: bool = True,
                  timeout: float = 15.0) -> None:
    """gnome-keyring on the session's bus; returns once the daemon started here owns the Secret
    Service name.

    Asking the Secret Service anything before then lets the bus *activate* a second daemon from
    gnome-keyring's D-Bus service file, which comes up locked, takes the name and keeps it: every
    call then fails with "Failed to unlock the collection" (CI failed so at stop 23, on a loaded
    machine). If a daemon other than ours holds the name, it is stopped and ours started again."""
    for _attempt in range(3):
        proc = _spawn_keyring(session, unlock=unlock)
        owner = _wait_for_owner(session, proc, timeout)
        if owner == proc.pid:
            return
        # Another daemon (activated by an early caller) has the name: ours cannot serve.
        kill_daemons(session)
    raise SecretServiceError(
        f"another gnome-keyring kept the Secret Service name on the private bus (pid {owner})")


def _spawn_keyring(session: SecretServiceSession, *, unlock: bool) -> subprocess.Popen[bytes]:
    args = ["gnome-keyring-daemon", "--foreground", "--components=secrets"]
    if unlock:
        args.insert(2, "--unlock")
    # its messages go to a log beside its keyring, so that a crash can be told apart later
    with open(keyring_log(session), "ab") as log:
        proc = subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=log, stderr=log, env=session.env,
        )
    session.pids.append(proc.pid)
    assert proc.stdin is not None
    if unlock:
        proc.stdin.write(PASSWORD.encode())
    proc.stdin.close()
    return proc


def keyring_log(session: SecretServiceSession) -> Path:
    return session.home / "gnome-keyring.log"


def _wait_for_owner(session: SecretServiceSession, proc: subprocess.Popen[bytes],
                    timeout: float) -> int:
    """The pid of the process that owns the Secret Service name, once one does. Asked with
    NameHasOwner, which never activates a service."""
    from jeepney import DBus
    from jeepney.io.blocking import Proxy, open_dbus_connection

    deadline = time.monotonic() + timeout
    with contextlib.closing(
            open_dbus_connection(session.env["DBUS_SESSION_BUS_ADDRESS"])) as conn:
        bus = Proxy(DBus(), conn)
        while time.monotonic() < deadline:
            if bus.NameHasOwner(_NAME)[0]:
                return int(bus.GetConnectionUnixProcessID(_NAME)[0])
            if proc.poll() is not None:
                raise SecretServiceError(
                    f"gnome-keyring-daemon exited with code {proc.returncode} before it took "
                    "the Secret Service name")
            time.sleep(0.02)
    raise SecretServiceError(
        f"gnome-keyring-daemon did not take the Secret Service name within {timeout:.0f} s")


def wait_for_secret_service(session: SecretServiceSession, timeout: float = 15.0) -> None:
    """Wait until the Secret Service answers a real set/get through `keyring`."""
    probe = (
        "import keyring; keyring.set_password('smki-desktop/probe','probe','ok'); "
        "assert keyring.get_password('smki-desktop/probe','probe') == 'ok'"
    )
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        r = subprocess.run([_python(), "-c",
                            probe], env=session.env, capture_output=True, text=True, timeout=30)
        if r.returncode == 0:
            return
        last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
        time.sleep(0.2)
    raise SecretServiceError(f"gnome-keyring did not come up on the private bus: {last}")


def _python() -> str:
    import sys

    return sys.executable


def unlocked_session(home: Path) -> SecretServiceSession:
    s = start_bus(home)
    try:
        start_keyring(s, unlock=True)
        wait_for_secret_service(s)
    except BaseException:
        s.stop()
        raise
    return s


@contextlib.contextmanager
def secret_service_env(home: Path) -> Iterator[SecretServiceSession]:
    """An unlocked Secret Service that this process's `keyring` uses until the block ends
    (the test session and the benchmarks that need a real keyring)."""
    import keyring.core

    session = unlocked_session(home)
    saved = {k: os.environ.get(k) for k in session.env}
    os.environ.update(session.env)
    keyring.core.init_backend()
    try:
        yield session
    finally:
        session.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


_DEFAULT = "/org/freedesktop/secrets/aliases/default"


def _connection(session: SecretServiceSession):  # type: ignore[no-untyped-def]
    """The harness's one D-Bus connection for the run. gnome-keyring aborts under many
    connections opened and closed (keystores/secret_service.py); the fixture that empties the
    keyring after each test used to open three per test, some 6,000 over a run, and the daemon
    died once mid-run on CI (stop 28) inside that clean-up."""
    from jeepney.io.blocking import open_dbus_connection

    if session.conn is None:
        session.conn = open_dbus_connection(session.env["DBUS_SESSION_BUS_ADDRESS"])
    return session.conn


def item_paths(session: SecretServiceSession) -> set[str]:
    """The D-Bus paths of every item in the session's default collection."""
    from secretstorage.util import DBusAddressWrapper

    try:
        coll = DBusAddressWrapper(_DEFAULT, "org.freedesktop.Secret.Collection",
                                  _connection(session))
        return set(coll.get_property("Items"))
    except BaseException:
        session.drop_connection()
        raise


def delete_items(session: SecretServiceSession, paths: set[str]) -> None:
    """Delete these items (those already gone are skipped)."""
    from secretstorage import Item
    from secretstorage.exceptions import ItemNotFoundException

    try:
        conn = _connection(session)
        for path in sorted(paths):
            try:
                Item(conn, path).delete()
            except ItemNotFoundException:
                continue
    except BaseException:
        session.drop_connection()
        raise


def delete_items_made_since(session: SecretServiceSession, before: set[str],
                            on_restart: Callable[[], None] = lambda: None) -> None:
    """Delete the items that are not in `before`. A daemon that dies during this (a crash of
    gnome-keyring itself, as on CI at stop 28: NoReply in the middle of a delete) is started
    again on the same keyring file, unlocked, and the items are listed and deleted once more;
    `on_restart` is told, so that the run's summary can say so."""
    from secretstorage.exceptions import LockedException, SecretServiceNotAvailableException

    for attempt in (1, 2):
        if keyring_daemon_gone(session):
            on_restart()
            restart_keyring(session)
        try:
            made = item_paths(session) - before
            if made:
                delete_items(session, made)
            return
        except (SecretServiceNotAvailableException, LockedException):
            # LockedException: the daemon died just before, and the first call after it made
            # the bus start (activate) another, which comes up locked
            if attempt == 2:
                raise
            on_restart()
            restart_keyring(session)


def daemon_pids(session: SecretServiceSession) -> list[int]:
    """The gnome-keyring daemons on this session's bus: the one started here, and any that the
    bus started by D-Bus activation when a call found no Secret Service (that one comes up
    locked, as a keyring that went away does for the user)."""
    bus = session.env["DBUS_SESSION_BUS_ADDRESS"].encode()
    out = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if b"gnome-keyring" not in (proc / "cmdline").read_bytes():
                continue
            env = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"DBUS_SESSION_BUS_ADDRESS=" + bus in env:
            out.append(int(proc.name))
    return out


def kill_daemons(session: SecretServiceSession) -> None:
    for pid in daemon_pids(session):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)  # as at a log-out (SIGKILL may lose its file)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and daemon_pids(session):
        time.sleep(0.05)


def keyring_daemon_gone(session: SecretServiceSession) -> bool:
    """Has the daemon this session started exited (a crash of gnome-keyring itself)?"""
    pid = session.pids[-1]
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done == pid


def restart_keyring(session: SecretServiceSession) -> None:
    """gnome-keyring again on the same bus and keyring file, unlocked with the same password."""
    session.drop_connection()
    kill_daemons(session)
    start_keyring(session, unlock=True)
    wait_for_secret_service(session)
