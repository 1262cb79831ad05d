"""Unit tests of the portal batch formats (zip, report, response zip, manifest)."""

from __future__ import annotations

import io
import zipfile

import pytest

from smki_desktop.core import batch_formats as bf
from smki_desktop.core.errors import InputError

DER = bytes.fromhex("3003020101")


def test_batch_zip_round_trip_and_determinism() -> None:
    csrs = [(f"dev{i}.csr", DER + bytes([i])) for i in range(5)]
    data = bf.build_batch_zip(csrs)
    assert data == bf.build_batch_zip(csrs)
    got = bf.read_batch_zip(data)
    assert not got.problems
    assert [(m.name, m.der) for m in got.members] == csrs
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        first = zf.read("dev0.csr")
    assert first.startswith(b"-----BEGIN CERTIFICATE REQUEST-----\n")


def test_build_refuses_bad_and_duplicate_names_and_too_many() -> None:
    with pytest.raises(InputError, match=r"a/b\.csr"):
        bf.build_batch_zip([("a/b.csr", DER)])
    with pytest.raises(InputError, match="named twice"):
        bf.build_batch_zip([("A.csr", DER), ("a.csr", DER)])
    with pytest.raises(InputError, match="50,000"):
        bf.build_batch_zip([(f"{i}.csr", DER) for i in range(bf.MAX_CSRS_PER_ZIP + 1)])


def _raw_zip(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, content in members:
            zf.writestr(name, content)
    return buf.getvalue()


def test_reader_names_every_bad_member_and_keeps_the_good() -> None:
    good = bf.encode_csr_text(DER)
    data = _raw_zip([
        ("ok1.csr", good),
        ("notes.txt", b"hello"),
        ("sub/x.csr", good),
        ("dup.csr", good),
        ("DUP.csr", good),
        ("big.csr", b"A" * (bf.MAX_MEMBER_BYTES + 10)),
        ("junk.csr", b"not base64 !!"),
        ("ok2.csr", b"MAMCAQE=\r\n"),
    ])
    got = bf.read_batch_zip(data)
    assert [m.name for m in got.members] == ["ok1.csr", "dup.csr", "ok2.csr"]
    reasons = {p.name: p.reason for p in got.problems}
    assert set(reasons) == {"notes.txt", "sub/x.csr", "DUP.csr", "big.csr", "junk.csr"}
    assert "not a .csr" in reasons["notes.txt"]
    assert "root" in reasons["sub/x.csr"]
    assert "duplicate" in reasons["DUP.csr"]
    assert "oversized" in reasons["big.csr"]
    assert "Base64" in reasons["junk.csr"]


def test_corrupt_entry_is_reported_by_name() -> None:
    content = bf.encode_csr_text(DER) * 3
    data = bytearray(_raw_zip([("a.csr", content), ("b.csr", content)]))
    # flip bytes inside the compressed data of b.csr (after its local header)
    off = data.index(b"b.csr") + len(b"b.csr") + 2
    data[off] ^= 0xFF
    data[off + 1] ^= 0xFF
    got = bf.read_batch_zip(bytes(data))
    assert [m.name for m in got.members] == ["a.csr"]
    assert [p.name for p in got.problems] == ["b.csr"]
    assert "corrupt" in got.problems[0].reason


def test_not_a_zip_is_an_input_error() -> None:
    with pytest.raises(InputError, match="zip"):
        bf.read_batch_zip(b"plain text")


def test_decode_accepts_the_paste_forms() -> None:
    der = bytes(range(0x30, 0x30 + 90))
    pem = bf.encode_csr_text(der)
    assert bf.decode_base64_text(pem) == der
    assert bf.decode_base64_text(pem.replace(b"\n", b"\r\n")) == der
    new_armour = pem.replace(b"CERTIFICATE REQUEST", b"NEW CERTIFICATE REQUEST")
    assert bf.decode_base64_text(new_armour) == der
    body = b"".join(pem.splitlines()[1:-1])
    assert bf.decode_base64_text(body) == der
    assert bf.decode_base64_text(der) == der
    with pytest.raises(InputError):
        bf.decode_base64_text(b"-----BEGIN CERTIFICATE REQUEST-----\nMAMC")


def test_report_round_trip_and_lenient_reading() -> None:
    lines = [
        bf.ReportLine("1", "a.csr", bf.ReportStatus.SUCCESS),
        bf.ReportLine("2", "b.csr", bf.ReportStatus.ERROR, "CS:SigInv"),
        bf.ReportLine("3", "c.csr", bf.ReportStatus.INELIGIBLE, "DV:Max100"),
    ]
    rep = bf.parse_report(bf.build_report("REQ1", lines))
    assert rep.request_id == "REQ1"
    assert [(x.csr_id, x.file_name, x.status, x.error_code) for x in rep.lines] == [
        (x.csr_id, x.file_name, x.status, x.error_code) for x in lines
    ]
    csv_text = b"\xef\xbb\xbfcsr_id,file_name,status,error_code\r\n9,z.csr,ANOMALY,\r\n\r\n"
    rep2 = bf.parse_report(csv_text)
    assert rep2.lines[0].status is bf.ReportStatus.ANOMALY and rep2.lines[0].stem == "z"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (b"CSR ID\tFile Name\tStatus\tError Code\n1\ta.csr\tmaybe\t\n", "line 2"),
        (b"CSR ID\tFile Name\tStatus\tError Code\n1\ta.csr\terror\tbad code\n", "error code"),
        (b"1\ta.csr\tsuccess\t\n", "header"),
        (b"CSR ID\tFile Name\tStatus\tError Code\n1\t\tsuccess\t\n", "file name"),
    ],
)
def test_report_errors_name_the_line(body: bytes, needle: str) -> None:
    with pytest.raises(InputError, match=needle):
        bf.parse_report(body)


