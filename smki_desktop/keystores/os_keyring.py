"""The default key store: each private key as encrypted PKCS#8 in the environment's data folder,
wrapped by a random 256-bit key kept in the OS keyring (`smki-desktop/<env>`).

Nothing in clear ever touches the disk. The keyring is slow (tens of ms a call), so a key is
unwrapped once per operation (`signer()`), never per item of a batch.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from smki_desktop.core.environment import Environment, require_same
from smki_desktop.core.errors import Ambiguous, InputError, NotFound
from smki_desktop.core.keys import (
    ARCHIVED_FLAG,
    KeyInfo,
    KeyLocation,
    KeyType,
    KeyUsage,
    key_id_for_spki,
)
from smki_desktop.core.ports import Clock, RowHook
from smki_desktop.keystores.errors import (
    KeyArchivedInStore,
    KeyFileProblem,
    KeyFileRefused,
    KeyringLocked,
    KeyringUnavailable,
)

if TYPE_CHECKING:
    from smki_desktop.crypto.memory_signer import MemorySigner, PrivateKey

# `cryptography` is imported inside the functions that use it: the GUI opens a context at
# start-up and should not pay for it before a key is used.
from smki_desktop.keystores.secrets import OsSecrets
from smki_desktop.store.atomic import write_atomic
from smki_desktop.store.db import Database
from smki_desktop.store.repos import keys as keys_repo
from smki_desktop.store.repos.keys import key_ids_elsewhere
from smki_desktop.store.repos.keys import key_info_from_row as key_info_from_row

_ALLOWED = {
    KeyType.EC_P256: {KeyUsage.SIGNING, KeyUsage.KEY_AGREEMENT, KeyUsage.FILE_SIGNING},
    KeyType.RSA_2048: {KeyUsage.CLIENT_AUTH, KeyUsage.FILE_SIGNING},
}


def spki_der(private_key: PrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def resolve_key_ref(db: Database, environment: Environment, key_ref: str,
                    location: KeyLocation | None = None) -> KeyInfo:
    """A full key id or a unique prefix of 8+ hex digits; refuses a key of the other
    environment, naming both."""
    ref = key_ref.strip().lower()
    if len(ref) < 8 or any(c not in "0123456789abcdef" for c in ref):
        raise InputError(
            f"Key id {key_ref!r}: give the key's id or a prefix of at least 8 hexadecimal digits."
        )
    found = keys_repo.find_prefix(db, ref, location)
    if not found:
        _refuse_other_environments_key(db, environment, ref)
        raise NotFound(f"No key with id {key_ref} in the {environment.label} environment.")
    if len(found) > 1:
        ids = ", ".join(k.key_id[:16] for k in found)
        raise Ambiguous(f"Key id prefix {key_ref} matches several keys: {ids}. Give more digits.")
    info = found[0]
    require_same(environment, info.environment, f"Key {info.short_id}")
    return info


def refuse_archived_key(info: KeyInfo) -> None:
    """An archived key signs nothing and authenticates nothing (the store's own guard; the
    services say when and why it was archived first, services/keys.refuse_archived)."""
    if ARCHIVED_FLAG in info.flags:
        raise KeyArchivedInStore(f"Key {info.short_id} ({info.label}) is archived: an archived "
                                 "key is used for no new work. Make a new key for new work.")


PENDING = ".pending-"
STORING = "key-storing:"  # keyring note: this key's file is not in place yet


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class OsKeyringKeyStore:
    location = KeyLocation.OS_KEYRING

    def __init__(self, environment: Environment, keys_dir: Path, db: Database,
                 clock: Clock) -> None:
        self.environment = environment
        self.keys_dir = keys_dir
        self.db = db
        self.clock = clock
        self.secrets = OsSecrets(environment)

    # -- creation --------------------------------------------------------------------------
    def generate(self, key_type: KeyType, usage: KeyUsage, label: str, *,
                 recorded: RowHook | None = None) -> KeyInfo:
        if usage not in _ALLOWED[key_type]:
            raise InputError(
                f"A {key_type.value} key cannot have the usage {usage.value}; "
                f"allowed: {', '.join(sorted(u.value for u in _ALLOWED[key_type]))}."
            )
        from cryptography.hazmat.primitives.asymmetric import ec, rsa

        private: PrivateKey
        if key_type is KeyType.EC_P256:
            private = ec.generate_private_key(ec.SECP256R1())
        else:
            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return self._store(private, key_type, usage, label, recorded)

    def import_private_key(self, pem_or_der: bytes, usage: KeyUsage, label: str,
                           password: bytes | None = None, *,
                           recorded: RowHook | None = None) -> KeyInfo:
        """Bring an existing key (a ceremony backup, or a published test key) under the store."""
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec, rsa

        try:
            if pem_or_der.lstrip().startswith(b"-----"):
                private = serialization.load_pem_private_key(pem_or_der, password)
            else:
                private = serialization.load_der_private_key(pem_or_der, password)
        except (ValueError, TypeError) as exc:
            raise InputError(f"Not a private key this store can import: {exc}") from exc
        if isinstance(private, ec.EllipticCurvePrivateKey) and isinstance(
            private.curve, ec.SECP256R1
        ):
            key_type = KeyType.EC_P256
        elif isinstance(private, rsa.RSAPrivateKey) and private.key_size == 2048:
            key_type = KeyType.RSA_2048
        else:
            raise InputError("Only EC P-256 and RSA-2048 private keys can be imported.")
        if usage not in _ALLOWED[key_type]:
            raise InputError(f"A {key_type.value} key cannot have the usage {usage.value}.")
        return self._store(private, key_type, usage, label, recorded)

    def _store(self, private: PrivateKey, key_type: KeyType, usage: KeyUsage,
               label: str, recorded: RowHook | None = None) -> KeyInfo:
        label = label.strip()
        if not label:
            raise InputError("Label: give the key a label (e.g. 'supplier DS 2026').")
        pub = spki_der(private)
        key_id = key_id_for_spki(pub)
        if keys_repo.exists(self.db, key_id):
            raise InputError(f"This key is already in the store as {key_id[:16]}.")
        from cryptography.hazmat.primitives import serialization

        wrap = secrets.token_hex(32)
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(wrap.encode()),
        )
        file_name = f"{key_id}.p8.pem"
        path = self.keys_dir / file_name
        # Written under a pending name that carries this process's id, and renamed only once
        # the database row is committed: a process killed in between leaves a pending file
        # that `sweep_pending` (on the next open) removes or completes, never an orphan.
        pending = self.keys_dir / f"{file_name}{PENDING}{os.getpid()}"
        # The keyring notes that this key is being stored, until its file is in place: only
        # then may a sweep remove its wrapping secret (a planted "pending" copy of a finished
        # key, of this or another data folder, must never make the app delete a secret).
        self.secrets.set(f"{STORING}{key_id}", "1")
        wrapped = False
        try:
            write_atomic(pending, pem, mode=0o600, overwrite=True)
            self.secrets.set(f"key:{key_id}", wrap)
            wrapped = True
            info = KeyInfo(
                key_id=key_id, label=label, key_type=key_type, usage=usage,
                environment=self.environment, created=self.clock.now(),
                location=KeyLocation.OS_KEYRING, public_key_der=pub, location_ref=file_name,
            )
            # the row and the caller's record commit together; the file follows the commit
            with recorded(info) if recorded is not None else nullcontext():
                keys_repo.add(self.db, info)
        except BaseException:
            # nothing was recorded: the key never existed for this store, so its file and
            # both keyring entries go (left, they were orphans no sweep finds: the sweep
            # looks for pending files, and this one is gone)
            pending.unlink(missing_ok=True)
            self._forget(key_id, wrapped)
            raise
        os.replace(pending, path)
        try:
            self.secrets.delete(f"{STORING}{key_id}")
        except (KeyringLocked, KeyringUnavailable):
            pass  # the key is stored; only the note stays behind (see sweep_pending)
        return info

    def _forget(self, key_id: str, wrapped: bool) -> None:
        """The keyring entries of a key whose storing failed: its wrapping secret (when this
        call wrote it) and its storing note. Best effort: the store's own error is the one
        reported; a keyring that refuses now leaves the note, which a later store of the
        same key overwrites."""
        names = ([f"key:{key_id}"] if wrapped else []) + [f"{STORING}{key_id}"]
        for name in names:
            with contextlib.suppress(Exception):  # the original failure is what is reported
                self.secrets.delete(name)

    def sweep_pending(self) -> list[tuple[str, str]]:
        """Key files left by a process that died while storing a key: completed when the
        database row was committed, else removed with their keyring entry (the key was never
        recorded, so nothing can have used it). Files of a running process are left alone.
        Returns (key id, 'completed' | 'removed') for each."""
        done: list[tuple[str, str]] = []
        try:
            names = [p for p in self.keys_dir.iterdir() if PENDING in p.name]
        except OSError:
            return done
        for p in names:
            final, _, pid_text = p.name.partition(PENDING)
            if p.name.startswith(".") and p.name.endswith(".part"):
                # write_atomic's temporary file, killed before it became the pending file
                pid_text = pid_text.split(".", 1)[0]
                if pid_text.isdigit() and not _pid_alive(int(pid_text)):
                    p.unlink(missing_ok=True)
                    done.append((final.lstrip(".").split(".", 1)[0], "removed"))
                continue
            if not pid_text.isdigit() or _pid_alive(int(pid_text)):
                continue
            key_id = final.split(".", 1)[0]
            recorded = keys_repo.exists(self.db, key_id, final)
            storing = self.secrets.get_optional(f"{STORING}{key_id}") is not None
            if not storing:
                # Not a key this user's keyring saw being stored: a planted or copied file.
                # The file goes; the keyring and any key file in place are left alone.
                p.unlink(missing_ok=True)
                done.append((key_id, "discarded"))
            elif recorded and not (self.keys_dir / final).exists():
                os.replace(p, self.keys_dir / final)
                self.secrets.delete(f"{STORING}{key_id}")
                done.append((key_id, "completed"))
            elif recorded:
                p.unlink(missing_ok=True)
                done.append((key_id, "discarded"))
            else:
                if self.secrets.get_optional(f"key:{key_id}") is not None:
                    self.secrets.delete(f"key:{key_id}")
                self.secrets.delete(f"{STORING}{key_id}")
                p.unlink(missing_ok=True)
                done.append((key_id, "removed"))
        return done

    # -- lookup ----------------------------------------------------------------------------
    def list_keys(self) -> list[KeyInfo]:
        return keys_repo.for_environment(self.db, self.environment.value, self.location)

    def get(self, key_ref: str) -> KeyInfo:
        return resolve_key_ref(self.db, self.environment, key_ref, self.location)

    # -- use -------------------------------------------------------------------------------
    def _wrapping_key(self, info: KeyInfo) -> str:
        return self.secrets.get(f"key:{info.key_id}", f"key {info.short_id} ({info.label})")

    def key_file(self, info: KeyInfo) -> Path:
        """The encrypted file of `info`: always `<key id>.p8.pem` in this environment's keys
        folder, derived from the key id. The store's `location_ref` column (which anyone who
        can write the store, a shared team store included, can edit) must name exactly that
        file, and the file must not be a link out of the folder; anything else is refused
        naming the key and the value, before the file or keyring entry is read or removed
        (an edited row made a delete of one key unlink another key's file, or any file)."""
        name = f"{info.key_id}.p8.pem"
        who = f"Key {info.key_id[:16]} ({info.label})"
        if len(info.key_id) != 64 or any(c not in "0123456789abcdef" for c in info.key_id):
            raise KeyFileRefused(f"{who}: its record's key id {info.key_id!r} is not a key id; "
                                 "the store was changed without SMKI Desktop. Nothing was "
                                 "read or removed.")
        if info.location_ref != name:
            raise KeyFileRefused(
                f"{who}: its record names the key file {info.location_ref!r}, not {name!r} in "
                f"the {self.environment.label} environment's keys folder; the store was "
                "changed without SMKI Desktop. Refused: nothing was read or removed.")
        path = self.keys_dir / name
        if path.is_symlink() or (path.exists()
                                 and path.resolve().parent != self.keys_dir.resolve()):
            raise KeyFileRefused(
                f"{who}: its key file {path} is a link (to {path.resolve()}), not a file of "
                f"the {self.environment.label} environment's keys folder. Refused: nothing "
                "was read or removed.")
        return path

    def _load(self, info: KeyInfo) -> PrivateKey:
        from cryptography.hazmat.primitives import serialization

        path = self.key_file(info)
        wrap = self._wrapping_key(info)
        try:
            pem = path.read_bytes()
        except OSError as exc:
            raise KeyFileProblem(
                f"The encrypted key file for key {info.short_id} ({info.label}) cannot be read: "
                f"{path}: {exc.strerror or exc}."
            ) from exc
        try:
            private = serialization.load_pem_private_key(pem, wrap.encode())
        except (ValueError, TypeError) as exc:
            raise KeyFileProblem(
                f"The key file {path} does not open with its keyring entry: the file or the "
                "entry was replaced."
            ) from exc
        if key_id_for_spki(spki_der(private)) != info.key_id:  # type: ignore[arg-type]
            raise KeyFileProblem(f"The key file {path} holds a different key than its record.")
        return private  # type: ignore[return-value]

    @contextmanager
    def signer(self, key_id: str) -> Iterator[MemorySigner]:
        from smki_desktop.crypto.memory_signer import MemorySigner

        info = self.get(key_id)
        refuse_archived_key(info)
        private = self._load(info)
        try:
            yield MemorySigner(private, info=info)
        finally:
            del private
        keys_repo.touch(self.db, info.key_id, self.clock.now().isoformat())

    def export_private_key(self, key_id: str) -> bytes:
        """The key's PKCS#8 DER, in clear, for a backup that encrypts it at once (never
        written anywhere as it is)."""
        from cryptography.hazmat.primitives import serialization

        info = self.get(key_id)
        private = self._load(info)
        return private.private_bytes(serialization.Encoding.DER,
                                     serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption())

    def tls_material(self, key_id: str) -> tuple[Path, str]:
        """For mutual TLS: the encrypted PKCS#8 PEM file and its password, as
        `ssl.SSLContext.load_cert_chain(certfile, keyfile, password)` takes them."""
        info = self.get(key_id)
        refuse_archived_key(info)
        return self.key_file(info), self._wrapping_key(info)

    def delete(self, key_id: str) -> None:
        info = self.get(key_id)
        path = self.key_file(info)  # refused before anything is removed
        self.secrets.delete(f"key:{info.key_id}")
        path.unlink(missing_ok=True)
        keys_repo.delete(self.db, info.key_id)


def _refuse_other_environments_key(db: Database, environment: Environment, ref: str) -> None:
    """A key id that only the other environment holds (its database sits beside this one,
    ROOT/<env>/smki.sqlite3) is refused naming both environments, not reported missing."""
    other = Environment.LIVE if environment is Environment.TEST else Environment.TEST
    there = db.path.parent.parent / other.value / db.path.name
    if key_ids_elsewhere(there, ref):
        require_same(environment, other, f"Key {ref[:16]}")
