"""Files that used to end in a traceback now end in an InputError (exit 2) naming the file and
the cause: a device CSV field over the csv module's limit, a response zip of an unsupported zip
version, a deeply nested ADT manifest; zip traversal names and bombs stay refused."""

from __future__ import annotations

import io
import json
import struct
import zipfile
from pathlib import Path

from smki_desktop.core import batch_formats as bf


def test_device_csv_field_over_131072_characters(cli_run, tmp_path: Path) -> None:
    p = tmp_path / "devices.csv"
    p.write_text("device_eui,usage,csr\n00-DB-12-34-56-10-00-01,signing,"
                 + "A" * 140_000 + "\n")
    r = cli_run("devices", "validate", str(p))
    assert r.code == 2, r.err[-600:]
    assert "devices.csv line 2" in r.err and "field larger" in r.err
    assert "Traceback" not in r.err


def _response_zip_with_version(version: int) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("00DB123456100000-ds-abcdef012345.crt",
                   b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    data = bytearray(buf.getvalue())
    i = data.find(b"PK\x01\x02")
    data[i + 6:i + 8] = struct.pack("<H", version)
    return bytes(data)


def test_response_zip_of_an_unsupported_zip_version(cli_run, tmp_path: Path) -> None:
    report = tmp_path / "R-42.txt"
    report.write_bytes(bf.build_report("R-42", []))
    z = tmp_path / "R-42-response.zip"
    z.write_bytes(_response_zip_with_version(99))
    r = cli_run("devices", "import-response", str(report), str(z))
    assert r.code == 2, r.err[-600:]
    assert "R-42-response.zip" in r.err and "zip version 9.9" in r.err.replace("file ", "")
    assert "Traceback" not in r.err


def test_zip_traversal_names_and_bombs_are_refused_per_member() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("../../etc/evil.crt", b"x")
        z.writestr("/abs.crt", b"x")
        z.writestr("bomb.crt", b"\0" * (50 * 1024 * 1024))
    got = bf.read_response_zip(buf.getvalue())
    assert not got.members
    reasons = {p.name: p.reason for p in got.problems}
    assert "folder" in reasons["../../etc/evil.crt"] and "folder" in reasons["/abs.crt"]
    assert "oversized" in reasons["bomb.crt"]


def test_deeply_nested_adt_manifest(cli_run, tmp_path: Path) -> None:
    f = tmp_path / "adt.csv"
    f.write_text("x\n")
    (tmp_path / "adt.csv.p7s").write_bytes(b"0")
    m = tmp_path / "adt.csv.manifest.json"
    m.write_text('{"format": "smki-desktop/file-manifest", "x": ' + "[" * 100_000
                 + "]" * 100_000 + "}")
    r = cli_run("adt", "verify", str(f), "--manifest", str(m))
    assert r.code == 2, r.err[-600:]
    assert "manifest.json" in r.err and "nested too deeply" in r.err
    # nested where a text field is expected
    m.write_text('{"format": "smki-desktop/file-manifest", "format_version": 1, '
                 '"kind": "adt-file", "environment": "test", "file": {"name": '
                 + "[" * 50_000 + "]" * 50_000 + ', "size": 1, "sha256": "0"}}')
    r = cli_run("adt", "verify", str(f), "--manifest", str(m))
    assert r.code == 2 and "Traceback" not in r.err, r.err[-600:]


def test_a_whole_number_of_5000_digits(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`adt validate`, `adt sign` and `quarantine import` with a 5,000-digit number: a `range`
    finding naming line and column (int() alone raises ValueError past 4,300 digits)."""
    from tests.integration.adt_support import make_aro

    make_aro(ctx, tmp_path)
    own = "90-B3-D5-1F-30-01-00-00"
    f = tmp_path / "adt.csv"
    f.write_text("User ID,User Role,Service Request Type,Period,User Warning Threshold,"
                 f"User Quarantine Threshold\r\n{own},IS,ALL,DAY,{'9' * 5000},2\r\n")
    r = cli_run("adt", "validate", str(f), "--json")
    assert r.code == 1 and "Traceback" not in r.err, r.err[-600:]
    (issue,) = [i for i in r.json()["issues"] if i["rule"] == "range"]
    assert (issue["line"], issue["column_index"]) == (2, 5)
    assert "5,000 digits" in issue["message"]
    r = cli_run("adt", "sign", str(f), "--key", "00000000")
    assert r.code == 2 and "line 2, column 5" in r.err, r.err[-600:]
    report = tmp_path / "report.csv"
    report.write_text("Quarantine ID,User ID,User Role,Service Request Type,Request ID,"
                      "Quarantined At,Threshold,Count\r\n"
                      f"Q-1,{own},IS,1.1.1,r-1,2026-11-01T10:00:00Z,USER,{'9' * 5000}\r\n")
    r = cli_run("quarantine", "import", "--report", str(report), "--json")
    assert r.code == 2 and "Traceback" not in r.err, r.err[-600:]
    assert "line 2, column 8 (Count)" in r.json()["error"]


def test_adt_manifest_with_a_size_of_1e400(cli_run, tmp_path: Path) -> None:
    """JSON reads 1e400 as float infinity; int() of it raised OverflowError."""
    f = tmp_path / "adt.csv"
    f.write_text("x\n")
    (tmp_path / "adt.csv.p7s").write_bytes(b"0")
    m = tmp_path / "adt.csv.manifest.json"
    doc = {"format": "smki-desktop/file-manifest", "format_version": 1, "kind": "adt-file",
           "environment": "test", "signed_at": "2026-11-01T10:00:00Z",
           "file": {"name": "adt.csv", "size": 2, "sha256": "0" * 64},
           "signature": {"name": "adt.csv.p7s", "sha256": "0" * 64},
           "signer": {k: "x" for k in ("key_id", "certificate_sha256", "subject", "issuer",
                                       "serial")}}
    m.write_text(json.dumps(doc).replace('"size": 2', '"size": 1e400'))
    r = cli_run("adt", "verify", str(f), "--json")
    assert r.code == 2 and "Traceback" not in r.err, r.err[-600:]
    assert "file.size" in r.json()["error"] and "manifest.json" in r.json()["error"]
