"""A thin, strict wrapper over the OS keyring for one environment's namespace.

Where the `keyring` library would use its Secret Service backend (Linux, no backend named by the
user in PYTHON_KEYRING_BACKEND or keyring's config file, none set in this process), the Secret
Service is spoken to directly (`keystores.secret_service`: the same items, one D-Bus connection
per process, no `keyring` import); otherwise through `keyring`. Either way the failures map to
our three errors, and insecure backends (plain-text files, the 'fail' and 'null' backends) are
refused: a secret is stored in a real OS keyring or not at all.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from smki_desktop.core.environment import Environment
from smki_desktop.keystores import secret_service
from smki_desktop.keystores.errors import KeyEntryMissing, KeyringLocked, KeyringUnavailable

_REFUSED_MODULE_PREFIXES = ("keyrings.alt", "keyring.backends.fail", "keyring.backends.null")


def _keyring() -> Any:
    # Imported on first use: `keyring` pulls in a lot (~0.3 s) that start-up does not need.
    import keyring
    import keyring.errors

    return keyring


def _backend() -> Any:
    """The keyring backend this process uses.

    keyring's own detection imports every installed backend, and on Linux its macOS backend
    runs gcc, ld and ldconfig (ctypes.util.find_library) for three frameworks: 0.3-1 s of every
    `smki` command that reads a secret. So on Linux, unless the user named a backend
    (PYTHON_KEYRING_BACKEND, keyring's config file) or one was set in this process, the Secret
    Service backend (what the detection picks on a Linux desktop) is tried first with keyring's
    own availability check; only when that fails does keyring's detection run, so the
    unavailable and insecure-backend refusals below still see what keyring would have used."""
    keyring = _keyring()
    core = keyring.core
    if core._keyring_backend is not None:  # set by keyring.set_keyring / init_backend
        return core._keyring_backend
    if (sys.platform.startswith("linux") and not os.environ.get("PYTHON_KEYRING_BACKEND")
            and not core._config_path().exists()):
        from keyring.backends import SecretService

        try:
            SecretService.Keyring.priority  # noqa: B018 -- opens D-Bus, asks for the service
        except Exception:  # any failure: keyring's detection decides
            return keyring.get_keyring()
        core.set_keyring(SecretService.Keyring())
    return keyring.get_keyring()


def _keyring_config() -> Path:
    """keyring's config file (keyring.util.platform_.config_root on Linux), where a user may
    name a backend."""
    root = os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config"
    return Path(root, "python_keyring", "keyringrc.cfg")


def _direct() -> bool:
    """Whether to speak to the Secret Service directly: only where `keyring` would pick its
    Secret Service backend too, and only when one answers (else keyring's detection decides,
    and its refusals and messages stay as they were)."""
    if not sys.platform.startswith("linux") or os.environ.get("PYTHON_KEYRING_BACKEND"):
        return False
    core = sys.modules.get("keyring.core")
    chosen = getattr(core, "_keyring_backend", None) if core is not None else None
    if chosen is not None and type(chosen).__module__ != "keyring.backends.SecretService":
        return False  # a backend set in this process (keyring.set_keyring) wins
    if _keyring_config().exists():
        return False
    return secret_service.available()


def _call_direct(service: str, fn_name: str, *args: str) -> Any:
    import secretstorage

    try:
        return secret_service.call(fn_name, service, *args)
    except (secret_service.Locked, secretstorage.exceptions.LockedException) as exc:
        raise KeyringLocked(service) from exc
    except secret_service.Unavailable as exc:
        raise KeyringUnavailable(str(exc)) from exc
    except OSError as exc:
        raise KeyringUnavailable(
            f"the Secret Service cannot be reached over D-Bus ({exc.strerror or exc})"
        ) from exc
    except Exception as exc:  # D-Bus errors come as SecretStorage's and jeepney's types
        if not type(exc).__module__.startswith(("secretstorage", "jeepney")):
            raise
        text = str(exc)
        if "lock" in text.lower() or "prompt" in text.lower():
            raise KeyringLocked(service) from exc
        raise KeyringUnavailable(f"{type(exc).__name__}: {text}") from exc


def _check_backend() -> Any:
    kr = _backend()
    mod = type(kr).__module__
    if mod.startswith("keyring.backends.fail"):
        raise KeyringUnavailable("no Secret Service is running in this session")
    if mod.startswith(_REFUSED_MODULE_PREFIXES):
        raise KeyringUnavailable(f"the only keyring backend found is {mod}.{type(kr).__name__}, "
                                 "which does not keep secrets safe")
    backends = getattr(kr, "backends", None)
    if backends is not None and not [
        b for b in backends if not type(b).__module__.startswith(_REFUSED_MODULE_PREFIXES)
    ]:
        raise KeyringUnavailable("no secure keyring backend was found")
    return kr


class OsSecrets:
    """Secrets of one environment, under the service name `smki-desktop/<env>`."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.service = environment.keyring_service

    def _call(self, fn_name: str, *args: str) -> Any:
        if _direct():
            return _call_direct(self.service, fn_name, *args)
        keyring = _keyring()
        fn = getattr(_check_backend(), fn_name)
        try:
            return fn(self.service, *args)
        except keyring.errors.KeyringLocked as exc:
            raise KeyringLocked(self.service) from exc
        except keyring.errors.NoKeyringError as exc:
            raise KeyringUnavailable(str(exc) or "no backend") from exc
        except keyring.errors.InitError as exc:
            # A Secret Service that is present but refuses to open the collection (the unlock
            # prompt was dismissed or cannot be shown) is a locked keyring to the user.
            raise KeyringLocked(self.service) from exc
        except keyring.errors.KeyringError as exc:
            text = str(exc)
            if "lock" in text.lower() or "prompt" in text.lower():
                raise KeyringLocked(self.service) from exc
            raise KeyringUnavailable(text or type(exc).__name__) from exc
        except OSError as exc:
            # the session bus went away under a running app (keyring daemon or D-Bus gone):
            # jeepney's socket raises a plain FileNotFoundError / ConnectionRefusedError
            raise KeyringUnavailable(
                f"the Secret Service cannot be reached over D-Bus ({exc.strerror or exc})"
            ) from exc
        except Exception as exc:  # D-Bus transport errors surface as assorted types
            if type(exc).__module__.startswith(("secretstorage", "jeepney", "dbus")):
                text = str(exc)
                if "lock" in text.lower() or "prompt" in text.lower():
                    raise KeyringLocked(self.service) from exc
                raise KeyringUnavailable(f"{type(exc).__name__}: {text}") from exc
            raise

    def get(self, name: str, what: str | None = None) -> str:
        value = self._call("get_password", name)
        if value is None:
            raise KeyEntryMissing(what or name, self.service)
        return str(value)

    def get_optional(self, name: str) -> str | None:
        value = self._call("get_password", name)
        return None if value is None else str(value)

    def set(self, name: str, value: str) -> None:
        self._call("set_password", name, value)

    def delete(self, name: str) -> None:
        if _direct():
            _call_direct(self.service, "delete_password", name)  # none there: nothing to do
            return
        keyring = _keyring()
        if self.get_optional(name) is None:
            return  # nothing to delete (the backend's "not found" reads as a failure)
        try:
            self._call("delete_password", name)
        except keyring.errors.PasswordDeleteError:
            pass
