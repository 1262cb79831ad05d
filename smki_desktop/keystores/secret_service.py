"""keyring's Secret Service backend over one D-Bus connection per process.

keyring's own backend opens a new D-Bus connection for every call and closes it at once. Each
of those connect-call-disconnect cycles is a new client to gnome-keyring, and gnome-keyring
(42.1 in Debian 12, still in 50.0) has a race on a client that goes away: it aborts the whole
daemon ("gkd_secret_service_get_pkcs11_session: assertion 'client' failed", then GLib's
"invoke_get_property_in_idle_cb: assertion failed"). We reproduced it here with three processes
writing and reading twenty secrets each: the daemon died within a few hundred cycles, and
D-Bus started a new one *locked*, so the officer's next action met a locked keyring. The same
abort is reported against other programs that make many short connections (e.g.
basecamp/hey-cli#352, jkoestinger/omarchy-vpn#42).

This backend keeps one connection for the life of the process: the calls are the same D-Bus
methods keyring makes (same collection, same attributes, same unlock prompts), only the
connection is not closed after each. A jeepney blocking connection is not thread-safe: every
function here is called under `keystores.secrets`' process-wide lock. A connection that failed is
dropped and the next call opens a new one.
"""

from __future__ import annotations

import os
from typing import Any

import secretstorage
import secretstorage.exceptions
from keyring.backends import SecretService

_shared: Any = None  # the process's jeepney DBusConnection, opened on first use
_shared_address: str | None = None  # the session bus address it was opened for


class _KeptOpen:
    """The shared connection as keyring sees it: its `close()` (keyring closes the connection
    after every call) does nothing; everything else goes to the real connection."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection

    def close(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


def connection() -> Any:
    """The process's connection to the session bus, opened on first use (and again if the
    session bus address changed, as when a ceremony shell starts its own session)."""
    global _shared, _shared_address
    address = os.environ.get("DBUS_SESSION_BUS_ADDRESS")
    if _shared is not None and address != _shared_address:
        drop_connection()
    if _shared is None:
        _shared = secretstorage.dbus_init()
        _shared_address = address
    return _KeptOpen(_shared)


def drop_connection() -> None:
    """Forget a connection that failed (bus gone, socket closed): the next call opens a new one."""
    global _shared
    old, _shared = _shared, None
    if old is not None:
        try:
            old.close()
        except Exception:  # a broken socket may refuse even to close; it is dropped either way
            pass


def service_available() -> bool:
    """Is a Secret Service running or activatable on the session bus? (keyring's own priority
    check, asked over the shared connection instead of a connection of its own.)"""
    try:
        return bool(secretstorage.check_service_availability(connection()))
    except (secretstorage.exceptions.SecretStorageException, OSError):
        drop_connection()
        return False


class OneConnectionSecretService(SecretService.Keyring):  # type: ignore[misc]
    """keyring's Secret Service backend, its collection reached over the shared connection."""

    def get_preferred_collection(self) -> Any:
        bus = connection()
        try:
            if hasattr(self, "preferred_collection"):
                collection = secretstorage.Collection(bus, self.preferred_collection)
            else:
                collection = secretstorage.get_default_collection(bus)
        except secretstorage.exceptions.SecretStorageException as e:
            raise SecretService.InitError(f"Failed to create the collection: {e}.") from e
        if collection.is_locked():
            collection.unlock()
            if collection.is_locked():  # the user dismissed the prompt
                raise SecretService.KeyringLocked("Failed to unlock the collection!")
        return collection
