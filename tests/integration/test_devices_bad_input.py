"""Bad input in a device batch: each bad member is reported by name, the valid CSRs go on, and
nothing is written half (files or database rows)."""

from __future__ import annotations

import io
import warnings
import zipfile
from pathlib import Path

import pytest

from smki_desktop.core import batch_formats as bf
from smki_desktop.core.errors import Refusal
from smki_desktop.crypto import device_csr as dc
from smki_desktop.services import devices

GOOD = 12


def _good_csrs() -> list[tuple[str, bytes]]:
    plan = [((0x00DB123456100000 + i).to_bytes(8, "big"), dc.SIGNING) for i in range(GOOD)]
    gen = dc.generate_many(plan, keep_keys=False, processes=1)
    return [(f"good{i:02d}.csr", bf.encode_csr_text(g[2])) for i, g in enumerate(gen)]


def _bad_zip(tmp_path: Path) -> Path:
    good = _good_csrs()
    wrong_sig = bytearray(bf.decode_base64_text(good[0][1]))
    wrong_sig[-4] ^= 0x01
    other = dc.generate_one((0x00DB123456200000).to_bytes(8, "big"), dc.SIGNING,
                            keep_key=False)[2]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in good[:6]:
            zf.writestr(name, text)
        zf.writestr("corrupt.csr", bf.encode_csr_text(other) * 4)
        zf.writestr("readme.txt", b"not a CSR")
        zf.writestr("certificate.csr", b"-----BEGIN CERTIFICATE-----\nTUlJ\n"
                                       b"-----END CERTIFICATE-----\n")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # zipfile warns on the duplicate
            zf.writestr("good03.csr", good[7][1])  # duplicate name
        zf.writestr("wrongsig.csr", bf.encode_csr_text(bytes(wrong_sig)))
        zf.writestr("huge.csr", b"A" * (bf.MAX_MEMBER_BYTES + 1))
        for name, text in good[6:]:
            zf.writestr(name, text)
    data = bytearray(buf.getvalue())
    # corrupt the deflated bytes of corrupt.csr (just after its local header and name)
    off = data.index(b"corrupt.csr") + len("corrupt.csr")
    for i in range(8):
        data[off + 4 + i] ^= 0xA5
    path = tmp_path / "batch.zip"
    path.write_bytes(bytes(data))
    return path


EXPECTED_BAD = {"corrupt.csr", "readme.txt", "certificate.csr", "good03.csr", "wrongsig.csr",
                "huge.csr"}


