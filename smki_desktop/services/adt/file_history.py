"""A file's history (signings, SRO confirmations, delivery packages) and the list of signed
files, from the ADT repository."""

from __future__ import annotations

import json
from typing import Any

from smki_desktop.crypto.cms import hash_file
from smki_desktop.services.context import AppContext
from smki_desktop.store.repos import adt as adt_repo


def history(ctx: AppContext, path_or_sha: str) -> list[dict[str, Any]]:
    """Signing, confirmation and delivery events for a file's content (by path or SHA-256):
    a copy of a signed file has its events too, each naming the file it was recorded for (a
    signing's `path`, a confirmation's `document`, a delivery's `package`)."""
    sha = path_or_sha.lower()
    if not (len(sha) == 64 and all(ch in "0123456789abcdef" for ch in sha)):
        sha = hash_file(path_or_sha).hex()
    env = ctx.env.value
    events: list[dict[str, Any]] = []
    for f in adt_repo.files_with_sha(ctx.db, env, sha):
        # by content: `path` is where that signing was made, which may be another file
        events.append({"at": f.signed_at, "event": "signed", "path": f.path, "kind": f.kind,
                       "signer": f.signer_subject, "smsr_reference": f.smsr_reference,
                       "signature": f.signature_path, "audit_seq": f.audit_seq})
    for c in adt_repo.confirmations_of(ctx.db, env, sha):
        events.append({"at": c.confirmed_at, "event": f"sro-{c.decision}", "sro": c.sro,
                       "resubmitter": c.resubmitter, "document": c.document_path,
                       "audit_seq": c.audit_seq})
    for d in adt_repo.deliveries_of(ctx.db, env, sha):
        events.append({"at": d.created, "event": "delivered", "package": d.package_path,
                       "sent_to": d.sent_to, "audit_seq": d.audit_seq})
    return sorted(events, key=lambda e: (e["at"], e["audit_seq"] or 0))


def signed_files(ctx: AppContext, kind: str | None = None) -> list[dict[str, Any]]:
    """This environment's signed files (newest first), each as the table's columns."""
    return [f.as_dict() for f in adt_repo.signed_files(ctx.db, ctx.env.value, kind)]


def as_json(obj: Any) -> str:
    return json.dumps(obj, indent=2, sort_keys=True, default=str)
