"""A key as one object with what depends on it (its CSRs, certificates and credentials), and
its end of life: archive (kept, no longer offered for new work) or delete (the private key is
destroyed), each with a reason and an audit record. Both are refused while a live certificate
or credential still depends on the key: destroying or retiring it would break that
certificate's use. Both faces call these functions."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.errors import InputError, Refusal
from smki_desktop.core.keys import ARCHIVED_FLAG, KeyInfo, KeyLocation
from smki_desktop.core.plain_text import check_plain
from smki_desktop.services.context import AppContext
from smki_desktop.services.keys import get_key
from smki_desktop.store.repos import keys as key_repo
from smki_desktop.store.repos.keys import DependentCert, DependentCsr

ARCHIVED = ARCHIVED_FLAG
#: acceptance statuses of a certificate that is not in use (the officer rejects it)
NOT_IN_USE = ("to-be-rejected", "rejected")


@dataclass(frozen=True)
class KeyObject:
    """A key, its CSRs, and the certificates and credentials issued for it."""

    key: KeyInfo
    csrs: tuple[DependentCsr, ...]
    certificates: tuple[DependentCert, ...]
    live: tuple[DependentCert, ...]  # those still in use (not expired, not rejected)

    def as_dict(self) -> dict[str, object]:
        return {"key_id": self.key.key_id, "label": self.key.label,
                "usage": self.key.usage.value, "flags": list(self.key.flags),
                "csrs": [vars(c) for c in self.csrs],
                "certificates": [vars(c) for c in self.certificates],
                "live": [c.serial for c in self.live]}


@dataclass(frozen=True)
class KeyRetired:
    key_id: str
    action: str  # "archive" | "delete"
    reason: str
    audit: AuditEntry
    # a deleted key's backups recorded in the audit log: each can still restore it
    backups: tuple[dict[str, Any], ...] = ()

    @property
    def warning(self) -> str:
        if not self.backups:
            return ""
        n = len(self.backups)
        where = "; ".join(f"{b['location']} ({b['kind']}, audit record {b['audit_seq']})"
                          for b in self.backups)
        return (f"{n} recorded backup{'s' if n != 1 else ''} of key {self.key_id[:16]} can "
                f"still restore it: {where}. Destroy {'them' if n != 1 else 'it'} (every "
                "copy, and every custodian's share) if the key must be gone for good.")

    def as_dict(self) -> dict[str, object]:
        d: dict[str, object] = {"key_id": self.key_id, "action": self.action,
                                "reason": self.reason, "audit_seq": self.audit.seq}
        if self.action == "delete":
            d["backups"] = [dict(b) for b in self.backups]
            d["warning"] = self.warning
        return d


def _live(certs: list[DependentCert], now: datetime) -> list[DependentCert]:
    out = []
    for c in certs:
        if c.status in NOT_IN_USE:
            continue
        try:
            expired = bool(c.not_after) and datetime.fromisoformat(c.not_after) <= now
        except ValueError:
            expired = False
        if not expired:
            out.append(c)
    return out


def _own_dates(c: DependentCert) -> DependentCert:
    """`c` with the notAfter of its certificate, not of the column beside it (which anyone who
    can write the store could move, to keep a key from being deleted or to let one go)."""
    from cryptography import x509  # (the Keys page imports this module at start)

    try:
        na = x509.load_der_x509_certificate(c.der).not_valid_after_utc.isoformat()
    except ValueError:
        return c
    return replace(c, not_after=na)


def key_object(ctx: AppContext, ref: str) -> KeyObject:
    info = get_key(ctx, ref)
    env = ctx.env.value
    from smki_desktop.services.key_vouched import recorded_credentials

    rows = key_repo.certificates_for_key(ctx.db, env, info.key_id)
    # a credential its proven import record names this key's counts, wherever its row points
    seen = {(c.kind, c.serial) for c in rows}
    rows += [c for c in recorded_credentials(ctx, info.key_id) if (c.kind, c.serial) not in seen]
    certs = [_own_dates(c) for c in rows]
    return KeyObject(info, tuple(key_repo.csrs_for_key(ctx.db, env, info.key_id)),
                     tuple(certs), tuple(_live(certs, ctx.clock.now())))


def check_reason(reason: str, act: str) -> str:
    """The reason a key is archived or deleted (`act`), recorded in the audit log; the
    Archive… and Delete… dialogs check it before they close, with this function."""
    if not reason.strip():
        raise InputError(f"Reason: say why the key is {act}d (it goes into the audit log).",
                         hint="field.reason")
    return reason.strip()


def _check(ctx: AppContext, ref: str, reason: str, act: str) -> KeyObject:
    check_reason(reason, act)
    obj = key_object(ctx, ref)
    if obj.live:
        listed = "; ".join(f"{c.kind} serial {c.serial}"
                           + (f" valid until {c.not_after[:10]}" if c.not_after else "")
                           for c in obj.live[:5])
        raise Refusal(f"Key {obj.key.short_id} ({obj.key.label}) cannot be {act}d: a live "
                      f"certificate depends on it ({listed}). Rule: a key stays while a "
                      "certificate or credential issued for it is in use; revoke it or let "
                      "it expire first.")
    return obj


def _refuse_pending(ctx: AppContext, info: KeyInfo) -> None:
    """A key whose CSR waits at the DCC is not deleted: the DCC would issue a certificate for a
    key that no longer exists. Withdrawn or failed requests do not count."""
    from smki_desktop.services.key_pending import pending_csrs

    waiting = pending_csrs(ctx, info.key_id)
    if waiting:
        listed = "; ".join(f"request {p.ref} ({p.state}"
                           + (f", DCC status {p.server_status}" if p.server_status else "") + ")"
                           for p in waiting[:5])
        raise Refusal(f"Key {info.short_id} ({info.label}) cannot be deleted: its CSR is still "
                      f"with the DCC ({listed}). Rule: a key stays while the DCC may still "
                      "issue a certificate for it; wait for its answer (a request the DCC "
                      "rejected or that failed no longer holds the key).")


@dataclass(frozen=True)
class KeyRelabelled:
    key_id: str
    old: str
    label: str
    audit: AuditEntry

    def as_dict(self) -> dict[str, object]:
        return {"key_id": self.key_id, "old_label": self.old, "label": self.label,
                "audit_seq": self.audit.seq}


def check_label(label: str) -> str:
    """A key's label, spaces tidied (the Relabel… dialog checks it before it closes)."""
    try:
        check_plain(label, "Label")
    except InputError as exc:
        raise InputError(exc.message, hint="field.label") from None
    new = " ".join(label.split())
    if not new:
        raise InputError("Label: give the key a label.", hint="field.label")
    if len(new) > 120:
        raise InputError("Label: at most 120 characters.", hint="field.label")
    return new


