"""The audit log service: append records to the hash chain, sign each with this installation's
own writer key, keep the head (and the fact that this installation exists) in the OS keyring,
list and verify.

Threat: someone who can read and write the data folder but cannot use the keyring (a colleague,
a restored backup, malware reading files). They cannot sign, so rows they add, change, remove or
reorder fail verification; the keyring entry is keyed by the data folder, so deleting, emptying
or replacing the database (or changing its installation id) is not a fresh start either.
On a team store (PostgreSQL) several workstations share one log: each signs with its own key
(the private half never leaves its keyring), registers the public half in `audit_writers` and
says so in a record it signs itself (`audit.writer.register`, chained like any other), and keeps
in its own keyring the head of ITS OWN records. Appends are serialised by the store's write
transaction (advisory lock), so the chain stays linear. Verify checks every row's link, every
row's signature against a writer registered that way, and this workstation's own head; see
docs/team-audit.md for what an attacker with access to the store can and cannot do.

What the log vouches for (`vouched`): a record whose hash is its content's, signed by this
installation's key or an endorsed writer's. The team's first writer is the one of the log's
first registration record (never whoever the editable writer table still lists first), a
workstation whose own writer row was removed or changed vouches for nothing, and one that has
not written yet reads as a reader (the endorsed writers, no key of its own). A prefix from
before signing counts only against a head this keyring kept (never one the store offers a
joining workstation). Nothing is vouched for while this keyring's head is missing from the log
or it records an unacknowledged rollback, nor anything before a broken link (a newer record
deleted would otherwise bring an older setting back).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from smki_desktop import __version__
from smki_desktop.core.audit import (
    GENESIS,
    AuditAnchor,
    AuditEntry,
    ChainHead,
    FolderMark,
    StoredRow,
    VerifyReport,
    artifact_digest,
    entry_hash,
    folder_findings,
    head_break,
    lost_entry,
    signing_payload,
    verify_chain,
    verify_signed_log,
)
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import Ambiguous, InputError, NotFound, Refusal
from smki_desktop.core.ports import Clock
from smki_desktop.keystores.secrets import OsSecrets
from smki_desktop.services.audit_cut import NEVER, log_cut, read_by_others
from smki_desktop.services.audit_reading import AnchorReading
from smki_desktop.services.store_pin import StorePins
from smki_desktop.store import fault_point
from smki_desktop.store.db import Database
from smki_desktop.store.process_lock import process_lock
from smki_desktop.store.repos.audit import AuditRepo, AuditWrite, WriterRow

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

# `cryptography` is imported by the functions below when a record is first written or checked:
# every start of the GUI opens a context (and so an AuditLog) and should not pay for it before.

_lock = threading.Lock()

# The record a writer signs to join a shared log: its public key, installation and environment.
REGISTER_ACTION = "audit.writer.register"
# The record an endorsed writer signs to vouch for another (a new workstation of the team).
ENDORSE_ACTION = "audit.writer.endorse"


def _new_key() -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate()


def _private_key(b64: str) -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.from_private_bytes(base64.b64decode(b64))


def _public_raw(key: Ed25519PrivateKey) -> bytes:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _json_dict(text: str) -> dict[str, Any]:
    """A stored JSON object; a tampered one that is not (verify reports it) is shown as is."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return {"unreadable": text}
    return value if isinstance(value, dict) else {"unreadable": text}


def _signature_problem(keys: dict[str, tuple[int, Ed25519PublicKey]]
                       ) -> Callable[[StoredRow], str | None]:
    """The check of one row's signature against the writers' keys (each with the row where
    it registered): None for a good one, else the reason."""
    from cryptography.exceptions import InvalidSignature

    def problem(r: StoredRow) -> str | None:
        if not r.writer or not r.sig:
            return "carries no writer signature"
        if r.writer not in keys:
            return f"is signed by writer {r.writer[:16]}, which is not a registered writer"
        since, pub = keys[r.writer]
        if r.seq < since:
            return f"is signed by writer {r.writer[:16]} before it registered (row {since})"
        try:
            pub.verify(base64.b64decode(r.sig, validate=True), signing_payload(r.hash, r.writer))
        except (InvalidSignature, ValueError):
            return "has a signature that does not match its content"
        return None

    return problem


@dataclass
class _Pending:
    """A change being written: its transaction, the writer, and the last record so far."""

    w: AuditWrite
    anchor: AuditAnchor | None = None
    key: Ed25519PrivateKey | None = None
    brk: dict[str, Any] | None = None
    entry: AuditEntry | None = None


