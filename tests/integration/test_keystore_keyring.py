"""The OS-keyring key store against a real gnome-keyring: no clear key on disk, environment
isolation, and the three keyring failures with their own messages."""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from smki_desktop.core.errors import EnvironmentMismatch, NotFound, Refusal
from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.keystores.errors import KeyEntryMissing, KeyringLocked, KeyringUnavailable
from smki_desktop.services import keys as key_service
from tests.support.postgres import linked_store_contents
from tests.support.secret_service import start_bus, start_keyring, unlocked_session


def _all_bytes_under(root: Path) -> list[tuple[Path, bytes]]:
    """Every file under `root`, and every value of a team store it is linked to (not a file)."""
    return [(p, p.read_bytes()) for p in root.rglob("*") if p.is_file()] + \
        [(Path(name), data) for name, data in linked_store_contents(root).items()]


def test_no_clear_private_key_anywhere_under_data_dir(ctx, data_root: Path) -> None:
    scalars = []
    for usage, kt in [(KeyUsage.SIGNING, KeyType.EC_P256),
                      (KeyUsage.KEY_AGREEMENT, KeyType.EC_P256),
                      (KeyUsage.CLIENT_AUTH, KeyType.RSA_2048)]:
        info = key_service.generate_key(ctx, usage, f"k-{usage.value}", kt).key
        with ctx.keystore.signer(info.key_id) as s:
            priv = s.private_key
            if isinstance(priv, ec.EllipticCurvePrivateKey):
                scalars.append(priv.private_numbers().private_value.to_bytes(32, "big"))
            else:
                d = priv.private_numbers().d
                scalars.append(d.to_bytes((d.bit_length() + 7) // 8, "big")[:32])
    # the WAL is part of what is on disk: do not checkpoint it away first
    files = _all_bytes_under(data_root)
    assert any(p.name.endswith("-wal") for p, _ in files) or any(
        p.suffix == ".sqlite3" or str(p).startswith("team store") for p, _ in files)
    for path, content in files:
        assert b"PRIVATE KEY-----" not in content.replace(b"ENCRYPTED PRIVATE KEY-----", b""), path
        for scalar in scalars:
            for form in (scalar, scalar.hex().encode(), scalar.hex().upper().encode(),
                         base64.b64encode(scalar), base64.b64encode(scalar)[:40]):
                assert form not in content, f"{path} holds a private key scalar"


def test_key_signs_and_verifies_and_id_is_spki_hash(ctx) -> None:
    info = key_service.generate_key(ctx, KeyUsage.SIGNING, "sig").key
    import hashlib

    assert info.key_id == hashlib.sha256(info.public_key_der).hexdigest()
    with ctx.keystore.signer(info.key_id[:8]) as s:
        sig = s.sign(b"hello")
    pub = serialization.load_der_public_key(info.public_key_der)
    assert isinstance(pub, ec.EllipticCurvePublicKey)
    pub.verify(sig, b"hello", ec.ECDSA(hashes.SHA256()))


def test_test_key_invisible_and_unusable_from_live(ctx, live_ctx) -> None:
    info = key_service.generate_key(ctx, KeyUsage.SIGNING, "test-only").key
    assert key_service.list_keys(live_ctx) == []
    # asked for by id in Live, it is named as the Test environment's (not "missing")
    with pytest.raises(EnvironmentMismatch) as e:
        live_ctx.keystore.get(info.key_id)
    assert "Test" in e.value.message and "Live" in e.value.message
    assert not isinstance(e.value, NotFound)
    # even if the Test key's file and record were copied into Live, Live refuses it
    row = ctx.db.conn().execute("SELECT * FROM keys WHERE key_id=?", (info.key_id,)).fetchone()
    live_ctx.db.conn().execute(
        "INSERT INTO keys(key_id,label,key_type,usage,environment,created,location,location_ref,"
        "public_key) VALUES(?,?,?,?,?,?,?,?,?)",
        (row["key_id"], row["label"], row["key_type"], row["usage"], row["environment"],
         row["created"], row["location"], row["location_ref"], row["public_key"]))
    with pytest.raises(EnvironmentMismatch) as e:
        live_ctx.keystore.get(info.key_id)
    assert "Test" in e.value.message and "Live" in e.value.message
    # and the Live keyring namespace has no wrapping key for it
    with pytest.raises(KeyEntryMissing):
        live_ctx.keystore.secrets.get(f"key:{info.key_id}")


def test_live_key_invisible_from_test(ctx, live_ctx) -> None:
    from smki_desktop.core.eui import EuiRange
    from smki_desktop.core.party import PartyProfile, PartyType
    from smki_desktop.services.party import set_party

    with pytest.raises(Refusal, match="Party profile"):  # Live makes nothing without one
        key_service.generate_key(live_ctx, KeyUsage.SIGNING, "live-only")
    set_party(live_ctx, PartyProfile("Acme", "ACME", PartyType.IMPORT_SUPPLIER, (
        EuiRange.parse("90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF"),)))
    info = key_service.generate_key(live_ctx, KeyUsage.SIGNING, "live-only").key
    assert info.key_id not in [k.key_id for k in key_service.list_keys(ctx)]


def test_missing_keyring_entry_has_its_own_message(ctx) -> None:
    info = key_service.generate_key(ctx, KeyUsage.SIGNING, "gone").key
    ctx.keystore.secrets.delete(f"key:{info.key_id}")
    with pytest.raises(KeyEntryMissing) as e, ctx.keystore.signer(info.key_id):
        pass
    assert "deleted from the keyring" in e.value.message and "gone" in e.value.message


def _cli(env: dict[str, str], data_root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "smki_desktop.cli", "--data-dir", str(data_root),
                           *args], env=env, capture_output=True, text=True, timeout=60)


def test_locked_keyring_gives_locked_message(tmp_path: Path, data_root: Path) -> None:
    s = unlocked_session(tmp_path / "kr")
    try:
        lock = ("import secretstorage; c = secretstorage.dbus_init(); "
                "secretstorage.get_default_collection(c).lock()")
        subprocess.run([sys.executable, "-c", lock], env=s.env, check=True, timeout=30)
        r = _cli(s.env, data_root, "key", "generate", "--usage", "signing", "--label", "x")
        assert r.returncode == 1
        assert "OS keyring is locked" in r.stderr
        assert not list((data_root / "test" / "keys").glob("*.pem")), "half-written key file"
    finally:
        s.stop()


def test_keyring_that_cannot_open_is_reported_locked(tmp_path: Path, data_root: Path) -> None:
    s = start_bus(tmp_path / "kr2")
    try:
        start_keyring(s, unlock=False)
        import time

        time.sleep(0.5)
        r = _cli(s.env, data_root, "key", "generate", "--usage", "signing", "--label", "x")
        assert r.returncode == 1 and "OS keyring is locked" in r.stderr
    finally:
        s.stop()


def test_a_locked_keyring_activated_before_ours_is_up_does_not_keep_the_session_locked(
        tmp_path: Path) -> None:
    """A caller that reaches the bus before the test's gnome-keyring has taken the Secret Service
    name makes the bus start one of its own, locked (CI failed so at stop 23): the session helper
    sees the name held by another daemon, stops it, and comes up unlocked all the same."""
    from jeepney import DBus
    from jeepney.io.blocking import Proxy, open_dbus_connection

    from tests.support.secret_service import daemon_pids, wait_for_secret_service

    s = start_bus(tmp_path / "kr3")
    try:
        conn = open_dbus_connection(s.env["DBUS_SESSION_BUS_ADDRESS"])
        try:
            Proxy(DBus(), conn).StartServiceByName("org.freedesktop.secrets")
        finally:
            conn.close()
        activated = daemon_pids(s)
        assert activated, "the bus did not activate gnome-keyring from its service file"
        start_keyring(s, unlock=True)
        wait_for_secret_service(s, timeout=10)
        assert not set(activated) & set(daemon_pids(s)), "the locked daemon was left running"
    finally:
        s.stop()


def test_no_keyring_gives_unavailable_message_and_no_plaintext_fallback(
        data_root: Path) -> None:
    env = dict(os.environ)
    env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/nonexistent/bus"
    r = _cli(env, data_root, "key", "generate", "--usage", "signing", "--label", "x")
    assert r.returncode == 1
    assert "No secure OS keyring is available" in r.stderr
    assert "never falls back" in r.stderr
    assert not list((data_root / "test" / "keys").glob("*.pem"))


def test_a_backend_named_by_the_user_is_honoured_and_an_insecure_one_refused(
        data_root: Path) -> None:
    env = dict(os.environ, PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    r = _cli(env, data_root, "key", "generate", "--usage", "signing", "--label", "x")
    assert r.returncode == 1
    assert "keyring.backends.null" in r.stderr and "does not keep secrets safe" in r.stderr
    assert not list((data_root / "test" / "keys").glob("*.pem"))


def test_a_backend_named_in_keyrings_config_file_is_honoured(tmp_path: Path,
                                                             data_root: Path) -> None:
    """keyring's config file names a backend: then keyring decides (its null backend here), not
    our direct Secret Service path, and the insecure backend is refused as ever."""
    config = tmp_path / "config"
    (config / "python_keyring").mkdir(parents=True)
    (config / "python_keyring" / "keyringrc.cfg").write_text(
        "[backend]\ndefault-keyring=keyring.backends.null.Keyring\n")
    env = dict(os.environ, XDG_CONFIG_HOME=str(config))
    r = _cli(env, data_root, "key", "generate", "--usage", "signing", "--label", "x")
    assert r.returncode == 1
    assert "keyring.backends.null" in r.stderr and "does not keep secrets safe" in r.stderr
    assert not list((data_root / "test" / "keys").glob("*.pem"))


def test_secret_service_is_used_without_keyring_probing_every_backend() -> None:
    # keyring's detection would import its macOS backend, which runs gcc and ldconfig on Linux;
    # where keyring would pick its Secret Service backend, we speak to the service directly
    # (no `keyring` import, one D-Bus connection), writing the very items keyring reads
    probe = (
        "import sys\n"
        "from smki_desktop.core.environment import Environment\n"
        "from smki_desktop.keystores import secret_service\n"
        "from smki_desktop.keystores.secrets import OsSecrets\n"
        "s = OsSecrets(Environment.TEST); s.set('probe-direct', 'v')\n"
        "assert s.get('probe-direct') == 'v'\n"
        "print('keyring' in sys.modules, 'keyring.backends.macOS' in sys.modules)\n"
        "conn = secret_service._conn\n"
        "s.set('probe-direct', 'w'); assert s.get('probe-direct') == 'w'\n"
        "print(secret_service._conn is conn)\n"
        "import keyring\n"
        "print(keyring.get_password(Environment.TEST.keyring_service, 'probe-direct'))\n"
        "keyring.set_password(Environment.TEST.keyring_service, 'probe-direct', 'x')\n"
        "print(s.get('probe-direct'))\n"
        "s.delete('probe-direct'); s.delete('probe-direct')\n"
        "print(s.get_optional('probe-direct'))\n")
    r = subprocess.run([sys.executable, "-c", probe], env=dict(os.environ),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    # keyring not loaded; one connection for every call; keyring and we read each other's items
    # (the same item replaced, not a second one); deleting twice is no error
    assert r.stdout.split() == ["False", "False", "True", "w", "x", "None"]


def test_direct_secret_service_reconnects_after_the_daemon_restarts(tmp_path: Path) -> None:
    """The process keeps its D-Bus connection and session: when the keyring daemon goes and
    comes back (as in the faults tests), the next call opens a fresh one instead of failing on
    the stale session; with the daemon gone, the error is the unavailable one."""
    from smki_desktop.core.environment import Environment
    from smki_desktop.keystores import secret_service
    from smki_desktop.keystores.secrets import OsSecrets
    from tests.support.secret_service import kill_daemons, restart_keyring, secret_service_env

    with secret_service_env(tmp_path / "kr") as session:
        try:
            s = OsSecrets(Environment.TEST)
            s.set("reconnect", "1")
            first = secret_service._conn
            assert first is not None
            kill_daemons(session)
            with pytest.raises((KeyringUnavailable, KeyringLocked)):
                s.get("reconnect")
            restart_keyring(session)
            s.set("reconnect", "2")
            assert s.get("reconnect") == "2"
            assert secret_service._conn is not None and secret_service._conn is not first
        finally:
            kill_daemons(session)
            secret_service.close()


def test_one_dbus_connection_per_process_and_safe_across_threads() -> None:
    # keyring's own backend opens and closes a D-Bus connection per call, and gnome-keyring
    # aborts under many of those (keystores/secret_service.py): 3 processes writing 20 secrets
    # each killed the daemon here within a few hundred cycles, leaving a locked keyring behind
    probe = (
        "import threading, secretstorage\n"
        "opened = []\n"
        "real = secretstorage.dbus_init\n"
        "def counting():\n"
        "    opened.append(1); return real()\n"
        "secretstorage.dbus_init = counting\n"
        "from smki_desktop.core.environment import Environment\n"
        "from smki_desktop.keystores.secrets import OsSecrets\n"
        "s = OsSecrets(Environment.TEST)\n"
        "bad = []\n"
        "def work(t):\n"
        "    for i in range(8):\n"
        "        name = f'probe-thread-{t}-{i}'\n"
        "        s.set(name, f'value-{t}-{i}')\n"
        "        if s.get(name) != f'value-{t}-{i}': bad.append(name)\n"
        "        s.delete(name)\n"
        "        if s.get_optional(name) is not None: bad.append(name)\n"
        "threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]\n"
        "[t.start() for t in threads]; [t.join() for t in threads]\n"
        "print(len(opened), len(bad))\n")
    r = subprocess.run([sys.executable, "-c", probe], env=dict(os.environ),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["1", "0"]  # 128 calls from 4 threads over one connection


def test_a_read_from_the_unlocked_keyring_is_two_dbus_round_trips() -> None:
    """`smki adt sign` reads four secrets (issue 15): each is one SearchItems and one GetSecret,
    not the seven round trips of secretstorage's item objects (labels and lock states first);
    an item that is not there, one more (the collection's lock state)."""
    probe = (
        "from smki_desktop.core.environment import Environment\n"
        "from smki_desktop.keystores import secret_service\n"
        "from smki_desktop.keystores.secrets import OsSecrets\n"
        "s = OsSecrets(Environment.TEST)\n"
        "s.set('probe-trips', 'v\u00e9rit\u00e9 ' * 9)\n"
        "conn = secret_service._conn.connection\n"
        "sent = []\n"
        "real = conn.send_and_get_reply\n"
        "def counting(msg, *a, **k):\n"
        "    sent.append(msg.header.fields); return real(msg, *a, **k)\n"
        "conn.send_and_get_reply = counting\n"
        "value = s.get('probe-trips')\n"
        "print(len(sent), value == 'v\u00e9rit\u00e9 ' * 9)\n"
        "sent.clear(); print(s.get_optional('probe-trips-none'), len(sent))\n"
        "s.delete('probe-trips')\n")
    r = subprocess.run([sys.executable, "-c", probe], env=dict(os.environ),
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["2", "True", "None", "2"]


def test_a_read_from_a_locked_keyring_is_refused_as_locked_not_as_missing(
        tmp_path: Path) -> None:
    """The two-round-trip read gives way to the unlocking one whenever the collection is
    locked: a secret that is there is never reported missing because its keyring is locked."""
    s = unlocked_session(tmp_path / "kr3")
    try:
        probe = (
            "import secretstorage\n"
            "from smki_desktop.core.environment import Environment\n"
            "from smki_desktop.keystores.errors import KeyringLocked\n"
            "from smki_desktop.keystores.secrets import OsSecrets\n"
            "s = OsSecrets(Environment.TEST)\n"
            "s.set('probe-locked', 'v')\n"
            "assert s.get('probe-locked') == 'v'\n"
            "c = secretstorage.dbus_init(); secretstorage.get_default_collection(c).lock()\n"
            "for name in ('probe-locked', 'probe-never-written'):\n"
            "    try:\n"
            "        print(s.get_optional(name))\n"
            "    except KeyringLocked:\n"
            "        print('LOCKED')\n")
        r = subprocess.run([sys.executable, "-c", probe], env=s.env, capture_output=True,
                           text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert r.stdout.split() == ["LOCKED", "LOCKED"]
    finally:
        s.stop()
