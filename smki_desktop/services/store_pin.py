"""This workstation's pin of the team store it uses (core/team_pin.py), kept in its OS keyring
under `team-store-pin:<installation>`: checked before each audit record (the store's identity)
and at each verification (identity and the newest row seen), moved on when the log verifies.
Each read of vouched records (`AuditLog.vouched_or_cut`) also checks that the last record of
every other writer this workstation read before is still there as it was (`cut`), and
remembers the newer ones it reads now (`saw`): another workstation's newest records deleted
after this one read them are a cut log here too.

Only for a team store; a workstation's own SQLite database is watched by the folder mark.
"""

from __future__ import annotations

from smki_desktop.core.audit import StoredRow, VerifyReport
from smki_desktop.core.ports import Clock
from smki_desktop.core.team_pin import (
    StorePin,
    acknowledge,
    head_text,
    heads_gone,
    observe_identity,
    observe_rows,
    pin_findings,
    see_heads,
)
from smki_desktop.keystores.secrets import OsSecrets
from smki_desktop.store.db import Database
from smki_desktop.store.repos import team as team_repo
from smki_desktop.store.repos.audit import AuditRepo


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
        """At a verification (call it last): the identity, the newest row seen and each
        writer's last record read, checked and reported; the pin moves to the log's last row
        (and each writer's last record) when nothing is wrong."""
        pin, changed = self._current(team_repo.store_id(self.db))
        changed = observe_rows(pin, rows, self._now()) or changed
        if pin.heads:
            names = {x.writer_id: x.installation_id for x in AuditRepo(self.db).writers()}
            changed = bool(heads_gone(pin, {r.seq: r.hash for r in rows},
                                      rows[-1].seq if rows else 0, names, self._now())
                           ) or changed
        pin_findings(report, pin)
        if report.ok and rows and (rows[-1].seq, rows[-1].hash) != (pin.seq, pin.hash):
            pin.seq, pin.hash, pin.seen_at = rows[-1].seq, rows[-1].hash, self._now()
            changed = True
        if report.ok:
            changed = see_heads(pin, rows) or changed
        if changed:
            self._save(pin)

    def cut(self, repo: AuditRepo) -> str | None:
        """Before records are vouched for: why this workstation's pin says the log was cut,
        else None. A loss it recorded and no officer acknowledged (the store replaced, rolled
        back, another workstation's records deleted after it read them), or a writer's last
        record it read no longer in the log as it was (recorded now, so that records written
        since do not heal it). One keyring read and, when heads are pinned, one query."""
        pin = self.load()
        if pin is None:
            return None
        self._pin = pin
        found = repo.hashes_at([s for s, _h in pin.heads.values()]) if pin.heads else {}
        if not pin.breaks and any(found.get(s) != h for s, h in pin.heads.values()):
            # a head gone: what to name (the log's end, the writers' installations)
            last = repo.last()
            names = {x.writer_id: x.installation_id for x in repo.writers()}
            heads_gone(pin, found, last.seq if last else 0, names, self._now())
            self._save(pin)
        if pin.breaks:
            b = pin.breaks[0]
            if b.get("writer"):
                return (f"{head_text(b)} is no longer in it: the log ends at row "
                        f"{b.get('found_seq')} (noticed {b.get('noticed')})")
            return (f"the OS keyring records that it was rolled back from row "
                    f"{b.get('head_seq')} to row {b.get('found_seq')} (noticed "
                    f"{b.get('noticed')})")
        if pin.lost:
            return (f"the OS keyring records that the team store "
                    f"{str(pin.lost[0].get('store_id'))[:16]} this workstation used was "
                    "replaced or emptied")
        return None

    def saw(self, rows: list[StoredRow]) -> None:
        """Remember `rows` (records the log proves, of other writers) as read: a keyring
        write only when one is newer than the last of its writer the pin knows."""
        if not rows or (self._pin is not None and not see_heads(
                StorePin("", "", heads=dict(self._pin.heads)), rows)):
            return  # nothing newer than this process knows: no keyring round-trip
        # read again before writing: another process may have recorded a loss meanwhile
        pin = self.load() or self._current(team_repo.store_id(self.db))[0]
        if not pin.breaks and see_heads(pin, rows):
            self._save(pin)

    def acknowledge(self, reason: str, by_seq: int) -> None:
        pin = self.load()
        if pin is not None and acknowledge(pin, reason, by_seq):
            self._save(pin)
