"""This workstation's pin of the team store it uses (core/team_pin.py), kept in its OS keyring
under `team-store-pin:<installation>`: checked before each audit record (the store's identity)
and at each verification (identity and the newest row seen), moved on when the log verifies.

Only for a team store; a workstation's own SQLite database is watched by the folder mark.
"""

from __future__ import annotations

from smki_desktop.core.audit import StoredRow, VerifyReport
from smki_desktop.core.ports import Clock
from smki_desktop.core.team_pin import (
    StorePin,
    acknowledge,
    observe_identity,
    observe_rows,
    pin_findings,
)
from smki_desktop.keystores.secrets import OsSecrets
from smki_desktop.store.db import Database
from smki_desktop.store.repos import team as team_repo


class StorePins:
    def __init__(self, db: Database, secrets: OsSecrets, installation_id: str, clock: Clock,
                 where: str) -> None:
        self.entry = f"team-store-pin:{installation_id}"
        self.db = db
        self.secrets = secrets
        self.installation_id = installation_id
        self.clock = clock
        self.where = where
        self._pin: StorePin | None = None  # as last read or written by this process

    def load(self) -> StorePin | None:
        text = self.secrets.get_optional(self.entry)
        return StorePin.from_text(text) if text else None

    def _save(self, pin: StorePin) -> None:
        self.secrets.set(self.entry, pin.to_text())
        self._pin = pin

    def _now(self) -> str:
        return self.clock.now().isoformat(timespec="seconds")

    def _current(self, store_id: str) -> tuple[StorePin, bool]:
        """The pin as the keyring holds it, its identity checked against `store_id`; made on
        first use. Also whether it changed (to be saved)."""
        pin = self.load()
        if pin is None:
            return StorePin(self.installation_id, store_id, seen_at=self._now()), True
        return pin, observe_identity(pin, store_id, self.where, self._now())

    def on_write(self) -> None:
        """Before an audit record: is this still the store this workstation knew? (One
        settings read; the keyring is read again only when the identity differs from the one
        this process last saw.)"""
        store_id = team_repo.store_id(self.db)
        if self._pin is not None and self._pin.store_id == store_id:
            return
        pin, changed = self._current(store_id)
        if changed:
            self._save(pin)
        else:
            self._pin = pin

    def on_verify(self, rows: list[StoredRow], report: VerifyReport) -> None:
        """At a verification (call it last): the identity and the newest row seen, checked
        and reported; the pin moves to the log's last row when nothing is wrong."""
        pin, changed = self._current(team_repo.store_id(self.db))
        changed = observe_rows(pin, rows, self._now()) or changed
        pin_findings(report, pin)
        if report.ok and rows and (rows[-1].seq, rows[-1].hash) != (pin.seq, pin.hash):
            pin.seq, pin.hash, pin.seen_at = rows[-1].seq, rows[-1].hash, self._now()
            changed = True
        if changed:
            self._save(pin)

    def acknowledge(self, reason: str, by_seq: int) -> None:
        pin = self.load()
        if pin is not None and acknowledge(pin, reason, by_seq):
            self._save(pin)
