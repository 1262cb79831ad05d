"""Is a value in the store vouched for by a verified audit record? A setting kept in a store
table (the portal endpoint, its pinned trust anchor) can be rewritten by anyone who can write
the store but not use this workstation's OS keyring (the threat of services/audit.py): such a
person cannot sign an audit record. So the value is used only when it matches the last record
of the action that sets it, and that record is authentic: its hash is its content's, and it is
signed by this workstation's own writer key (from the keyring) or, on a team store, by a
writer the log registered and an endorsed writer vouched for (docs/team-audit.md).

Cheap on purpose (it runs before each connection): it reads the last record of the action and
the writers' registration and endorsement records, never the whole log. Only the record itself
is checked; a log whose newer rows were removed or altered is what the audit log's own
verification reports.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from smki_desktop.core.audit import entry_hash, signing_payload
from smki_desktop.services.audit import (
    ENDORSE_ACTION,
    REGISTER_ACTION,
    AuditLog,
    _json_dict,
    _private_key,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


@dataclass(frozen=True)
class LastRecord:
    """The last record of an action in this environment's log, and whether it is vouched for:
    `problem` is None for an authentic record of a trusted writer, else why it is not."""

    seq: int
    details: dict[str, Any]
    artifacts: dict[str, Any]
    problem: str | None

    @property
    def vouched(self) -> bool:
        return self.problem is None


def _trusted_keys(audit: AuditLog) -> dict[str, tuple[int, Ed25519PublicKey]]:
    """The writers whose signature vouches for a record (writer -> (first row it may sign,
    public key)): this workstation's own (its key is in the keyring) and, on a team store,
    every writer registered by a record its own key signed and endorsed by an endorsed
    writer. Someone with the store's password alone can register a key but not endorse it."""
    keys: dict[str, tuple[int, Ed25519PublicKey]] = {}
    if audit.shared:
        rows = audit.repo.of_actions((REGISTER_ACTION, ENDORSE_ACTION))
        regs = audit._registrations(rows)
        for writer in audit._endorsed(rows, regs):
            keys[writer] = regs[writer]
    anchor = audit._anchor or audit._load_anchor()
    if anchor is not None and anchor.key:
        keys[anchor.writer] = (0, _private_key(anchor.key).public_key())
    return keys


def last_record(audit: AuditLog, action: str) -> LastRecord | None:
    """The last record of `action` in `audit`'s environment (None if there is none), checked:
    its content hashes to its hash, and a trusted writer signed that hash. A record that fails
    is returned with the reason, never passed over for an earlier one (hiding the newest
    record must not bring an older setting back)."""
    from cryptography.exceptions import InvalidSignature

    row = audit.repo.last_of(action, audit.environment.value)
    if row is None:
        return None
    details, artifacts = _json_dict(row.details_json), _json_dict(row.artifacts_json)

    def result(problem: str | None) -> LastRecord:
        return LastRecord(row.seq, details, artifacts, problem)

    if entry_hash(row.prev_hash, row.seq, row.ts, row.environment, row.actor, row.action,
                  row.details_json, row.artifacts_json) != row.hash:
        return result(f"audit record {row.seq} was altered after it was written")
    if not row.writer or not row.sig:
        return result(f"audit record {row.seq} carries no writer signature (it predates "
                      "signed audit records)")
    keys = _trusted_keys(audit)
    if row.writer not in keys:
        return result(f"audit record {row.seq} is signed by writer {row.writer[:16]}, which is "
                      "neither this workstation nor an endorsed writer of the log")
    since, pub = keys[row.writer]
    if row.seq < since:
        return result(f"audit record {row.seq} is signed by writer {row.writer[:16]} before "
                      f"it registered (row {since})")
    try:
        pub.verify(base64.b64decode(row.sig, validate=True),
                   signing_payload(row.hash, row.writer))
    except (InvalidSignature, ValueError):
        return result(f"audit record {row.seq} has a signature that does not match it")
    return result(None)
