"""What a workstation remembers, in its own OS keyring, about the team store it uses: the store's
identity (a random id written at `smki team init`) and the newest audit row it has seen (sequence
and hash). A team store is not a file in the data folder, so the folder mark that catches a
SQLite database deleted, emptied or replaced cannot see it; this pin does.

Threat: someone with the database's rights (not a workstation's keyring) wipes the store and
initialises it again, truncates it, restores another store's dump over it, or rolls it back to an
older dump of itself. Every workstation that used or checked the store then finds another
identity, or no longer finds the row it saw as it was; the finding is remembered in its pin,
so the store moving on (new records) does not heal it. An officer may acknowledge a deliberate
loss (a backup restored) in a signed record, as for a SQLite database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from smki_desktop.core.audit import GENESIS, StoredRow, VerifyReport


@dataclass
class StorePin:
    installation: str   # this workstation's id in the team (whose keyring holds the pin)
    store_id: str       # the team store's identity when last seen
    seq: int = 0        # the newest audit row seen in a log that verified (0: none yet)
    hash: str = GENESIS
    seen_at: str = ""
    # Earlier stores that disappeared (`lost`), rollbacks seen (`breaks`), and the ones an
    # officer acknowledged with a reason.
    lost: list[dict[str, Any]] = field(default_factory=list)
    breaks: list[dict[str, Any]] = field(default_factory=list)
    acknowledged: list[dict[str, Any]] = field(default_factory=list)
    # The last record of each OTHER writer this workstation has read (writer id -> seq, hash):
    # its own records are guarded by its own keyring head; another workstation's newest ones
    # only by what each reader remembers. A pin written before these existed has none.
    heads: dict[str, tuple[int, str]] = field(default_factory=dict)

    def to_text(self) -> str:
        return json.dumps({
            "v": 1, "installation": self.installation, "store_id": self.store_id,
            "seq": self.seq, "hash": self.hash, "seen_at": self.seen_at, "lost": self.lost,
            "breaks": self.breaks, "acknowledged": self.acknowledged,
            "heads": {w: [s, h] for w, (s, h) in self.heads.items()}}, sort_keys=True)

    @classmethod
    def from_text(cls, text: str) -> StorePin:
        d = json.loads(text)
        heads = d.get("heads") if isinstance(d.get("heads"), dict) else {}
        return cls(str(d["installation"]), str(d["store_id"]), int(d.get("seq", 0)),
                   str(d.get("hash", GENESIS)), str(d.get("seen_at", "")),
                   list(d.get("lost") or []), list(d.get("breaks") or []),
                   list(d.get("acknowledged") or []),
                   {str(w): (int(v[0]), str(v[1])) for w, v in heads.items()})

    @property
    def unacknowledged(self) -> bool:
        return bool(self.lost or self.breaks)


def observe_identity(pin: StorePin, store_id: str, where: str, noticed: str) -> bool:
    """The store now carries `store_id`: if the pin knew another, remember that store as lost
    and pin the new one from its start. True if the pin changed."""
    if pin.store_id == store_id:
        return False
    pin.lost.append({"store_id": pin.store_id, "seq": pin.seq, "hash": pin.hash,
                     "where": where, "found": store_id, "noticed": noticed})
    pin.store_id, pin.seq, pin.hash = store_id, 0, GENESIS
    return True


def observe_rows(pin: StorePin, rows: list[StoredRow], noticed: str) -> bool:
    """Is the audit row the pin saw still there as it was? If not (the store rolled back to
    an older copy, its log cut or rewritten), remember it and pin from the start again, so
    that the newer copy put back is seen too. True if the pin changed."""
    if pin.seq <= 0:
        return False
    at = next((r for r in rows if r.seq == pin.seq), None)
    if at is not None and at.hash == pin.hash:
        return False
    pin.breaks.append({"head_seq": pin.seq, "head_hash": pin.hash,
                       "found_seq": rows[-1].seq if rows else 0, "noticed": noticed})
    pin.seq, pin.hash = 0, GENESIS
    return True


def see_heads(pin: StorePin, rows: list[StoredRow]) -> bool:
    """Remember each row's writer as read up to it, when it is the newest of that writer
    the pin knows (`rows` are records the log proves, no link broken after them). True if the
    pin changed."""
    changed = False
    for r in rows:
        if r.writer and r.seq > pin.heads.get(r.writer, (0, ""))[0]:
            pin.heads[r.writer] = (r.seq, r.hash)
            changed = True
    return changed


def heads_gone(pin: StorePin, found: dict[int, str], end: int,
               installations: dict[str, str], noticed: str) -> list[dict[str, Any]]:
    """The remembered heads the log no longer holds as they were (`found`: seq -> hash of
    the rows at those sequence numbers now; `end`: the log's last row): each becomes a break
    naming its writer, the pin's heads start again (so that the newer copy put back is seen
    too) and the break stays until acknowledged. The breaks made (none: nothing changed)."""
    gone = [(w, s, h) for w, (s, h) in sorted(pin.heads.items(), key=lambda x: x[1][0])
            if found.get(s) != h]
    if not gone:
        return []
    made = [{"head_seq": s, "head_hash": h, "found_seq": end, "noticed": noticed,
             "writer": w, "installation": installations.get(w, "unknown")}
            for w, s, h in gone]
    pin.breaks += made
    pin.heads = {}
    return made


def head_text(b: dict[str, Any]) -> str:
    """A remembered head that was cut, as a sentence's part: its row and its writer."""
    return (f"row {b.get('head_seq')} (hash {str(b.get('head_hash'))[:16]}), the last record "
            f"of writer {str(b.get('writer'))[:16]} (installation {b.get('installation')}) "
            "this workstation had read")


