"""The application context: one environment's paths, database, key store, clock and audit log.

Both faces (GUI, CLI) open one with `open_context(env, data_root)`; every service takes it.
"""

from __future__ import annotations

import functools
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import Refusal, SmkiError
from smki_desktop.core.party import OfficerProfile, PartyProfile
from smki_desktop.core.ports import Clock, PassphraseProvider, SystemClock
from smki_desktop.keystores.errors import KeyringLocked, KeyringUnavailable
from smki_desktop.keystores.os_keyring import OsKeyringKeyStore
from smki_desktop.keystores.secrets import OsSecrets
from smki_desktop.services.data_root import APP_NAME as APP_NAME  # re-exported: its old home
from smki_desktop.services.data_root import default_data_root as default_data_root
from smki_desktop.store import team_link
from smki_desktop.store.db import Database, StoreError
from smki_desktop.store.repos import settings as settings_repo
from smki_desktop.store.team_link import TeamLink

if TYPE_CHECKING:
    from smki_desktop.services.audit import AuditLog


@dataclass(frozen=True)
class EnvPaths:
    root: Path
    env_dir: Path

    @property
    def db_path(self) -> Path:
        return self.env_dir / "smki.sqlite3"

    @property
    def keys_dir(self) -> Path:
        return self.env_dir / "keys"

    @property
    def exports_dir(self) -> Path:
        return self.env_dir / "exports"

    def feature_dir(self, name: str) -> Path:
        d = self.env_dir / name
        d.mkdir(parents=True, exist_ok=True)
        return d

    @classmethod
    def for_env(cls, root: Path, env: Environment) -> EnvPaths:
        return cls(root=root, env_dir=root / env.value)


UNKNOWN_ACTOR = "unknown officer (no profile set)"


def audit_folder(paths: EnvPaths, team: bool) -> Path:
    """The folder the keyring's audit mark is kept for: the data folder for the workstation's
    own log; for the team log, a name of its own under it, so that linking the folder to a
    team store does not make its own log (still in its database) look replaced."""
    return paths.env_dir / "team-store" if team else paths.env_dir


class NoPassphrases:
    """The default when no face can ask: refuse rather than guess."""

    def ask(self, prompt: str, *, confirm: bool = False) -> str:
        raise Refusal(f"{prompt}: no way to ask for it here (no terminal or window).")


def release_thread_connections() -> int:
    """A background job has ended on a thread that lives on (a thread pool's): the team store
    connections it took go back to their pools, so jobs never hold more than the pool has.
    The faces' job runners call this; they never reach the store themselves."""
    return team_link.release_thread_connections()


