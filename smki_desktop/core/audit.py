"""The audit chain, pure: canonical record content, hash linking, and verification findings.

Each record's hash is SHA-256 over the previous record's hash and the record's canonical JSON;
the head of the chain (last sequence number and hash) is kept outside the database (the OS
keyring), so that an edited row, a chain recomputed after an edit, and deleted last rows are all
detected.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

GENESIS = "0" * 64


@dataclass(frozen=True)
class AuditEntry:
    seq: int
    ts: str
    environment: str
    actor: str
    action: str
    details: dict[str, Any]
    artifacts: dict[str, str]
    prev_hash: str
    hash: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq, "ts": self.ts, "environment": self.environment,
            "actor": self.actor, "action": self.action, "details": self.details,
            "artifacts": self.artifacts, "prev_hash": self.prev_hash, "hash": self.hash,
        }


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_hash(prev_hash: str, seq: int, ts: str, environment: str, actor: str, action: str,
               details_json: str, artifacts_json: str) -> str:
    body = canonical([seq, ts, environment, actor, action, details_json, artifacts_json])
    return hashlib.sha256(prev_hash.encode() + body).hexdigest()


def artifact_digest(value: bytes | str) -> str:
    """Artifacts are recorded by SHA-256; a value that already is a hex digest is kept."""
    if isinstance(value, str):
        v = value.lower()
        if len(v) == 64 and all(ch in "0123456789abcdef" for ch in v):
            return v
        value = value.encode()
    return hashlib.sha256(value).hexdigest()


@dataclass(frozen=True)
class ChainHead:
    seq: int
    hash: str

    def to_text(self) -> str:
        return json.dumps({"seq": self.seq, "hash": self.hash})

    @classmethod
    def from_text(cls, text: str) -> ChainHead:
        d = json.loads(text)
        return cls(int(d["seq"]), str(d["hash"]))


@dataclass
class VerifyReport:
    rows: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class StoredRow:
    seq: int
    ts: str
    environment: str
    actor: str
    action: str
    details_json: str
    artifacts_json: str
    prev_hash: str
    hash: str


def verify_chain(rows: list[StoredRow], head: ChainHead | None) -> VerifyReport:
    """Check every link and the head. `rows` in sequence order."""
    rep = VerifyReport(rows=len(rows))
    prev = GENESIS
    expected_seq = 1
    for r in rows:
        if r.seq != expected_seq:
            rep.problems.append(
                f"Rows {expected_seq}..{r.seq - 1} are missing: rows were deleted from the log."
                if r.seq > expected_seq else f"Row {r.seq} is out of sequence."
            )
        if r.prev_hash != prev:
            rep.problems.append(
                f"Row {r.seq} does not link to the row before it: the chain was broken "
                "(a row deleted, inserted or reordered)."
            )
        recomputed = entry_hash(r.prev_hash, r.seq, r.ts, r.environment, r.actor, r.action,
                                r.details_json, r.artifacts_json)
        if recomputed != r.hash:
            rep.problems.append(
                f"Row {r.seq} ({r.action}, {r.ts}) was edited: its content does not match its hash."
            )
        prev = r.hash
        expected_seq = r.seq + 1
    last_seq = rows[-1].seq if rows else 0
    last_hash = rows[-1].hash if rows else GENESIS
    if head is None:
        if rows:
            rep.problems.append(
                "The chain's head is missing from the OS keyring: the log cannot be proven "
                "complete (the keyring entry was deleted, or this log came from another machine)."
            )
        return rep
    if head.seq > last_seq:
        rep.problems.append(
            f"The log ends at row {last_seq} but the head kept in the OS keyring is row "
            f"{head.seq}: the last {head.seq - last_seq} row(s) were deleted."
        )
    elif head.seq == last_seq and head.hash != last_hash:
        rep.problems.append(
            f"The last row's hash does not match the head kept in the OS keyring: the chain was "
            f"recomputed after an edit (row {last_seq})."
        )
    elif head.seq < last_seq:
        by_seq = {r.seq: r for r in rows}
        at_head = by_seq.get(head.seq)
        if head.seq > 0 and (at_head is None or at_head.hash != head.hash):
            rep.problems.append(
                f"Row {head.seq}'s hash does not match the head kept in the OS keyring: the chain "
                "was recomputed after an edit."
            )
        else:
            rep.notes.append(
                f"{last_seq - head.seq} row(s) after the recorded head (a write interrupted "
                "before the head was updated); they chain correctly."
            )
    return rep
