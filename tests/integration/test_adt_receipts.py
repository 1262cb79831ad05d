"""Validated-digest receipts (issue 15): signing a file validated before does not validate its
rows again (the `adt.sign` audit record says which way it went); a changed byte, another
profile version, other Party ranges or the other environment means validating again, and an
invalid file is refused. Real keyring, SQLite on disk, OpenSSL verifying every signature."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smki_desktop.core.adt.profile import Profile
from smki_desktop.core.adt.validate import ValidationReport
from smki_desktop.core.errors import InputError, Refusal
from smki_desktop.core.eui import EuiRange
from smki_desktop.core.party import PartyProfile, PartyType
from smki_desktop.services import adt as adt_service
from smki_desktop.services import adt_receipts
from smki_desktop.services.adt import sign as adt_sign
from smki_desktop.services.party import set_party
from smki_desktop.store.repos.adt_receipts import AdtReceiptsRepo
from tests.integration.adt_support import assert_openssl_ok, link_live_aro, make_aro

ROW = "90-B3-D5-1F-30-01-00-{n:02X},IS,ALL,DAY,{w},250000\r\n"
HEADER = ("User ID,User Role,Service Request Type,Period,User Warning Threshold,"
          "User Quarantine Threshold\r\n")


def _file(tmp_path: Path, name: str = "adt.csv", rows: int = 20) -> Path:
    f = tmp_path / name
    f.write_text(HEADER + "".join(ROW.format(n=i, w=100000 + i) for i in range(rows)),
                 newline="")
    return f


def _validation(res: adt_service.SignResult) -> tuple[str, object]:
    d = res.audit.details
    return str(d["validation"]), d["validation_receipt"]


def _count_validations(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Record every full validation of a file the ADT service makes (the real one runs)."""
    seen: list[Path] = []
    real = adt_service.validate_file_hashed

    def counting(ctx, path, *a, **kw):  # type: ignore[no-untyped-def]
        seen.append(Path(path))
        return real(ctx, path, *a, **kw)

    # the package re-exports it; signing looks it up where it is used (services/adt/sign.py)
    monkeypatch.setattr(adt_service, "validate_file_hashed", counting)
    monkeypatch.setattr(adt_sign, "validate_file_hashed", counting)
    return seen


