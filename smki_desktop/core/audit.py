"""The audit chain, pure: canonical record content, hash linking, and verification findings.

Each record's hash is SHA-256 over the previous record's hash and the record's canonical JSON;
the head of the chain (last sequence number and hash) is kept outside the database (the OS
keyring), so that an edited row, a chain recomputed after an edit, and deleted last rows are all
detected. Each record is also signed by its writer's own key (one per installation, kept in the
keyring, its public half registered in the store), so that rows added after the head cannot be
forged by someone who can write the data folder but cannot use the keyring. The keyring keeps an
`AuditAnchor` per installation and a `FolderMark` per data folder (which installation lives
there), so a wiped or replaced database is not a fresh start, while a moved folder still
verifies. Signature checking itself is a callback: this module stays pure.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
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
    writer: str = ""
    sig: str = ""


def signing_payload(row_hash: str, writer: str) -> bytes:
    """What a writer signs for one record: its chained hash and the writer's id."""
    return b"smki-audit-v1\0" + row_hash.encode() + b"\0" + writer.encode()


@dataclass
class AuditAnchor:
    """What the OS keyring remembers about one installation's log (one entry per installation
    id): its head, its writer key, and where signing started (with the head the keyring held
    for the unsigned rows before that)."""

    installation: str
    writer: str
    key: str                      # base64 of the writer's raw Ed25519 private key
    seq: int
    hash: str
    signed_from: int = 1          # rows before this one predate signing (hash chain only)
    legacy_seq: int = 0           # the keyring's head for those rows when signing started
    legacy_hash: str | None = GENESIS   # None: the keyring held no head for them
    # Writes that found the database no longer holding the head the keyring kept (a rollback
    # to an older copy, deleted last rows): remembered here, so that the head moving on past
    # the gap does not make the log verify again. An officer may acknowledge them.
    breaks: list[dict[str, Any]] = field(default_factory=list)
    acknowledged_breaks: list[dict[str, Any]] = field(default_factory=list)

    def to_text(self) -> str:
        return json.dumps({
            "v": 1, "installation": self.installation, "writer": self.writer, "key": self.key,
            "seq": self.seq, "hash": self.hash, "signed_from": self.signed_from,
            "legacy_seq": self.legacy_seq, "legacy_hash": self.legacy_hash,
            "breaks": self.breaks, "acknowledged_breaks": self.acknowledged_breaks,
        }, sort_keys=True)

    @classmethod
    def from_text(cls, text: str) -> AuditAnchor:
        d = json.loads(text)
        lh = d.get("legacy_hash", GENESIS)
        return cls(str(d["installation"]), str(d["writer"]), str(d["key"]), int(d["seq"]),
                   str(d["hash"]), int(d.get("signed_from", 1)), int(d.get("legacy_seq", 0)),
                   None if lh is None else str(lh), list(d.get("breaks") or []),
                   list(d.get("acknowledged_breaks") or []))


def head_break(anchor: AuditAnchor, at_head: StoredRow | None, last: StoredRow | None,
               next_seq: int, noticed: str) -> dict[str, Any] | None:
    """Before a write: does the database still hold the head the keyring kept? If not (the
    database was rolled back to an older copy, or its last rows deleted), what to remember."""
    if anchor.seq <= 0 or (at_head is not None and at_head.hash == anchor.hash):
        return None
    return {"head_seq": anchor.seq, "head_hash": anchor.hash,
            "found_seq": last.seq if last else 0, "at_seq": next_seq, "noticed": noticed}


def break_findings(rep: VerifyReport, anchor: AuditAnchor) -> None:
    for b in anchor.breaks:
        rep.problems.append(
            f"When row {b.get('at_seq')} was written ({b.get('noticed')}), the database no "
            f"longer held the head the OS keyring kept (row {b.get('head_seq')}, hash "
            f"{str(b.get('head_hash'))[:16]}; it ended at row {b.get('found_seq')}): it had "
            "been rolled back to an older copy or its last rows deleted, and records were "
            "lost. If that was deliberate (a backup restored), an officer can acknowledge the "
            "loss with a reason, in a signed record."
        )
    for b in anchor.acknowledged_breaks:
        rep.notes.append(
            f"The log was rolled back from row {b.get('head_seq')} to row {b.get('found_seq')} "
            f"before row {b.get('at_seq')}; acknowledged in record {b.get('by_seq')}: "
            f"{b.get('reason')}"
        )


@dataclass
class FolderMark:
    """What the OS keyring remembers about one data folder (one entry per folder): which
    installation keeps its log, and earlier installations there whose database disappeared
    (`lost`), or whose loss an officer recorded on purpose (`acknowledged`). A folder moved to
    another place keeps verifying (its anchor is found by installation id); a database
    deleted, emptied, replaced or given another installation id does not."""

    installation: str
    lost: list[dict[str, Any]] = field(default_factory=list)
    acknowledged: list[dict[str, Any]] = field(default_factory=list)

    def to_text(self) -> str:
        return json.dumps({"v": 1, "installation": self.installation, "lost": self.lost,
                           "acknowledged": self.acknowledged}, sort_keys=True)

    @classmethod
    def from_text(cls, text: str) -> FolderMark:
        d = json.loads(text)
        return cls(str(d["installation"]), list(d.get("lost") or []),
                   list(d.get("acknowledged") or []))