def pin_findings(rep: VerifyReport, pin: StorePin) -> None:
    for x in pin.lost:
        seen = (f"audit log seen up to row {x.get('seq')}, head {str(x.get('hash'))[:16]}"
                if x.get("seq") else "its audit log written to")
        rep.problems.append(
            f"The OS keyring records that this workstation (installation {pin.installation}) "
            f"used the {x.get('where')} as store {str(x.get('store_id'))[:16]} ({seen}); that "
            f"store disappeared: it was deleted, emptied or replaced by another one (now "
            f"{str(x.get('found'))[:16]}, noticed {x.get('noticed')}), and its log with it. If "
            "that was deliberate, an officer can acknowledge the loss with a reason, in a "
            "signed record."
        )
    for b in pin.breaks:
        if b.get("writer"):
            rep.problems.append(
                f"The OS keyring records that on {b.get('noticed')} the team store's audit log "
                f"no longer held {head_text(b)}: it ended at row {b.get('found_seq')}, so "
                "that workstation's records from there on were deleted (or the store rolled "
                "back). If that was deliberate (a backup restored), an officer can "
                "acknowledge the loss with a reason, in a signed record.")
            continue
        rep.problems.append(
            f"The OS keyring records that this workstation saw the team store's audit log up to "
            f"row {b.get('head_seq')} (hash {str(b.get('head_hash'))[:16]}), but on "
            f"{b.get('noticed')} the store ended at row {b.get('found_seq')} without that row "
            "as it was: it had been rolled back to an older copy or its log rewritten, and "
            "records were lost. If that was deliberate (a backup restored), an officer can "
            "acknowledge the loss with a reason, in a signed record."
        )
    for a in pin.acknowledged:
        what = (f"team store {str(a.get('store_id'))[:16]} replaced" if "store_id" in a else
                f"log rolled back from row {a.get('head_seq')} to row {a.get('found_seq')}")
        rep.notes.append(f"The {what}; acknowledged in record {a.get('by_seq')}: "
                         f"{a.get('reason')}")


def acknowledge(pin: StorePin, reason: str, by_seq: int) -> list[dict[str, Any]]:
    """Move every remembered loss to the acknowledged ones; returns what was acknowledged."""
    done = pin.lost + pin.breaks
    pin.acknowledged += [{**x, "reason": reason, "by_seq": by_seq} for x in done]
    pin.lost, pin.breaks = [], []
    return done