def test_sign_of_validated_file_uses_the_receipt(ctx, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    aro = make_aro(ctx, tmp_path)
    f = _file(tmp_path)
    report = adt_service.validate_file(ctx, f)  # what `smki adt validate` and the GUI call
    assert report.ok and report.row_count == 20
    sha, size = adt_receipts.file_digest(f)
    receipt = adt_receipts.find(ctx, sha, size, adt_service.active_profile(ctx),
                                adt_service.party_ranges(ctx))
    assert receipt is not None and receipt.row_count == 20 and receipt.environment == "test"
    assert receipt.key.profile_version == "2"

    validations = _count_validations(monkeypatch)
    res = adt_service.sign_file(ctx, f, aro.key.key_id)
    how, rid = _validation(res)
    assert how == f"validated before at {receipt.validated_at}, receipt {receipt.id}"
    assert rid == receipt.id
    assert validations == []  # the rows were not read again
    assert res.sha256 == sha and res.size == size
    assert res.manifest_data.profile == "smki-desktop-adt/2"
    assert_openssl_ok(f, res.signature, aro.root_pem)
    assert adt_service.verify_file(ctx, f).sha256 == sha


def test_sign_without_receipt_validates_and_records_one(ctx, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    aro = make_aro(ctx, tmp_path)
    f = _file(tmp_path)
    validations = _count_validations(monkeypatch)
    first = adt_service.sign_file(ctx, f, aro.key.key_id)
    assert _validation(first) == ("validated now", None)
    assert validations == [f]
    # signing recorded a receipt: signing the same bytes again does not validate them again
    again = adt_service.sign_file(ctx, f, aro.key.key_id, overwrite=True)
    how, rid = _validation(again)
    assert how.startswith("validated before at ") and isinstance(rid, int)
    assert validations == [f]
    assert_openssl_ok(f, again.signature, aro.root_pem)


def test_changed_byte_is_validated_again_and_refused_if_invalid(ctx, tmp_path: Path  # type: ignore[no-untyped-def]
                                                                ) -> None:
    aro = make_aro(ctx, tmp_path)
    f = _file(tmp_path)
    assert adt_service.validate_file(ctx, f).ok
    data = f.read_bytes()
    # one byte: a warning threshold above its quarantine threshold (same size, still CSV)
    bad = data.replace(b",100005,250000", b",900005,250000")
    assert len(bad) == len(data) and bad != data
    f.write_bytes(bad)
    with pytest.raises(InputError, match="warning-above-quarantine"):
        adt_service.sign_file(ctx, f, aro.key.key_id)
    assert not (tmp_path / "adt.csv.p7s").exists()
    # no receipt for the invalid bytes
    sha, size = adt_receipts.file_digest(f)
    assert adt_receipts.find(ctx, sha, size, adt_service.active_profile(ctx),
                             adt_service.party_ranges(ctx)) is None
    # a changed byte that keeps the file valid: validated now, then signed
    f.write_bytes(data.replace(b",100005,250000", b",100006,250000"))
    res = adt_service.sign_file(ctx, f, aro.key.key_id)
    assert _validation(res) == ("validated now", None)
    assert_openssl_ok(f, res.signature, aro.root_pem)


def test_receipt_of_another_profile_version_or_party_ranges_is_not_used(  # type: ignore[no-untyped-def]
        ctx, tmp_path: Path) -> None:
    aro = make_aro(ctx, tmp_path)
    f = _file(tmp_path)
    assert adt_service.validate_file(ctx, f).ok  # under version 2, the active one
    adt_service.use_profile(ctx, "adt-file", "1")
    res = adt_service.sign_file(ctx, f, aro.key.key_id)
    assert _validation(res) == ("validated now", None)
    assert res.manifest_data.profile == "smki-desktop-adt/1"
    # the Party's ranges change: the User IDs must be checked against the new ones
    party = ctx.party()
    set_party(ctx, PartyProfile(party.name, party.party_id, PartyType.IMPORT_SUPPLIER,
                                (*party.eui_ranges,
                                 EuiRange.parse("90-B3-D5-1F-30-02-00-00..90-B3-D5-1F-30-02-FF-FF"))
                                ))
    res = adt_service.sign_file(ctx, f, aro.key.key_id, overwrite=True)
    assert _validation(res) == ("validated now", None)
    # ranges that no longer hold the file's User IDs: validated again, and refused
    set_party(ctx, PartyProfile(party.name, party.party_id, PartyType.IMPORT_SUPPLIER,
                                (EuiRange.parse("90-B3-D5-1F-30-02-00-00..90-B3-D5-1F-30-02-FF-FF"),
                                 )))
    with pytest.raises(InputError, match="not-party-eui"):
        adt_service.sign_file(ctx, f, aro.key.key_id, overwrite=True)


def test_receipt_of_the_other_environment_is_not_used(ctx, live_ctx, cli_run,  # type: ignore[no-untyped-def]
                                                      tmp_path: Path) -> None:
    make_aro(ctx, tmp_path / "t")
    # the Live credential names the Live ARO's register entry, which holds the key
    live_aro = make_aro(live_ctx, tmp_path / "l", register_id="ARO-0001")
    assert link_live_aro(live_ctx, cli_run, tmp_path, live_aro.key.key_id) == "ARO-0001"
    f = _file(tmp_path)
    # validated in Test, with the same profile and the same Party ranges as in Live
    assert adt_service.validate_file(ctx, f).ok
    assert ctx.party().eui_ranges == live_ctx.party().eui_ranges
    sha, size = adt_receipts.file_digest(f)
    prof = adt_service.active_profile(live_ctx)
    assert adt_receipts.find(ctx, sha, size, prof, adt_service.party_ranges(ctx)) is not None
    assert adt_receipts.find(live_ctx, sha, size, prof,
                             adt_service.party_ranges(live_ctx)) is None
    res = adt_service.sign_file(live_ctx, f, live_aro.key.key_id)
    assert _validation(res) == ("validated now", None)
    assert res.audit.environment == "live"
    assert_openssl_ok(f, res.signature, live_aro.root_pem)
    # now Live has its own receipt, and uses it
    again = adt_service.sign_file(live_ctx, f, live_aro.key.key_id, overwrite=True)
    assert _validation(again)[0].startswith("validated before at ")
    # even a Test-environment row in the Live database would not be read by Live
    AdtReceiptsRepo(live_ctx.db, "test").record(
        adt_receipts.receipt_key("0" * 64, 1, prof, None), 1, 0, "2026-12-04T00:00:00+00:00")
    assert AdtReceiptsRepo(live_ctx.db, "live").find(
        adt_receipts.receipt_key("0" * 64, 1, prof, None)) is None


def test_cli_validate_then_sign_uses_the_receipt(ctx, cli_run, tmp_path: Path  # type: ignore[no-untyped-def]
                                                 ) -> None:
    aro = make_aro(ctx, tmp_path)
    f = _file(tmp_path)
    r = cli_run("adt", "validate", str(f), "--json")
    assert r.code == 0, r.err
    r = cli_run("adt", "sign", str(f), "--key", aro.key.key_id, "--json")
    assert r.code == 0, r.err
    entry = ctx.audit.entries(action_prefix="adt.sign")[-1]
    assert str(entry.details["validation"]).startswith("validated before at ")
    assert isinstance(entry.details["validation_receipt"], int)
    r = cli_run("adt", "verify", str(f), "--json")
    assert r.code == 0 and r.json()["valid"] is True


def test_invalid_report_records_no_receipt(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    prof = adt_service.active_profile(ctx)
    assert adt_receipts.record(ctx, ValidationReport(profile=prof, error_count=1), "a" * 64, 1,
                               None) is None
    assert adt_receipts.find(ctx, "a" * 64, 1, prof, None) is None


def test_cli_sign_and_verify_of_a_large_file_use_the_early_digest(  # type: ignore[no-untyped-def]
        ctx, cli_run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A file above digest_prefetch.MIN_SIZE: `smki adt sign` and `verify` hash it on the helper
    thread (its digest is taken, not recomputed) and OpenSSL verifies the signature."""
    from smki_desktop.services import digest_prefetch

    aro = make_aro(ctx, tmp_path)
    f = tmp_path / "big.csv"
    eui = "90-B3-D5-1F-30-01-{:02X}-{:02X},{},{},{},{},{}\r\n"
    roles, srts = ("IS", "ES", "GS", "ED"), ("ALL", "1.1.1", "6.15.1", "4.1.1")
    rows = [eui.format(i >> 8 & 0xFF, i & 0xFF, r, s, p, 1000 + i % 500, 9000)
            for i in range(4096) for r in roles for s in srts for p in ("DAY", "HOUR")]
    f.write_text(HEADER + "".join(rows), newline="")
    assert f.stat().st_size > digest_prefetch.MIN_SIZE
    assert cli_run("adt", "validate", str(f)).code == 0
    taken: list[bytes | None] = []
    real_take = digest_prefetch.take

    def take(path):  # type: ignore[no-untyped-def]
        taken.append(real_take(path))
        return taken[-1]

    monkeypatch.setattr(digest_prefetch, "take", take)
    r = cli_run("adt", "sign", str(f), "--key", aro.key.key_id, "--json")
    assert r.code == 0, r.err
    assert len(taken) == 1 and taken[0] is not None
    assert taken[0].hex() == r.json()["sha256"]
    assert_openssl_ok(f, tmp_path / "big.csv.p7s", aro.root_pem)
    r = cli_run("adt", "verify", str(f), "--json")
    assert r.code == 0 and r.json()["valid"] is True, r.err
    assert len(taken) == 2 and taken[1] == taken[0]
    entry = ctx.audit.entries(action_prefix="adt.sign")[-1]
    assert str(entry.details["validation"]).startswith("validated before at ")


def test_receipt_of_rules_changed_under_the_same_version_is_not_used(  # type: ignore[no-untyped-def]
        ctx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A profile corrected in place (same id and version, other rules: here a tighter
    row limit) is not the profile the receipt's verdict came from: validated again."""
    aro = make_aro(ctx, tmp_path)
    f = _file(tmp_path)
    assert adt_service.validate_file(ctx, f).ok
    shipped = adt_service.active_profile(ctx)
    changed = json.loads(json.dumps(shipped.raw))
    changed["max_rows"] = 50_000
    corrected = Profile.from_json(json.dumps(changed).encode(), "corrected")
    assert (corrected.profile_id, corrected.version) == (shipped.profile_id, shipped.version)
    monkeypatch.setattr(adt_sign, "active_profile", lambda _ctx, _kind="adt-file": corrected)
    res = adt_service.sign_file(ctx, f, aro.key.key_id)
    assert _validation(res) == ("validated now", None)
    # the same rules, parsed again from other bytes (keys in another order): the receipt holds
    same = Profile.from_json(json.dumps(shipped.raw, sort_keys=True, indent=4).encode(), "same")
    monkeypatch.setattr(adt_sign, "active_profile", lambda _ctx, _kind="adt-file": same)
    res = adt_service.sign_file(ctx, f, aro.key.key_id, overwrite=True)
    assert _validation(res)[0].startswith("validated before at ")


INVALID = (HEADER + "00-00-00-00-00-00-00-01,IS,ALL,DAY,=cmd|' /C calc'!A0,5\r\n"
           "junk,,,,\r\n")


def test_forged_receipt_row_does_not_get_an_invalid_file_signed(  # type: ignore[no-untyped-def]
        ctx, tmp_path: Path) -> None:
    """A receipt row inserted into the store (its key computed from public inputs) is not
    trusted: no audit record the log proves vouches for it, so the file is validated again."""
    aro = make_aro(ctx, tmp_path)
    f = tmp_path / "evil.csv"
    f.write_text(INVALID, newline="")
    sha, size = adt_receipts.file_digest(f)
    key = adt_receipts.receipt_key(sha, size, adt_service.active_profile(ctx),
                                   adt_service.party_ranges(ctx))
    repo = AdtReceiptsRepo(ctx.db, ctx.env.value)
    repo.record(key, 1, 0, "2026-01-01T00:00:00+00:00")  # no audit record at all
    assert adt_receipts.find(ctx, sha, size, adt_service.active_profile(ctx),
                             adt_service.party_ranges(ctx)) is None
    with pytest.raises(InputError, match="not-party-eui"):
        adt_service.sign_file(ctx, f, aro.key.key_id)
    # pointing at a genuine `adt.validate` record (of another file) does not help either
    good = _file(tmp_path, "good.csv")
    adt_service.validate_file(ctx, good)
    genuine = ctx.audit.entries(action_prefix="adt.validate")[0]
    repo.record(key, 1, 0, "2026-01-01T00:00:00+00:00", genuine.seq)
    with pytest.raises(InputError, match="not-party-eui"):
        adt_service.sign_file(ctx, f, aro.key.key_id)
    # nor at another action's record
    other = ctx.audit.entries(limit=1)[0]
    repo.record(key, 1, 0, "2026-01-01T00:00:00+00:00", other.seq)
    with pytest.raises(InputError, match="not-party-eui"):
        adt_service.sign_file(ctx, f, aro.key.key_id)
    assert not (tmp_path / "evil.csv.p7s").exists()
    assert not ctx.audit.entries(action_prefix="adt.sign")


def test_receipt_whose_audit_record_was_altered_is_not_used(  # type: ignore[no-untyped-def]
        ctx, data_root: Path, tmp_path: Path) -> None:
    """The `adt.validate` record vouching for a receipt altered in the store (to name another
    file's key): the log does not prove it, the file is validated again."""
    from tests.support.raw_store import drop_audit_guards, open_raw

    f = tmp_path / "evil.csv"
    f.write_text(INVALID, newline="")
    sha, size = adt_receipts.file_digest(f)
    prof, ranges = adt_service.active_profile(ctx), adt_service.party_ranges(ctx)
    key = adt_receipts.receipt_key(sha, size, prof, ranges)
    good = _file(tmp_path, "good.csv")
    adt_service.validate_file(ctx, good)
    genuine = ctx.audit.entries(action_prefix="adt.validate")[0]
    details = json.dumps({**genuine.details, "receipt": adt_receipts.key_digest(key)},
                         sort_keys=True)
    AdtReceiptsRepo(ctx.db, ctx.env.value).record(key, 1, 0, "2026-01-01T00:00:00+00:00",
                                                  genuine.seq)
    raw = open_raw(data_root)
    drop_audit_guards(raw)
    raw.execute("UPDATE audit_log SET details=?, artifacts=? WHERE seq=?",
                (details, json.dumps({"file": sha}), genuine.seq))
    raw.commit()
    raw.close()
    assert adt_receipts.find(ctx, sha, size, prof, ranges) is None
    assert not adt_service.validate_file(ctx, f).ok


def test_receipt_check_is_one_record_not_the_log(ctx, tmp_path: Path  # type: ignore[no-untyped-def]
                                                 ) -> None:
    """Using a receipt reads its one audit record: the cost does not grow with the log."""
    import time

    f = _file(tmp_path)
    adt_service.validate_file(ctx, f)
    sha, size = adt_receipts.file_digest(f)
    prof, ranges = adt_service.active_profile(ctx), adt_service.party_ranges(ctx)
    for i in range(300):  # a longer log
        ctx.audit.record("test.filler", {"i": i})
    t0 = time.perf_counter()
    for _ in range(20):
        assert adt_receipts.find(ctx, sha, size, prof, ranges) is not None
    per = (time.perf_counter() - t0) / 20
    print(f"receipt check: {per * 1000:.2f} ms")
    assert per < 0.05, f"receipt check took {per * 1000:.1f} ms"


def test_a_signing_refused_after_validating_records_nothing(ctx, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    """Rows validated by a signing are recorded (receipt and `adt.validate`) with its
    `adt.sign` record, in its transaction: a signing refused after them (here: its output is
    in the way) leaves no record of a validation that no signature followed."""
    aro = make_aro(ctx, tmp_path)
    f = _file(tmp_path)
    (tmp_path / "adt.csv.p7s").write_bytes(b"someone else's")
    last = ctx.audit.entries(limit=1)[0].seq
    validations = _count_validations(monkeypatch)
    with pytest.raises(Refusal, match="already exists"):
        adt_service.sign_file(ctx, f, aro.key.key_id)
    assert validations == [f]  # the rows were validated...
    assert ctx.audit.entries(limit=1)[0].seq == last  # ... and nothing was recorded
    sha, size = adt_receipts.file_digest(f)
    ranges = adt_service.party_ranges(ctx)
    assert adt_receipts.find(ctx, sha, size, adt_service.active_profile(ctx), ranges) is None
    res = adt_service.sign_file(ctx, f, aro.key.key_id, overwrite=True)
    assert _validation(res) == ("validated now", None)
    assert [e.action for e in reversed(ctx.audit.entries()) if e.seq > last] == [
        "adt.validate", "adt.sign"]  # one transaction: the validation, then the signing
    receipt = adt_receipts.find(ctx, sha, size, adt_service.active_profile(ctx), ranges)
    assert receipt is not None and receipt.audit_seq == res.audit.seq - 1
    again = adt_service.sign_file(ctx, f, aro.key.key_id, overwrite=True)
    assert _validation(again) == (f"validated before at {receipt.validated_at}, receipt "
                                  f"{receipt.id}", receipt.id)
    assert validations == [f, f]