def lost_entry(installation: str, anchor: AuditAnchor | None, noticed: str) -> dict[str, Any]:
    return {"installation": installation, "seq": anchor.seq if anchor else None,
            "hash": anchor.hash if anchor else None, "noticed": noticed}


def folder_findings(rep: VerifyReport, mark: FolderMark | None, installation: str,
                    previous: AuditAnchor | None, rows: int) -> None:
    """Add what the folder's keyring mark says about this database to `rep`. `previous` is
    the anchor of the installation the mark names, when it is another one."""
    if mark is None:
        if rows:
            rep.notes.append("The OS keyring has no record of this log at this folder yet: "
                             "the data folder was moved here (the next record notes it).")
        return
    if mark.installation != installation:
        what = (f"{previous.seq} records, head {previous.hash[:16]}" if previous
                else "records unknown")
        rep.problems.append(
            f"The OS keyring records that installation {mark.installation} ({what}) keeps "
            f"this folder's audit log, but the database is installation {installation}: the "
            "database was deleted, replaced or emptied, or its installation id was changed."
        )
    for old in mark.lost:
        rep.problems.append(
            f"The OS keyring records that an earlier audit log at this folder (installation "
            f"{old.get('installation')}, {old.get('seq')} records, head "
            f"{str(old.get('hash'))[:16]}) disappeared: its database was deleted, replaced or "
            f"emptied (noticed {old.get('noticed')}). If that was deliberate, an officer can "
            "acknowledge the loss with a reason, in a signed record."
        )
    for old in mark.acknowledged:
        rep.notes.append(
            f"An earlier audit log at this folder (installation {old.get('installation')}, "
            f"{old.get('seq')} records) was lost; acknowledged in record {old.get('by_seq')}: "
            f"{old.get('reason')}"
        )


def verify_signed_log(rows: list[StoredRow], anchor: AuditAnchor,
                      signature_problem: Callable[[StoredRow], str | None]) -> VerifyReport:
    """The check of a signed log against what the keyring remembers of its installation."""
    rep = verify_chain(rows, ChainHead(anchor.seq, anchor.hash), signed_from=anchor.signed_from,
                       signature_problem=signature_problem, own_writer=anchor.writer)
    break_findings(rep, anchor)
    if anchor.signed_from > 1:
        by_seq = {r.seq: r for r in rows}
        if anchor.legacy_hash is None:
            rep.problems.append(
                f"Rows 1..{anchor.signed_from - 1} predate signing and the OS keyring held no "
                "head for them: they cannot be proven complete."
            )
        else:
            at = by_seq.get(anchor.legacy_seq)
            if anchor.legacy_seq and (at is None or at.hash != anchor.legacy_hash):
                rep.problems.append(
                    f"Row {anchor.legacy_seq} does not match the head the OS keyring held when "
                    "signing started: the unsigned part of the log was edited or recomputed."
                )
            if anchor.legacy_seq < anchor.signed_from - 1:
                rep.problems.append(
                    f"Rows {anchor.legacy_seq + 1}..{anchor.signed_from - 1} were added after "
                    "the head the OS keyring held and before signing started: they cannot be "
                    "proven (added by someone, or a write interrupted long ago)."
                )
    return rep


def _after_head_notes(rep: VerifyReport, rows: list[StoredRow], head_seq: int,
                      own_writer: str) -> None:
    """Signed rows after the keyring's head: this writer's own are an interrupted write; on a
    shared log, the other registered writers' are expected."""
    after = [r for r in rows if r.seq > head_seq]
    own = [r for r in after if not own_writer or r.writer == own_writer]
    if own:
        rep.notes.append(f"{len(own)} row(s) after the recorded head, signed by this log's "
                         "writer: a write was interrupted before the head was updated.")
    if len(own) < len(after):
        rep.notes.append(f"{len(after) - len(own)} row(s) after this workstation's last record "
                         "were written by the log's other registered writers.")


def verify_chain(rows: list[StoredRow], head: ChainHead | None, *,
                 signed_from: int | None = None,
                 signature_problem: Callable[[StoredRow], str | None] | None = None,
                 own_writer: str = "") -> VerifyReport:
    """Check every link and the head. `rows` in sequence order. With `signed_from`, every row
    from that sequence number on must carry a valid writer signature (`signature_problem`
    returns None for a good one, else the reason). `head` is where the keyring says this
    workstation's writer (`own_writer`) last wrote: on a shared log, rows after it written by
    the other registered writers are expected, not an interrupted write."""
    rep = VerifyReport(rows=len(rows))
    unsigned_ok = 0
    for r in rows:
        if signed_from is None or signature_problem is None:
            break
        if r.seq < signed_from:
            unsigned_ok = max(unsigned_ok, r.seq)
            continue
        why = signature_problem(r)
        if why:
            rep.problems.append(f"Row {r.seq} ({r.action}, {r.ts}) {why}: it was not written "
                                "by this log's registered writers (forged or altered).")
    if unsigned_ok:
        rep.notes.append(f"Rows 1..{unsigned_ok} predate signing and are only hash-chained.")
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
        elif signed_from is not None and signature_problem is not None:
            if not rep.problems:
                _after_head_notes(rep, rows, head.seq, own_writer)
        else:
            rep.notes.append(
                f"{last_seq - head.seq} row(s) after the recorded head (a write interrupted "
                "before the head was updated); they chain correctly."
            )
    return rep
