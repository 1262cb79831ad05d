"""The freedesktop Secret Service spoken directly (SecretStorage over D-Bus), for the case where
the `keyring` library would use its own Secret Service backend anyway: the same items (same
attributes and label, so either can read what the other wrote), the same unlock attempt and the
same errors, but without importing `keyring` (~40 ms of every `smki` command at low load) and
with ONE D-Bus connection and Secret Service session per process instead of a new connection,
Diffie-Hellman session and availability check for every secret read (`smki adt sign` reads
five).

One connection per process is also what keeps gnome-keyring alive: each connect-call-disconnect
cycle is a new client to it, and gnome-keyring (42.1 in Debian 12, still in 50.0) has a race on
a client that goes away that aborts the whole daemon ("gkd_secret_service_get_pkcs11_session:
assertion 'client' failed", then GLib's "invoke_get_property_in_idle_cb: assertion failed";
also reported against other programs that make many short connections, e.g.
basecamp/hey-cli#352). Three processes writing and reading twenty secrets each through
keyring's backend killed the daemon here within 5-8 rounds, and D-Bus then activated a new,
*locked* one; over one connection per process, 150 such rounds left it running.

The connection belongs to the process and the session bus it was opened for: a forked child or
a changed DBUS_SESSION_BUS_ADDRESS opens its own. Calls are serialised (a jeepney blocking
connection is not thread-safe; the GUI's jobs run on a thread pool). When a call on a connection
kept from before fails for a transport reason (the keyring daemon or the bus restarted since),
it is retried once on a fresh connection; a refusal (locked, prompt dismissed) is never retried.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

APPID = "Python keyring library"  # what keyring's backend writes: items stay readable by both


class Unavailable(Exception):
    """No Secret Service on this session bus (or no session bus): the caller lets `keyring`'s
    detection decide, as it would have."""


class Locked(Exception):
    """The collection or item is locked and the unlock prompt was dismissed or cannot open."""


class _Conn:
    """One connection and one Secret Service session, with the key they were opened for."""

    def __init__(self) -> None:
        import secretstorage

        self.key = (os.getpid(), os.environ.get("DBUS_SESSION_BUS_ADDRESS", ""))
        self.connection = secretstorage.dbus_init()
        try:
            if not secretstorage.check_service_availability(self.connection):
                raise Unavailable("the Secret Service daemon is neither running nor "
                                  "activatable through D-Bus")
        except BaseException:
            self.connection.close()
            raise
        self.session: Any = None

    def close(self) -> None:
        try:
            self.connection.close()
        except Exception:  # already broken: nothing left to release
            pass


_lock = threading.Lock()
_conn: _Conn | None = None


def _collection(conn: _Conn) -> Any:
    """The default collection, unlocked (as keyring's backend does it)."""
    import secretstorage
    from secretstorage.util import open_session

    if conn.session is None:
        conn.session = open_session(conn.connection)
    try:
        collection = secretstorage.get_default_collection(conn.connection, conn.session)
    except secretstorage.exceptions.SecretServiceNotAvailableException:
        raise
    except secretstorage.exceptions.SecretStorageException as exc:
        raise Locked(f"Failed to create the collection: {exc}.") from exc
    collection.session = conn.session  # get_collection_by_alias drops it: items inherit it
    if collection.is_locked():
        collection.unlock()
        if collection.is_locked():  # the user dismissed the prompt, or it could not open
            raise Locked("Failed to unlock the collection!")
    return collection


def _item_unlocked(item: Any) -> Any:
    if item.is_locked():
        item.unlock()
        if item.is_locked():
            raise Locked("Failed to unlock the item!")
    return item


def _get(conn: _Conn, service: str, username: str) -> str | None:
    found = _get_unlocked(conn, service, username)
    if found is not _SLOW:
        return found  # type: ignore[return-value]
    for item in _collection(conn).search_items({"username": username, "service": service}):
        return str(_item_unlocked(item).get_secret().decode("utf-8"))
    return None


_SLOW = object()
_DEFAULT_PATH = "/org/freedesktop/secrets/aliases/default"


def _get_unlocked(conn: _Conn, service: str, username: str) -> object:
    """The read where the default collection exists and is unlocked, in two D-Bus round trips
    (SearchItems on the collection, GetSecret on the item) instead of seven: secretstorage's
    way, kept for every other case, also reads the collection's and the item's labels and
    lock states first (`smki adt sign` reads four secrets: ~20 ms, issue 15). Returns the
    secret, None (no such item), or _SLOW when that way must decide: no default collection
    yet (it creates one), a locked collection or item (it unlocks), an unusual answer."""
    import secretstorage
    from secretstorage.util import DBusAddressWrapper, open_session

    if conn.session is None:
        conn.session = open_session(conn.connection)
    collection = DBusAddressWrapper(_DEFAULT_PATH, "org.freedesktop.Secret.Collection",
                                    conn.connection)
    try:
        (paths,) = collection.call("SearchItems", "a{ss}",
                                   {"username": username, "service": service})
        if not paths:  # none, or none that a locked collection shows: the slow way unlocks
            locked = collection.get_property("Locked")
            return _SLOW if locked else None
        item = DBusAddressWrapper(paths[0], "org.freedesktop.Secret.Item", conn.connection)
        (secret,) = item.call("GetSecret", "o", conn.session.object_path)
    except secretstorage.exceptions.SecretServiceNotAvailableException:
        raise
    except Exception:  # no default collection, locked (IsLocked), or anything unforeseen
        return _SLOW
    return _decrypt(conn.session, secret).decode("utf-8")


def _decrypt(session: Any, secret: tuple[Any, ...]) -> bytes:
    """A Secret struct (session, parameters, value, content type) as the Secret Service
    specification's dh-ietf1024-sha256-aes128-cbc-pkcs7 algorithm sends it (or plain)."""
    value = bytes(secret[2])
    if not session.encrypted:
        return value
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    dec = Cipher(algorithms.AES(session.aes_key), modes.CBC(bytes(secret[1]))).decryptor()
    padded = dec.update(value) + dec.finalize()
    pad = padded[-1] if padded else 0
    if not 1 <= pad <= 16 or padded[-pad:] != bytes([pad]) * pad:
        raise ValueError("the Secret Service sent a secret with invalid padding")
    return padded[:-pad]


def _set(conn: _Conn, service: str, username: str, password: str) -> None:
    attributes = {"username": username, "service": service, "application": APPID}
    _collection(conn).create_item(f"Password for '{username}' on '{service}'", attributes,
                                  password.encode("utf-8"), replace=True)


def _delete(conn: _Conn, service: str, username: str) -> bool:
    for item in _collection(conn).search_items({"username": username, "service": service}):
        item.delete()
        return True
    return False


_OPS: dict[str, Callable[..., Any]] = {
    "get_password": _get, "set_password": _set, "delete_password": _delete}


def _fresh() -> _Conn:
    global _conn
    if _conn is not None:
        _conn.close()
        _conn = None
    _conn = _Conn()
    return _conn


def call(op: str, *args: str) -> Any:
    """Run `op` ("get_password", "set_password" or "delete_password", with keyring's arguments)
    on this process's connection. Raises Unavailable when there is no Secret Service to talk to,
    Locked when it stays locked; D-Bus and socket errors otherwise pass through."""
    import secretstorage

    fn = _OPS[op]
    with _lock:
        key = (os.getpid(), os.environ.get("DBUS_SESSION_BUS_ADDRESS", ""))
        kept = _conn is not None and _conn.key == key
        conn = _conn if kept and _conn is not None else _fresh()
        try:
            return fn(conn, *args)
        except (Locked, secretstorage.exceptions.LockedException):
            raise
        except Exception:
            if not kept:
                _drop()
                raise
        # the kept connection or session went stale (daemon or bus restarted): once afresh
        try:
            return fn(_fresh(), *args)
        except (Locked, secretstorage.exceptions.LockedException):
            raise
        except Exception:
            _drop()
            raise


def _drop() -> None:
    global _conn
    if _conn is not None:
        _conn.close()
        _conn = None


def available() -> bool:
    """Whether a Secret Service answers on this session bus (opens the process's connection)."""
    with _lock:
        key = (os.getpid(), os.environ.get("DBUS_SESSION_BUS_ADDRESS", ""))
        if _conn is not None and _conn.key == key:
            return True
        try:
            _fresh()
        except Exception:
            _drop()
            return False
        return True


def close() -> None:
    """Close this process's connection (tests; a process that exits needs not)."""
    with _lock:
        _drop()