def relabel_key(ctx: AppContext, ref: str, label: str) -> KeyRelabelled:
    """A new label for a key (what it is for, in the officer's words); the id never changes."""
    new = check_label(label)
    info = get_key(ctx, ref)
    with ctx.audit.change():
        key_repo.set_label(ctx.db, ctx.env.value, info.key_id, new)
        entry = ctx.audit.record("key.relabel", {"key_id": info.key_id, "from": info.label,
                                                 "to": new})
    return KeyRelabelled(info.key_id, info.label, new, entry)


def archive_key(ctx: AppContext, ref: str, reason: str) -> KeyRetired:
    """Keep the key but mark it archived: it is no longer offered for new work."""
    obj = _check(ctx, ref, reason, "archive")
    info = obj.key
    if ARCHIVED in info.flags:
        raise Refusal(f"Key {info.short_id} is already archived.")
    with ctx.audit.change():
        key_repo.set_flags(ctx.db, ctx.env.value, info.key_id, (*info.flags, ARCHIVED))
        entry = ctx.audit.record("key.archive", {"key_id": info.key_id, "label": info.label,
                                                 "reason": reason.strip()})
    return KeyRetired(info.key_id, "archive", reason.strip(), entry)


def delete_key(ctx: AppContext, ref: str, reason: str) -> KeyRetired:
    """Destroy the private key (its encrypted file and its keyring entry); its public key and
    history stay in the audit log."""
    obj = _check(ctx, ref, reason, "delete")
    info = obj.key
    _refuse_pending(ctx, info)
    from smki_desktop.services.key_vouched import refuse_unproven_location

    refuse_unproven_location(ctx, info)  # a token key's row edited to say "OS keyring"
    if info.location is not KeyLocation.OS_KEYRING:
        raise Refusal(f"Key {info.short_id} is on a token: delete it with the token's own "
                      "tools (the token owns its keys).")
    # the row's removal and its record: one transaction (the keyring entry and the file go
    # first, inside it: a kill before the commit leaves the row of a key that no longer
    # opens, never a recorded deletion of a key still there)
    with ctx.audit.change():
        ctx.keystore.delete(info.key_id)
        entry = ctx.audit.record("key.delete", {"key_id": info.key_id, "label": info.label,
                                                "usage": info.usage.value,
                                                "reason": reason.strip()},
                                 {"public_key": info.public_key_der})
    from smki_desktop.services import key_backup  # (shamir, PDF: loaded when used)

    return KeyRetired(info.key_id, "delete", reason.strip(), entry,
                      tuple(key_backup.recorded_backups(ctx, info.key_id)))