def test_response_zip_round_trip() -> None:
    data = bf.build_response_zip([("a", DER), ("b", DER + b"\x01")])
    got = bf.read_response_zip(data)
    assert {m.stem: m.der for m in got.members} == {"a": DER, "b": DER + b"\x01"}
    assert bf.request_id_from_response_zip("/x/REQ7-response.zip") == "REQ7"


def test_split_and_manifest() -> None:
    names = [f"{i}.csr" for i in range(50_001)]
    parts = bf.split_names(names)
    assert [len(p) for p in parts] == [25_001, 25_000]
    assert [n for p in parts for n in p] == names
    assert bf.split_names(names[:10], 4) == [names[0:4], names[4:8], names[8:10]]
    m = bf.Manifest("B", "test", 3, (bf.ManifestPart("B.zip", 3, "00", ("a", "b", "c")),))
    assert bf.parse_manifest(bf.build_manifest(m)) == m
    with pytest.raises(InputError):
        bf.parse_manifest(b"{}")


def test_org_paste_text_is_what_the_portal_form_reads() -> None:
    from smki_desktop.portal.upload import org_paste_text
    from smki_desktop.simulator.dcc import paste_to_der

    der = bytes(range(0x30, 0x30 + 200))
    text = org_paste_text(der)
    assert text.startswith("-----BEGIN CERTIFICATE REQUEST-----\n")
    body = text.splitlines()[1:-1]
    assert len(body) == 5 and all(len(line) <= 64 for line in body)
    assert paste_to_der(text) == der
    assert paste_to_der(text.replace("\n", "\r\n")) == der


def test_too_many_members_is_refused_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bf, "MAX_ZIP_MEMBERS", 3)
    data = bf.build_batch_zip([(f"{i}.csr", DER) for i in range(4)])
    with pytest.raises(InputError, match="at most 3"):
        bf.read_batch_zip(data)


def test_batch_zip_names_its_environment_in_the_comment_only() -> None:
    csrs = [("a.csr", DER), ("b.csr", DER)]
    marked = bf.build_batch_zip(csrs, environment="live")
    assert bf.batch_zip_environment(marked) == "live"
    assert bf.batch_zip_environment(bf.build_batch_zip(csrs)) is None
    assert [m.name for m in bf.read_batch_zip(marked).members] == ["a.csr", "b.csr"]
    with pytest.raises(InputError):
        bf.batch_zip_environment(b"not a zip")
    with pytest.raises(InputError):
        bf.batch_zip_comment("Live env")