class AppContext:
    def __init__(self, env: Environment, data_root: Path, clock: Clock,
                 passphrases: PassphraseProvider) -> None:
        self.env = env
        self.paths = EnvPaths.for_env(data_root, env)
        self._prepare_dirs()
        self.clock = clock
        self.passphrases = passphrases
        self.team: TeamLink | None = team_link.load(self.paths.env_dir)
        self._local_db: Database | None = None  # this workstation's own, when linked
        self._adopted = False  # the officer profile taken from the shared store (once)
        self.db = self._open_store()
        self._stamp_environment()
        self.keystore = OsKeyringKeyStore(env, self.paths.keys_dir, self.db, clock)
        self.installation_id = self._installation_id()
        self._sweep_key_files()

    @functools.cached_property
    def audit(self) -> AuditLog:
        """This environment's audit log, made when first used: a start that writes no record
        (the main window opening on the Dashboard) does not load its modules."""
        from smki_desktop.services.audit import AuditLog

        return AuditLog(self.db, self.keystore.secrets, self.env, self.clock, self._actor,
                        self.installation_id, audit_folder(self.paths, self.team is not None),
                        self.store_name)

    @property
    def store_name(self) -> str:
        """Where this context's data lives, for messages."""
        if self.team is not None:
            return f"team store {self.team.address.display}"
        return f"database {self.paths.db_path}"

    def _open_store(self) -> Database:
        """This workstation's SQLite database, or the team store it is linked to (which must
        have been initialised for this environment; pending migrations are applied)."""
        if self.team is None:
            return Database(self.paths.db_path)
        link = self.team
        store = team_link.open_store(link, self._team_password(link), self.paths.env_dir,
                                     migrate=False)
        try:
            stamped = settings_repo.get(team_link.as_database(store), "environment")
        except StoreError as exc:
            if "no such table" not in str(exc):
                store.close()
                raise
            stamped = None
        if stamped is None:
            store.close()
            raise Refusal(f"The team store {link.address.display} is not initialised: "
                          f"initialise it for the {self.env.value} environment first, or "
                          "disconnect this workstation from it. Nothing was opened.")
        store.migrate()
        return team_link.as_database(store)

    def _team_password(self, link: TeamLink) -> str | None:
        """The store's password from the keyring. Without a keyring a store on this machine's
        own socket is still opened (its server trusts the socket, or says it wants the
        password), so that what needs no secret works and the keyring is named where it is
        needed; a store over the network needs the keyring first."""
        try:
            return OsSecrets(self.env).get_optional(link.secret_name)
        except KeyringUnavailable:
            if link.address.local_socket:
                return None
            raise

    def _sweep_key_files(self) -> None:
        """Key files a killed process left half-stored are completed or removed, audited."""
        why = {
            "completed": "a process was stopped while storing this key: its record existed, "
                         "the file was put in place",
            "removed": "a process was stopped while storing this key: it was never recorded, "
                       "the file and its keyring entry were removed",
            "discarded": "a pending key file this installation was not storing (planted or "
                         "copied into the data folder) was removed; the keyring and any key "
                         "file in place were left alone",
        }
        for key_id, outcome in self.keystore.sweep_pending():
            self.audit.record("key.store.recover", {"key_id": key_id, "outcome": outcome,
                                                    "why": why.get(outcome, outcome)})

    def _prepare_dirs(self) -> None:
        self.paths.env_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.paths.env_dir, 0o700)
        self.paths.keys_dir.mkdir(exist_ok=True)
        os.chmod(self.paths.keys_dir, 0o700)
        marker = self.paths.env_dir / "ENVIRONMENT"
        if marker.exists():
            found = marker.read_text().strip()
            if found != self.env.value:
                raise Refusal(
                    f"The data folder {self.paths.env_dir} belongs to the {found} environment, "
                    f"not {self.env.value}: it was moved or copied. Nothing was opened."
                )
        else:
            marker.write_text(self.env.value + "\n")

    def _stamp_environment(self) -> None:
        found = settings_repo.put_first(self.db, "environment", self.env.value)
        if found != self.env.value:
            raise Refusal(
                f"The {self.store_name} belongs to the {found} environment, "
                f"not {self.env.value}. Nothing was opened."
            )

    def _installation_id(self) -> str:
        if self.team is not None:  # the store is shared: each workstation has its own id
            return self.team.installation_id
        held = settings_repo.get(self.db, "installation_id")
        if held:
            return held
        new = secrets.token_hex(16)  # 128 random bits, as uuid4 gave (uuid costs each start)
        return settings_repo.put_first(self.db, "installation_id", new)

    def _actor(self) -> str:
        officer = self.officer()
        return officer.actor if officer else UNKNOWN_ACTOR

    def local_db(self, create: bool = False) -> Database | None:
        """This workstation's own SQLite database: the store itself when not linked to a team
        store; when linked, what stays on this workstation (who the officer at it is: the
        officer profile and its link to the register). None when linked and there is none
        yet (made with `create`)."""
        if self.team is None:
            return self.db
        if self._local_db is None and (create or self.paths.db_path.is_file()):
            self._local_db = Database(self.paths.db_path)
        return self._local_db

    def officer(self) -> OfficerProfile | None:
        """Who the officer at this workstation is: the profile in this workstation's own
        database, never the shared store (each workstation of a team has its own)."""
        local = self.local_db()
        data = settings_repo.profile(local, "officer") if local is not None else None
        if data is None and self.team is not None and not self._adopted:
            data = self._adopt_officer_profile()
        return OfficerProfile.from_dict(data) if data is not None else None

    def _adopt_officer_profile(self) -> dict[str, Any] | None:
        """Before the profile stayed local, a team workstation kept it in the shared store,
        where the last one set overwrote the others': this workstation's own last
        `profile.set` record (signed with its key) says which was its own. Taken once into
        its own database."""
        try:
            data = self.audit.own_last_details("profile.set").get("profile")
        except (KeyringUnavailable, KeyringLocked):
            # which record is this workstation's own is known only with its key: without the
            # keyring there is no profile yet (looked for again once the keyring is back)
            return None
        self._adopted = True
        if not isinstance(data, dict):
            return None
        try:
            OfficerProfile.from_dict(data)
        except (KeyError, ValueError, SmkiError):
            return None
        local = self.local_db(create=True)
        assert local is not None
        settings_repo.save_profile(local, "officer", self.env.value, data,
                                   self.clock.now().isoformat())
        return data

    def party(self) -> PartyProfile | None:
        data = settings_repo.profile(self.db, "party")
        return PartyProfile.from_dict(data) if data is not None else None

    def setting(self, name: str, default: str | None = None) -> str | None:
        value = settings_repo.get(self.db, name)
        return value if value is not None else default

    def set_setting(self, name: str, value: str) -> None:
        settings_repo.put(self.db, name, value)

    def close(self) -> None:
        if self._local_db is not None:
            self._local_db.close()
        self.db.close()


def open_context(env: Environment, data_root: Path | None = None, *, clock: Clock | None = None,
                 passphrases: PassphraseProvider | None = None) -> AppContext:
    return AppContext(env, Path(data_root) if data_root else default_data_root(),
                      clock or SystemClock(), passphrases or NoPassphrases())
