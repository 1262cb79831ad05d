"""`adt sign` and `adt verify` check their audit proofs (the validation receipt, the trust
anchors, the portal endpoint's anchor) against one reading of the keyring's audit anchor per
action (issue 15: each read is a D-Bus round trip), and every check still holds: a log cut
after the action is seen by the next one. Real keyring, SQLite on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from smki_desktop.services import adt as adt_service
from smki_desktop.services.vouched import LogCut
from tests.integration.adt_support import make_aro
from tests.support.raw_store import drop_audit_guards, open_raw

ROW = "90-B3-D5-1F-30-01-00-{n:02X},IS,ALL,DAY,{w},250000\r\n"
HEADER = ("User ID,User Role,Service Request Type,Period,User Warning Threshold,"
          "User Quarantine Threshold\r\n")


def _file(tmp_path: Path) -> Path:
    f = tmp_path / "adt.csv"
    f.write_text(HEADER + "".join(ROW.format(n=i, w=100000 + i) for i in range(5)),
                 newline="")
    return f


def _anchor_reads(ctx, monkeypatch: pytest.MonkeyPatch) -> list[str]:  # type: ignore[no-untyped-def]
    reads: list[str] = []
    real = ctx.audit.secrets.get_optional

    def counting(name: str) -> str | None:
        if name == ctx.audit.anchor_entry:
            reads.append(name)
        return real(name)

    monkeypatch.setattr(ctx.audit.secrets, "get_optional", counting)
    return reads


def test_sign_and_verify_read_the_audit_anchor_once_for_their_proofs(
        ctx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    aro = make_aro(ctx, tmp_path)
    f = _file(tmp_path)
    assert adt_service.validate_file(ctx, f).ok
    reads = _anchor_reads(ctx, monkeypatch)
    res = adt_service.sign_file(ctx, f, aro.key.key_id)
    assert str(res.audit.details["validation"]).startswith("validated before")  # receipt proven
    # one reading for the receipt's, the anchors' and the endpoint's proofs, and the writer's
    # own (fresh, under its lock) for the adt.sign record (main read once per proof: 3 here)
    assert len(reads) == 2
    reads.clear()
    assert adt_service.verify_file(ctx, f).sha256 == res.sha256
    assert len(reads) == 1


def test_a_log_cut_after_an_action_is_seen_by_the_next(
        ctx, tmp_path: Path, data_root: Path) -> None:  # type: ignore[no-untyped-def]
    aro = make_aro(ctx, tmp_path)
    f = _file(tmp_path)
    res = adt_service.sign_file(ctx, f, aro.key.key_id)
    adt_service.verify_file(ctx, f)
    # the head the keyring holds (the adt.sign record) is taken off the end of the log by
    # someone who can write the store
    c = open_raw(data_root, "test")
    try:
        drop_audit_guards(c)
        c.execute("DELETE FROM audit_log WHERE seq=?", (res.audit.seq,))
        c.commit()
    finally:
        c.close()
    with pytest.raises(LogCut, match="audit log was cut"):
        adt_service.verify_file(ctx, f)


def test_sign_and_verify_replay_the_register_log_once(
        ctx, cli_run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    """Each action replays the signed register log (every entry's signature checked) once:
    `adt verify` makes it before waiting for the file's digest and its signer check uses it."""
    from smki_desktop.core.party import OfficerProfile, OfficerRole
    from smki_desktop.services import officers
    from smki_desktop.services.party import set_officer
    from tests.integration.adt_support import active_aro, officer_signing_key
    from tests.integration.test_officer_cli import make_active_sro

    sro = make_active_sro(cli_run, tmp_path, "Sam Sro")
    aro = active_aro(cli_run, tmp_path, sro, "Ann Officer", "Sam Sro", ctx=ctx)
    key = officer_signing_key(ctx, cli_run, aro)
    set_officer(ctx, OfficerProfile("Ann Officer", OfficerRole.ARO, "ann@example.com",
                                    register_id=aro))
    f = _file(tmp_path)
    replays: list[int] = []
    real = officers._replay_all

    def counting(c):  # type: ignore[no-untyped-def]
        replays.append(1)
        return real(c)

    monkeypatch.setattr(officers, "_replay_all", counting)
    res = adt_service.sign_file(ctx, f, key)
    assert len(replays) == 1 and res.warnings == ()
    replays.clear()
    checked = adt_service.verify_file(ctx, f)
    assert len(replays) == 1 and checked.warnings == ()