def writer_id_of(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()


class AuditLog:
    def __init__(self, db: Database, secrets: OsSecrets, environment: Environment, clock: Clock,
                 actor: Callable[[], str], installation_id: str,
                 folder: Path | None = None, store_name: str = "") -> None:
        # Before signing: one keyring entry per installation id (kept for the migration).
        self.head_entry = f"audit-head:{installation_id}"
        # Since signing: the installation's anchor (writer key, head) by installation id, and
        # a mark per data folder naming the installation that lives there, so that a new
        # database (new installation id) at the same folder is seen as a replacement, not a
        # fresh start, while a folder moved elsewhere keeps its anchor.
        self.anchor_entry = f"audit-anchor:{installation_id}"
        # The folder as the app names it, NOT resolved: a folder swapped for a symbolic link to
        # an empty one must still be looked up under the mark of the log that lived there.
        where = os.path.abspath(folder or db.path.parent)
        self.folder_entry = "audit-folder:" + hashlib.sha256(where.encode()).hexdigest()[:32]
        self.db = db
        self.repo = AuditRepo(db)
        self.secrets = secrets
        self.environment = environment
        self.clock = clock
        self.installation_id = installation_id
        # A team store is written by several workstations: each registers itself in the log.
        self.shared = db.backend != "sqlite"
        # ... and is not a file in the data folder: its identity and the newest row seen are
        # pinned in this workstation's keyring instead (wiped, replaced, rolled back).
        self.pins = (StorePins(db, secrets, installation_id, clock,
                                store_name or f"team store of {where}")
                     if self.shared else None)
        self._actor = actor
        self._anchor: AuditAnchor | None = None
        self._key: Ed25519PrivateKey | None = None
        self._just_read = False  # _writer read the anchor in the write being made
        self._open = threading.local()  # .change: this thread's open change (_Pending)
        # vouched(): per action set, the log's (actions, last seq, last hash, writers), the
        # records and why the log is cut (None)
        self._vouched: dict[tuple[str, ...],
                            tuple[tuple[Any, ...], list[AuditEntry], str | None]] = {}
        self._reading = AnchorReading(self._load_anchor)  # see one_reading

    # -- the keyring anchor --------------------------------------------------------------
    def _load_anchor(self, installation: str | None = None) -> AuditAnchor | None:
        name = f"audit-anchor:{installation}" if installation else self.anchor_entry
        text = self.secrets.get_optional(name)
        return AuditAnchor.from_text(text) if text else None

    def _load_mark(self) -> FolderMark | None:
        text = self.secrets.get_optional(self.folder_entry)
        return FolderMark.from_text(text) if text else None

    def one_reading(self) -> AbstractContextManager[None]:
        """The proofs one user action makes inside the block are checked against one reading
        of the keyring's anchor (`services/audit_reading.py`)."""
        return self._reading.block()

    def _writer(self, w: AuditWrite) -> tuple[AuditAnchor, Ed25519PrivateKey, bool]:
        """This installation's anchor and writer key, made on first use, and the folder's
        mark brought up to date. Called inside the write transaction, so that two processes
        starting at once agree on one key (the second reads what the first stored). Returns
        also whether signing starts now on an existing (hash-chain only) log."""
        if self._anchor is not None and self._key is not None:
            return self._anchor, self._key, False
        anchor = self._load_anchor()
        self._just_read = True
        migrating = False
        if anchor is None:
            key = _new_key()
            pub = _public_raw(key)
            last = w.last()
            signed_from = (last.seq + 1) if last else 1
            legacy_seq, legacy_hash = 0, GENESIS
            first = w.first_signed() if self.shared and last is not None else None
            if first is not None:
                # Joining a shared log its other writers already sign: this workstation's own
                # head starts at zero (it wrote nothing yet). A head for rows before signing
                # can only come from this keyring, never from the store (which could offer
                # forged unsigned rows as such a prefix): none of them is vouched for here.
                signed_from = first.seq
                legacy_seq, legacy_hash = 0, None  # type: ignore[assignment]
                last = None
            if last is not None:
                migrating = True
                head_text = self.secrets.get_optional(self.head_entry)
                if head_text:
                    legacy = ChainHead.from_text(head_text)
                    legacy_seq, legacy_hash = legacy.seq, legacy.hash
                else:
                    legacy_seq, legacy_hash = 0, None  # type: ignore[assignment]
            anchor = AuditAnchor(
                installation=self.installation_id, writer=writer_id_of(pub),
                key=base64.b64encode(key.private_bytes_raw()).decode(),
                seq=legacy_seq, hash=legacy_hash or GENESIS, signed_from=signed_from,
                legacy_seq=legacy_seq, legacy_hash=legacy_hash,
            )
            # The keyring learns of this installation before anything is signed with its key.
            self.secrets.set(self.anchor_entry, anchor.to_text())
        mark = self._load_mark()
        if mark is None or mark.installation != self.installation_id:
            lost = list(mark.lost) if mark else []
            if mark is not None:
                # The database at this folder is not the one the keyring knew: remember it.
                lost.append(lost_entry(mark.installation, self._load_anchor(mark.installation),
                                       self.clock.now().isoformat(timespec="seconds")))
            self.secrets.set(self.folder_entry, FolderMark(
                self.installation_id, lost, list(mark.acknowledged) if mark else []).to_text())
        key = _private_key(anchor.key)
        self._anchor, self._key = anchor, key
        return anchor, key, migrating

    # -- writing ---------------------------------------------------------------------------
    def record(self, action: str, details: dict[str, Any] | None = None,
               artifacts: dict[str, bytes | str] | None = None) -> AuditEntry:
        """Append a record: inside `change()` to its transaction (committed with the change),
        else in a transaction of its own."""
        # Every record says which version of the app wrote it. It lives in the details, which the
        # chain already hashes, so records written before it verify as they did.
        details = {**(details or {}), "app_version": __version__}
        arts = {k: artifact_digest(v) for k, v in (artifacts or {}).items()}
        ts = self.clock.now().isoformat(timespec="microseconds")
        actor = self._actor()
        pending: _Pending | None = getattr(self._open, "change", None)
        if pending is not None:
            return self._record_in(pending, ts, actor, action, details, arts)
        with self.change():
            return self._record_in(self._open.change, ts, actor, action, details, arts)

    @contextmanager
    def change(self) -> Iterator[None]:
        """One transaction for a user action's rows, its outbox request and its audit
        records: everything this thread writes through the store inside the block (its own
        `transaction()`s become savepoints) commits with the records, or nothing does. The
        keyring's head follows after the commit (a kill in between leaves a signed row after
        the head, which verify tells apart from a forgery). Nested, it joins the open one."""
        if getattr(self._open, "change", None) is not None:
            yield
            return
        if self.db.in_transaction():
            # the audit lock would be taken while holding the store's: open the change first
            raise RuntimeError("an audited change must be opened before the store transaction")
        # One writer at a time across processes, from the row to the keyring's head: otherwise
        # two processes could commit rows n and n+1 and record the heads in the other order.
        with _lock, process_lock(self.db.path.with_name(self.db.path.name + ".audit-lock")):
            with self.repo.writing() as w:
                self._open.change = pending = _Pending(w)
                try:
                    yield
                finally:
                    self._open.change = None
            if pending.entry is not None:
                self._advance(pending)

    def _record_in(self, p: _Pending, ts: str, actor: str, action: str,
                   details: dict[str, Any], arts: dict[str, str]) -> AuditEntry:
        if self.pins is not None:
            self.pins.on_write()
        w = p.w
        if p.anchor is None or p.key is None:
            self._just_read = False
            anchor, key, migrating = self._writer(w)
            # The keyring's head as it is now (another process may have moved it, or noted a
            # rollback), checked against the database before anything is added to it; when
            # _writer has just read (or made) it under this same lock and transaction, that is
            # the head as it is now, and a second D-Bus round-trip would read the same text.
            if not self._just_read:
                fresh = self._load_anchor()
                if fresh is not None and fresh.writer == anchor.writer:
                    anchor = self._anchor = fresh
            last = w.last()
            p.brk = head_break(anchor, w.at(anchor.seq), last,
                               (last.seq if last else 0) + 1, ts)
            p.anchor, p.key = anchor, key
            if migrating:
                self._insert(w, anchor, key, ts, actor, "audit.signing.start", {
                    "writer": anchor.writer, "unsigned_rows": anchor.signed_from - 1,
                    "keyring_head_seq": anchor.legacy_seq,
                    "keyring_head_hash": anchor.legacy_hash,
                    "note": "rows before this one were only hash-chained",
                }, {})
        fault_point.reached(f"audit:{action}")  # tests: kill here, inside the transaction
        p.entry = self._insert(w, p.anchor, p.key, ts, actor, action, details, arts)
        return p.entry

    def _advance(self, p: _Pending) -> None:
        """After the commit: the keyring's head follows this workstation's last record."""
        anchor, entry, brk = p.anchor, p.entry, p.brk
        assert anchor is not None and entry is not None
        if brk is not None:
            # The head follows the real last write (so that putting the newer copy back is
            # seen too), and the gap stays on record in the keyring.
            anchor.breaks.append(brk)
        if brk is not None or entry.seq > anchor.seq:
            anchor.seq, anchor.hash = entry.seq, entry.hash
        self.secrets.set(self.anchor_entry, anchor.to_text())
        self._reading.moved()  # one_reading: the head moved, the next proof reads it

    def _insert(self, w: AuditWrite, anchor: AuditAnchor, key: Ed25519PrivateKey,
                ts: str, actor: str, action: str, details: dict[str, Any],
                arts: dict[str, str]) -> AuditEntry:
        env = self.environment.value
        if w.writer(anchor.writer) is None:
            pub = _public_raw(key)
            w.add_writer(WriterRow(anchor.writer, pub, self.installation_id, env, ts))
            if self.shared:
                # The registration is itself a record, signed by the new key (proof of
                # possession) and chained, so every workstation sees who joined and when.
                self._append(w, anchor, key, ts, actor, REGISTER_ACTION, {
                    "writer": anchor.writer, "public_key": base64.b64encode(pub).decode(),
                    "installation_id": self.installation_id, "environment": env,
                    "app_version": __version__}, {})
        return self._append(w, anchor, key, ts, actor, action, details, arts)

    def _append(self, w: AuditWrite, anchor: AuditAnchor, key: Ed25519PrivateKey,
                ts: str, actor: str, action: str, details: dict[str, Any],
                arts: dict[str, str]) -> AuditEntry:
        details_json = json.dumps(details, sort_keys=True, default=str, ensure_ascii=False)
        artifacts_json = json.dumps(arts, sort_keys=True)
        env = self.environment.value
        last = w.last()
        seq = (last.seq + 1) if last else 1
        prev = last.hash if last else GENESIS
        h = entry_hash(prev, seq, ts, env, actor, action, details_json, artifacts_json)
        sig = base64.b64encode(key.sign(signing_payload(h, anchor.writer))).decode()
        w.append(StoredRow(seq, ts, env, actor, action, details_json, artifacts_json, prev, h,
                           anchor.writer, sig))
        return AuditEntry(seq, ts, env, actor, action, details, arts, prev, h)

    def acknowledge_loss(self, reason: str) -> AuditEntry:
        """An officer records that an earlier log at this folder was lost on purpose (a data
        folder deleted to start again): the loss is kept in a signed record and verify then
        reports it as a note. Someone without the keyring (the threat) cannot do this."""
        reason = reason.strip()
        if not reason:
            raise InputError("Reason: say why the earlier audit log was lost.", hint="field.reason")
        with _lock, self.repo.writing() as w:
            self._writer(w)
        mark = self._load_mark()
        anchor = self._load_anchor()
        breaks = list(anchor.breaks) if anchor else []
        lost = list(mark.lost) if mark else []
        pin = self.pins.load() if self.pins is not None else None
        pinned = {"lost": pin.lost, "rolled_back": pin.breaks} if pin and pin.unacknowledged \
            else None
        if not lost and not breaks and not pinned:
            raise Refusal("Nothing to acknowledge: the OS keyring records no lost audit log "
                          "and no rollback at this folder.")
        entry = self.record("audit.loss.acknowledge",
                            {"lost": lost, "rolled_back": breaks, "reason": reason,
                             **({"team_store": pinned} if pinned else {})})
        if pinned and self.pins is not None:
            self.pins.acknowledge(reason, entry.seq)
        if lost and mark is not None:
            mark.acknowledged += [{**x, "reason": reason, "by_seq": entry.seq} for x in lost]
            mark.lost = [x for x in mark.lost if x not in lost]
            self.secrets.set(self.folder_entry, mark.to_text())
        if breaks and self._anchor is not None:
            now = self._anchor
            now.acknowledged_breaks += [{**b, "reason": reason, "by_seq": entry.seq}
                                        for b in breaks]
            now.breaks = [b for b in now.breaks if b not in breaks]
            self.secrets.set(self.anchor_entry, now.to_text())
        return entry

    # -- reading ---------------------------------------------------------------------------
    def reference(self) -> dict[str, Any]:
        """This log as another log records it (a workstation's own log when it moves into a
        team store): installation, writer and its public key, length, head, and its verify."""
        report = self.verify()
        last = self.repo.last()
        anchor = self._load_anchor()
        writer = self.repo.writer(anchor.writer) if anchor is not None else None
        return {"installation_id": self.installation_id,
                "writer": anchor.writer if anchor is not None else "",
                "public_key": base64.b64encode(writer.public_key).decode() if writer else "",
                "rows": report.rows, "head_seq": last.seq if last else 0,
                "head_hash": last.hash if last else GENESIS, "verified": report.ok,
                "problems": report.problems}

    def own_last_details(self, action: str) -> dict[str, Any]:
        """The details of this installation's own last record of `action`, checked against
        its own key (a row someone put in the store under its name is ignored); {} if none."""
        from cryptography.exceptions import InvalidSignature

        anchor = self._load_anchor()
        row = self.repo.last_by(anchor.writer, action) if anchor is not None else None
        if anchor is None or row is None:
            return {}
        try:
            _private_key(anchor.key).public_key().verify(
                base64.b64decode(row.sig, validate=True), signing_payload(row.hash, row.writer))
        except (InvalidSignature, ValueError):
            return {}
        if entry_hash(row.prev_hash, row.seq, row.ts, row.environment, row.actor, row.action,
                      row.details_json, row.artifacts_json) != row.hash:
            return {}
        return _json_dict(row.details_json)

    def vouched(self, actions: tuple[str, ...]) -> list[AuditEntry]:
        """The records of `actions` this log can prove were written by SMKI Desktop: each row's
        hash matches its content and it is signed by this installation's writer key (held in
        the OS keyring) or, on a team store, by a writer the log endorses; a row from before
        signing started counts when the hash chain from it reaches the head the keyring held
        then. Someone who can write the database but not use the keyring cannot add one, nor
        alter one. None when rows were cut out of the log (`vouched_or_cut`)."""
        return self.vouched_or_cut(actions)[0]

    def vouched_or_cut(self, actions: tuple[str, ...]) -> tuple[list[AuditEntry], str | None]:
        """As `vouched`, and why nothing is vouched for when the log was cut (its keyring
        head gone, a link broken, a rollback the keyring recorded), else None. Kept per
        process while the log's last row and length, the writer registry and the rows of
        `actions` (their seq and hash) stay the same: a registry edit changes which writers
        count, a record deleted or replaced behind the last row makes an older one the last,
        and a row deleted anywhere breaks the chain."""
        key = (actions, self.repo.tip(),
               tuple((x.writer_id, x.public_key) for x in self.repo.writers()),
               self.repo.marks(actions))
        hit = self._vouched.get(actions)
        if hit is not None and hit[0] == key:
            return hit[1], hit[2]
        found, cut = self._proven_or_cut(self.repo.of_actions(actions),
                                         self.repo.last() if self.shared else None)
        out = [AuditEntry(r.seq, r.ts, r.environment, r.actor, r.action,
                          _json_dict(r.details_json), _json_dict(r.artifacts_json),
                          r.prev_hash, r.hash) for r in found]
        self._vouched[actions] = (key, out, cut)
        return out, cut

    def vouched_naming(self, actions: tuple[str, ...], key: str,
                       values: list[str]) -> list[AuditEntry]:
        """As `vouched`, for only the records of `actions` whose details name one of `values`
        under `key` (the requests about to be sent, say): one query for those, not every
        record of the actions, so the cost does not grow with the log."""
        return [AuditEntry(r.seq, r.ts, r.environment, r.actor, r.action,
                           _json_dict(r.details_json), _json_dict(r.artifacts_json),
                           r.prev_hash, r.hash)
                for r in self._proven(self.repo.naming(actions, key, values))
                if str(_json_dict(r.details_json).get(key)) in values]

    def vouched_at(self, seq: int, action: str) -> AuditEntry | None:
        """The record at `seq` when it is one of `action` the log proves (as `vouched`: its
        hash, its writer's signature, no cut after it), else None: that one row is read."""
        row = self.repo.at(seq) if seq > 0 else None
        if row is None or row.action != action or not self._proven([row]):
            return None
        return AuditEntry(row.seq, row.ts, row.environment, row.actor, row.action,
                          _json_dict(row.details_json), _json_dict(row.artifacts_json),
                          row.prev_hash, row.hash)

    def _proven(self, candidates: list[StoredRow]) -> list[StoredRow]:
        return self._proven_or_cut(candidates)[0]

    def _trusted_keys(self, anchor: AuditAnchor | None
                      ) -> dict[str, tuple[int, Ed25519PublicKey]] | None:
        """The writers whose signatures count: this installation's own (from the keyring) and,
        on a team store, the writers the log endorses; None when this installation's row in
        the writer registry is missing or not its key (the registry was altered)."""
        keys: dict[str, tuple[int, Ed25519PublicKey]] = {}
        if anchor is not None:
            own = _private_key(anchor.key).public_key()
            if anchor.seq >= anchor.signed_from:  # it has signed a record: it is registered
                row = self.repo.writer(anchor.writer)
                if row is None or row.public_key != _public_raw(_private_key(anchor.key)):
                    return None
            keys[anchor.writer] = (0, own)
        if self.shared:
            # the registrations and endorsements are all these two read: not the whole log
            # (a fresh process asks before each connection; 10,000 rows took 0.16 s)
            rows = self.repo.of_actions((REGISTER_ACTION, ENDORSE_ACTION))
            regs = self._registrations(rows)
            endorsed = self._endorsed(rows, regs)
            keys = {**{w: regs[w] for w in regs if w in endorsed}, **keys}
        return keys

    def _proven_or_cut(self, candidates: list[StoredRow], tip: StoredRow | None = None
                       ) -> tuple[list[StoredRow], str | None]:
        """Those of `candidates` (rows of the log) the log proves SMKI Desktop wrote, and why
        none is when rows were cut out of the log after them (else None; `services/audit_cut`).
        On a team store the other writers' records proven (and the log's last row, `tip`)
        are remembered in the store pin as read, so that deleting them later is a cut."""
        anchor = self._reading.get()
        if anchor is None and not self.shared:
            return [], None  # nothing signed here yet: nothing can be proven
        if not candidates:
            # none left: they may all have been cut off (the keyring head gone, the pin's)
            return [], log_cut(self.repo, self.pins, anchor, NEVER)[1]
        # A team workstation that has not written yet reads as `_verify_as_reader` does: the
        # endorsed writers' signatures, no key of its own.
        keys = self._trusted_keys(anchor)
        if keys is None:
            return [], None
        since, cut = log_cut(self.repo, self.pins, anchor, min(r.seq for r in candidates))
        if not any(r.seq < since for r in candidates):
            cut = None  # the break is before every record asked about
        problem = _signature_problem(keys)
        legacy_ok = self._legacy_prefix_ok(anchor, candidates) if anchor else NEVER
        signed_from = anchor.signed_from if anchor else 1
        out = []
        for r in candidates:
            if r.environment != self.environment.value or r.seq < since:
                continue
            if entry_hash(r.prev_hash, r.seq, r.ts, r.environment, r.actor, r.action,
                          r.details_json, r.artifacts_json) != r.hash:
                continue
            if (legacy_ok <= r.seq < signed_from) or problem(r) is None:
                out.append(r)
        if self.pins is not None and cut is None:
            self.pins.saw(read_by_others(out, tip, anchor, since, self.environment.value,
                                         problem))
        return out, cut

    def _legacy_prefix_ok(self, anchor: AuditAnchor, candidates: list[StoredRow]) -> int:
        """The first row before signing started from which the hash chain reaches, unbroken,
        the head the keyring held when signing started (a row from there on is as the app wrote
        it); a number past every row when none can be proven."""
        never = 1 << 62
        early = [r.seq for r in candidates if r.seq < anchor.signed_from]
        if not early or anchor.legacy_hash is None or not anchor.legacy_seq:
            return never
        rows = self.repo.between(min(early), anchor.legacy_seq)
        if not rows or rows[-1].seq != anchor.legacy_seq or rows[-1].hash != anchor.legacy_hash:
            return never
        for before, r in itertools.pairwise(rows):
            if r.prev_hash != before.hash:
                return never
        for r in rows:
            if entry_hash(r.prev_hash, r.seq, r.ts, r.environment, r.actor, r.action,
                          r.details_json, r.artifacts_json) != r.hash:
                return never
        return rows[0].seq

    def entries(self, limit: int | None = None, action_prefix: str = "") -> list[AuditEntry]:
        return [
            AuditEntry(r.seq, r.ts, r.environment, r.actor, r.action, _json_dict(r.details_json),
                       _json_dict(r.artifacts_json), r.prev_hash, r.hash)
            for r in self.repo.newest(limit, action_prefix)
        ]

    def _registrations(self, rows: list[StoredRow]) -> dict[str, tuple[int, Ed25519PublicKey]]:
        """Other writers this log can prove: a registration record signed by the key it
        names, whose id is that key's hash and whose key the writer registry holds."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        registry = {x.writer_id: x.public_key for x in self.repo.writers()}
        found: dict[str, tuple[int, Ed25519PublicKey]] = {}
        for r in rows:
            if r.action != REGISTER_ACTION or not r.writer or r.writer in found:
                continue
            if r.environment != self.environment.value:
                continue  # another environment's writer (its rows copied in) is not ours
            try:
                raw = base64.b64decode(str(_json_dict(r.details_json).get("public_key", "")),
                                       validate=True)
                pub = Ed25519PublicKey.from_public_bytes(raw)
                pub.verify(base64.b64decode(r.sig, validate=True),
                           signing_payload(r.hash, r.writer))
            except (InvalidSignature, ValueError):
                continue
            if writer_id_of(raw) == r.writer and registry.get(r.writer) == raw:
                found[r.writer] = (r.seq, pub)
        return found

    def _endorsed(self, rows: list[StoredRow],
                  regs: dict[str, tuple[int, Ed25519PublicKey]]) -> dict[str, int]:
        """The writers the log vouches for (writer -> the row that does): its first registered
        writer (the workstation that set the team store up), then, in log order, each writer
        an already endorsed writer endorsed in a record it signed. Someone with only SQL access
        can register a key of their own but holds no endorsed writer's key. The first writer is
        the one of the log's first registration record, and only if that record proves it:
        never the first of those the writer registry (a table anyone with SQL access can edit)
        still holds, else deleting the others from it would make an intruder the first."""
        from cryptography.exceptions import InvalidSignature

        env = self.environment.value
        head = next((r for r in rows if r.action == REGISTER_ACTION and r.environment == env),
                    None)
        if head is None or head.writer not in regs or regs[head.writer][0] != head.seq:
            return {}
        first = head.writer
        found = {first: regs[first][0]}
        for r in rows:
            if r.action != ENDORSE_ACTION or r.writer not in found:
                continue
            try:
                regs[r.writer][1].verify(base64.b64decode(r.sig, validate=True),
                                         signing_payload(r.hash, r.writer))
            except (InvalidSignature, ValueError, KeyError):
                continue
            if entry_hash(r.prev_hash, r.seq, r.ts, r.environment, r.actor, r.action,
                          r.details_json, r.artifacts_json) != r.hash:
                continue
            target = str(_json_dict(r.details_json).get("writer", ""))
            if target in regs and target not in found:
                found[target] = r.seq
        return found

    def _endorsement_problems(self, report: VerifyReport, rows: list[StoredRow]) -> None:
        """On a shared log: every writer no endorsed writer vouched for, with its rows."""
        regs = self._registrations(rows)
        endorsed = self._endorsed(rows, regs)
        installations = {x.writer_id: x.installation_id for x in self.repo.writers()}
        for w in regs:
            if w in endorsed:
                continue
            seqs = [r.seq for r in rows if r.writer == w]
            where = f"rows {seqs[0]}-{seqs[-1]}" if seqs else "no rows"
            report.problems.append(
                f"Writer {w[:16]} (installation {installations.get(w, 'unknown')}) is not "
                f"endorsed: no endorsed writer vouched for it in a signed record, so its "
                f"{len(seqs)} record(s) ({where}) are not vouched for. If it is a workstation "
                "of the team, endorse it from a workstation that is endorsed.")

    def endorse(self, ref: str) -> tuple[WriterRow, AuditEntry]:
        """This (endorsed) workstation vouches for another writer of the shared log, named by
        its installation id or a prefix of its writer id, in a record it signs."""
        ref = ref.strip().lower()
        if not self.shared:
            raise Refusal("Only a team store's audit log has other writers to endorse.")
        if len(ref) < 8:
            raise InputError("Writer: give its installation id or at least 8 characters of "
                             "its writer id.")
        rows = self.repo.rows()
        regs = self._registrations(rows)
        endorsed = self._endorsed(rows, regs)
        anchor = self._load_anchor()
        if anchor is None or anchor.writer not in endorsed:
            raise Refusal("This workstation is not endorsed itself: only a workstation the "
                          "team's log already vouches for can endorse another.")
        found = [x for x in self.repo.writers()
                 if x.installation_id == ref or x.writer_id.startswith(ref)]
        if not found:
            raise NotFound(f"No writer {ref!r} is registered in the team's audit log.")
        if len(found) > 1:
            raise Ambiguous(f"Writer {ref!r} matches {len(found)} writers: give more of it.")
        target = found[0]
        if target.writer_id not in regs:
            raise Refusal(f"Writer {target.writer_id[:16]} has no registration record signed "
                          "by its own key: it cannot be endorsed.")
        if target.writer_id in endorsed:
            raise Refusal(f"Writer {target.writer_id[:16]} (installation "
                          f"{target.installation_id}) is already endorsed (row "
                          f"{endorsed[target.writer_id]}).")
        entry = self.record(ENDORSE_ACTION, {
            "writer": target.writer_id,
            "public_key": base64.b64encode(target.public_key).decode(),
            "installation_id": target.installation_id})
        return target, entry

    def _signature_check(self, anchor: AuditAnchor,
                         rows: list[StoredRow]) -> Callable[[StoredRow], str | None]:
        own = _private_key(anchor.key).public_key()
        keys: dict[str, tuple[int, Ed25519PublicKey]] = {anchor.writer: (0, own)}
        # Another writer is trusted only through a registration this log can prove (a shared
        # team log has them; a workstation's own log has none).
        if self.shared:
            keys = {**self._registrations(rows), **keys}

        return _signature_problem(keys)

    def _verify_as_reader(self, rows: list[StoredRow], signed_from: int) -> VerifyReport:
        keys = self._registrations(rows)
        dummy = AuditAnchor(self.installation_id, "", "", 0, GENESIS)
        problem = _signature_problem(keys)
        report = verify_chain(rows, ChainHead(0, GENESIS), signed_from=signed_from,
                              signature_problem=problem, own_writer="-")
        report.notes = [n for n in report.notes if "other registered writers" not in n]
        report.notes.append("This workstation has written nothing to this shared log yet: "
                            "it checks the chain and the other writers' signatures.")
        self._writer_notes(report, rows, dummy)
        self._endorsement_problems(report, rows)
        return report

    def _writer_notes(self, report: VerifyReport, rows: list[StoredRow],
                      anchor: AuditAnchor) -> None:
        """On a shared log: who writes it, so that an unexpected writer is seen (nothing to
        say while this workstation is its only writer)."""
        writers = self.repo.writers()
        if all(x.writer_id == anchor.writer for x in writers):
            return
        counts: dict[str, int] = {}
        for r in rows:
            counts[r.writer] = counts.get(r.writer, 0) + 1
        for x in writers:
            here = " (this workstation)" if x.writer_id == anchor.writer else ""
            report.notes.append(
                f"Writer {x.writer_id[:16]}{here}: installation {x.installation_id}, "
                f"registered {x.registered}, {counts.get(x.writer_id, 0)} record(s).")

    def verify(self) -> VerifyReport:
        rows = self.repo.rows()
        anchor = self._load_anchor()
        mark = self._load_mark()
        signed = [r.seq for r in rows if r.sig]
        if anchor is None and self.shared and signed:
            # A shared log this workstation has not written to yet: the other writers'
            # registrations and signatures, and the chain, are all it can check.
            report = self._verify_as_reader(rows, signed[0])
        elif anchor is None:
            # Not signed yet: a log from before signing (the migration starts signing at the
            # next record) or an empty new log.
            head_text = self.secrets.get_optional(self.head_entry)
            head = ChainHead.from_text(head_text) if head_text else None
            report = verify_chain(rows, head)
            if signed:
                report.problems.append(
                    f"Row {signed[0]} carries a writer signature but the OS keyring knows no "
                    f"installation {self.installation_id}: the rows were not written here, or "
                    "the installation id was changed."
                )
            elif rows:
                report.notes.append("Records are hash-chained only; signing starts with the "
                                    "next record.")
        else:
            report = verify_signed_log(rows, anchor, self._signature_check(anchor, rows))
            if self.shared:
                self._writer_notes(report, rows, anchor)
                self._endorsement_problems(report, rows)
            registered = self.repo.writer(anchor.writer)
            if rows and rows[-1].seq >= anchor.signed_from and (
                    registered is None
                    or registered.public_key != _public_raw(_private_key(anchor.key))):
                report.problems.append(
                    "This installation's writer key is not registered in the database as the "
                    "keyring records it: the writer registry was altered."
                )
        previous = None
        if mark is not None and mark.installation != self.installation_id:
            previous = self._load_anchor(mark.installation)
        folder_findings(report, mark, self.installation_id, previous, len(rows))
        for r in rows:
            if r.environment != self.environment.value:
                report.problems.append(
                    f"Row {r.seq} belongs to the {r.environment} environment, not "
                    f"{self.environment.value}: rows were copied between environments."
                )
        if self.pins is not None:
            self.pins.on_verify(rows, report)
        return report