def test_each_bad_member_is_named_and_valid_ones_go_on(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = _bad_zip(tmp_path)
    res = devices.validate(ctx, src, processes=1)
    named = {r.locator: r for r in res.rejected}
    assert set(named) == EXPECTED_BAD
    assert "corrupt" in named["corrupt.csr"].reason
    assert "not a .csr" in named["readme.txt"].reason
    assert "PKCS#10" in named["certificate.csr"].reason or "DER" in named["certificate.csr"].reason
    assert "duplicate" in named["good03.csr"].reason
    assert named["wrongsig.csr"].code == "signature"
    assert "oversized" in named["huge.csr"].reason
    assert len(res.accepted) == GOOD
    assert all(r.source == "batch.zip" for r in res.rejected)


def test_package_writes_valid_ones_and_a_reject_report(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = _bad_zip(tmp_path)
    out = tmp_path / "out"
    res = devices.package(ctx, src, out, batch_name="B1", processes=1)
    assert sorted(p.name for p in out.iterdir()) == ["B1-rejected.csv", "B1.zip"]
    got = bf.read_batch_zip((out / "B1.zip").read_bytes())
    assert not got.problems and len(got.members) == GOOD
    report = (out / "B1-rejected.csv").read_text()
    for name in EXPECTED_BAD:
        assert f"batch.zip,{name}," in report
    rows = devices.csr_rows(ctx, res.batch_id)
    assert len(rows) == GOOD and {r.status for r in rows} == {"packaged"}
    entry = ctx.audit.entries(limit=1)[0]
    assert entry.action == "devices.package" and entry.details["rejected"] == len(EXPECTED_BAD)


def test_nothing_half_written_when_an_output_exists(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = _bad_zip(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    (out / "B2-rejected.csv").write_text("mine")
    with pytest.raises(Refusal, match=r"B2-rejected\.csv"):
        devices.package(ctx, src, out, batch_name="B2", processes=1)
    assert sorted(p.name for p in out.iterdir()) == ["B2-rejected.csv"]
    assert (out / "B2-rejected.csv").read_text() == "mine"
    assert devices.csr_rows(ctx) == []


def test_nothing_half_written_when_writing_fails(ctx, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    src = _bad_zip(tmp_path)
    out = tmp_path / "out"
    real = bf.build_batch_zip
    calls = {"n": 0}

    def failing(csrs, out_fh=None, **kw):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(28, "No space left on device")
        return real(csrs, out_fh, **kw)

    monkeypatch.setattr(bf, "build_batch_zip", failing)
    with pytest.raises(Exception, match="Nothing was written"):
        devices.package(ctx, src, out, batch_name="B3", max_per_zip=5, processes=1)
    assert list(out.iterdir()) == []
    assert devices.csr_rows(ctx) == []


def test_cli_validate_lists_each_rejection_and_exits_1(cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = _bad_zip(tmp_path)
    r = cli_run("devices", "validate", str(src))
    assert r.code == 1
    for name in EXPECTED_BAD:
        assert f"REJECTED batch.zip {name}:" in r.out
    assert f"{GOOD} valid, {len(EXPECTED_BAD)} rejected" in r.out
    j = cli_run("devices", "validate", str(src), "--json")
    assert j.code == 1 and j.json()["valid"] == GOOD
    assert {x["locator"] for x in j.json()["rejections"]} == EXPECTED_BAD


def test_streamed_parallel_validation_equals_serial(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A zip large enough for worker processes: read while checked, same answers."""
    plan = [((0x00DB123456300000 + i // 2).to_bytes(8, "big"), dc.USAGES[i % 2])
            for i in range(2_100)]
    gen = dc.generate_many(plan, keep_keys=False)
    bad = bytearray(gen[5][2])
    bad[-3] ^= 0x01
    members = [(f"m{i:05d}.csr", bf.encode_csr_text(g[2])) for i, g in enumerate(gen)]
    members[5] = ("m00005.csr", bf.encode_csr_text(bytes(bad)))
    members.append(("notes.txt", b"x"))
    src = tmp_path / "big.zip"
    src.write_bytes(bf.build_zip(members))
    par = devices.validate(ctx, src, processes=2)
    ser = devices.validate(ctx, src, processes=1)
    assert [a.locator for a in par.accepted] == [a.locator for a in ser.accepted]
    assert len(par.accepted) == 2_099
    assert {(r.locator, r.code) for r in par.rejected} == {("m00005.csr", "signature"),
                                                           ("notes.txt", "member")}
    assert {(r.locator, r.code) for r in ser.rejected} == {(r.locator, r.code)
                                                           for r in par.rejected}


@pytest.mark.parametrize("command", ["validate", "submit"])
def test_cli_folder_without_csrs_says_what_it_found(cli_run, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                    command: str) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "test-devices.zip").write_bytes(_bad_zip(tmp_path).read_bytes())
    (folder / "TEST-ONLY-device-keys.csv").write_text("TEST ONLY\n")
    r = cli_run("devices", command, str(folder))
    assert r.code == 2, (r.out, r.err)
    assert "no .csr files in" in r.err and "found TEST-ONLY-device-keys.csv, test-devices.zip" \
        in r.err, r.err
    assert f"pass that file: {folder / 'test-devices.zip'}" in r.err, r.err
    assert "0 valid" not in r.out


def test_cli_empty_folder_and_empty_zip_exit_non_zero(cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    empty = tmp_path / "empty"
    empty.mkdir()
    r = cli_run("devices", "validate", str(empty))
    assert r.code == 2 and "the folder is empty" in r.err, (r.out, r.err)
    z = tmp_path / "nothing.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.comment = b"empty"
    r = cli_run("devices", "validate", str(z))
    assert r.code == 2 and "no .csr members in the zip" in r.err, (r.out, r.err)
