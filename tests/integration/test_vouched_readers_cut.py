"""The trust anchors and the officer register read what the audit log vouches for; when the log
was cut (a record deleted in the middle, this workstation's own last records deleted) they must
say so, as the endpoint and the expiry window do ("the audit log was cut ..."), naming what was
cut, instead of quietly showing fewer anchors, or officers no longer active.

The real services on a real store (SQLite file or PostgreSQL team store); the attacker's edits
through a raw connection with the audit log's guards dropped."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding

from smki_desktop.core.errors import Refusal
from smki_desktop.services import register_view, trust
from tests.integration.adt_support import active_aro, signing_sro
from tests.integration.test_audit_vouched_holes import _ca, _Raw

pytestmark = pytest.mark.both_backends


def _delete(data_root: Path, seq: int) -> None:
    with _Raw(data_root) as c:
        c.execute("DELETE FROM audit_log WHERE seq=?", (seq,))


def test_a_gap_after_a_trust_anchors_record_is_refused_not_an_anchor_fewer(  # type: ignore[no-untyped-def]
        ctx, data_root: Path) -> None:
    fp, added = trust.add_trust_anchor(ctx, _ca("team CA"))
    assert added is not None
    middle = ctx.audit.record("party.update", {"n": 1})
    ctx.audit.record("party.update", {"n": 2})
    assert [c.fingerprint(hashes.SHA256()).hex() for c in trust.officer_anchors(ctx)] == [fp]
    _delete(data_root, middle.seq)
    with pytest.raises(Refusal) as got:
        trust.officer_anchors(ctx)
    message = got.value.message
    assert "audit log was cut" in message and f"row {middle.seq + 1}" in message, message
    with pytest.raises(Refusal):
        trust.unvouched_anchors(ctx)
    # adding the anchor again vouches for it after the cut: it counts again
    trust.add_trust_anchor(ctx, _pem(ctx, fp))
    assert [c.fingerprint(hashes.SHA256()).hex() for c in trust.officer_anchors(ctx)] == [fp]


def _pem(ctx, fp: str) -> bytes:  # type: ignore[no-untyped-def]
    cert = next(c for c in trust.trust_anchors(ctx) if c.fingerprint(hashes.SHA256()).hex() == fp)
    return cert.public_bytes(Encoding.PEM)


def test_the_last_records_deleted_refuse_the_trust_anchors(ctx, data_root: Path) -> None:  # type: ignore[no-untyped-def]
    _fp, added = trust.add_trust_anchor(ctx, _ca("team CA"))
    assert added is not None
    last = ctx.audit.record("party.update", {"n": 1})
    _delete(data_root, last.seq)
    with pytest.raises(Refusal) as got:
        trust.officer_anchors(ctx)
    message = got.value.message
    assert "audit log was cut" in message and f"row {last.seq}" in message, message


def test_a_gap_refuses_the_officer_register_instead_of_dropping_an_activation(  # type: ignore[no-untyped-def]
        ctx, cli_run, tmp_path: Path, data_root: Path) -> None:
    sro, sro_key = signing_sro(ctx, cli_run, tmp_path, "Sid Signer")
    aro = active_aro(cli_run, tmp_path, sro, sro_name="Sid Signer", sro_key=sro_key)
    before = register_view.register(ctx)
    assert {o.officer_id: o.status.value for o in before.officers}[aro] == "active"
    middle = ctx.audit.record("party.update", {"n": 1})
    ctx.audit.record("party.update", {"n": 2})
    _delete(data_root, middle.seq)
    with pytest.raises(Refusal) as got:
        register_view.register(ctx)
    message = got.value.message
    assert "audit log was cut" in message and f"row {middle.seq + 1}" in message, message
