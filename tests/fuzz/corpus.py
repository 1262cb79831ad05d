"""Hostile inputs, made in code (no binary corpus in git): each function returns a list of
(label, bytes) built from a few valid seeds. `write_corpus(folder)` writes them all as files
(for tools and for the parsers that read from disk)."""

from __future__ import annotations

import base64
import io
import struct
import zipfile
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

Case = tuple[str, bytes]

FORMULAS = ["=cmd|' /C calc'!A0", "+SUM(1+1)*cmd|' /C calc'!A0", "-2+3+cmd|' /C calc'!A0",
            "@SUM(1+1)", "\t=1+1", "\r=1+1", "=HYPERLINK(\"http://evil.example/\",\"x\")"]

HOSTILE_TEXT = [
    "", " ", "\0", "\x00" * 17, "\n", "\r\n\r\n", "..", "../../../etc/passwd", "/etc/passwd",
    "C:\\Windows\\system32", "%s%s%s%n", "{0}{1}", "${jndi:ldap://x}", "'; DROP TABLE keys;--",
    "\u202e4C-30-1F-D5-B3-90", "\ufeff90B3D51F30010000", "９０B3D51F30010000",
    "90-B3-D5-1F-30-01-00-0G", "90-B3-D5-1F-30-01-00", "90--B3-D5-1F-30-01-00-00",
    "90:B3-D5:1F-30:01-00:00", "0x90B3D51F30010000", "90B3D51F300100001", "A" * 100_000,
    "1" * 5000, "-0", "NaN", "inf", "\udc80", "e\u0301", "𝟗𝟎B3D51F30010000", *FORMULAS,
]


def seeds() -> dict[str, bytes]:
    """Valid PEM seeds from the lint fixtures: a device and an Organisation CSR and cert."""
    d = FIXTURES / "lint"
    return {name: (d / name).read_bytes() for name in
            ("ok-device.csr.pem", "ok-org.csr.pem", "ok-device.crt.pem", "ok-org.crt.pem")}


def _der(pem: bytes) -> bytes:
    body = b"".join(line for line in pem.splitlines() if line and not line.startswith(b"-----"))
    return base64.b64decode(body)


def der_cases() -> list[Case]:
    """PEM/DER/Base64 shapes of CSRs and certificates, broken every way we could think of."""
    out: list[Case] = []
    for name, pem in seeds().items():
        der = _der(pem)
        b64 = base64.b64encode(der)
        out += [
            (f"{name}:pem", pem), (f"{name}:der", der), (f"{name}:b64", b64),
            (f"{name}:b64-wrapped-crlf", b"\r\n".join(b64[i:i + 76] for i in range(0, len(b64),
                                                                                   76))),
            (f"{name}:double-b64", base64.b64encode(b64)),
            (f"{name}:pem-utf16", pem.decode().encode("utf-16")),
            (f"{name}:pem-bom", b"\xef\xbb\xbf" + pem),
            (f"{name}:pem-wrong-label", pem.replace(b"CERTIFICATE REQUEST", b"PRIVATE KEY")
             .replace(b"CERTIFICATE", b"PRIVATE KEY")),
            (f"{name}:pem-unterminated", pem.split(b"-----END")[0]),
            (f"{name}:pem-twice", pem + pem),
            (f"{name}:pem-garbage-body", b"-----BEGIN CERTIFICATE-----\n!!!!\n"
                                         b"-----END CERTIFICATE-----\n"),
            (f"{name}:trailing-junk", der + b"\x00" * 64),
            (f"{name}:truncated-1", der[:-1]),
            (f"{name}:truncated-half", der[:len(der) // 2]),
            (f"{name}:header-only", der[:4]),
            (f"{name}:length-huge", b"\x30\x84\xff\xff\xff\xff" + der[4:]),
            (f"{name}:length-indefinite", b"\x30\x80" + der[4:] + b"\x00\x00"),
            (f"{name}:length-9-octets", b"\x30\x89" + b"\xff" * 9 + der[4:]),
        ]
        for i in range(0, len(der), max(1, len(der) // 24)):
            flipped = bytearray(der)
            flipped[i] ^= 0xFF
            out.append((f"{name}:flip-{i}", bytes(flipped)))
    out += [
        ("empty", b""), ("nul", b"\x00"), ("sequence-empty", b"\x30\x00"),
        ("deep-sequence", b"\x30\x80" * 50_000), ("deep-definite", _nested(2_000)),
        ("integer-huge", b"\x02\x82\x10\x00" + b"\x7f" * 4096),
        ("oid-huge-arc", b"\x06\x0a" + b"\xff" * 9 + b"\x7f"),
        ("text", b"hello, I am not a certificate"), ("html", b"<html><body>500</body></html>"),
        ("random-looking", bytes(range(256)) * 4),
    ]
    return out


def _nested(depth: int) -> bytes:
    inner = b"\x05\x00"
    for _ in range(depth):
        n = len(inner)
        if n < 128:
            hdr = bytes([0x30, n])
        else:
            ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
            hdr = bytes([0x30, 0x80 | len(ln)]) + ln
        inner = hdr + inner
    return inner


def device_csv_cases() -> list[Case]:
    """`device_eui,usage,csr` CSVs in odd encodings, with BOMs, huge rows, formula text."""
    csr_b64 = base64.b64encode(_der(seeds()["ok-device.csr.pem"])).decode()
    good = f"device_eui,usage,csr\r\n00-DB-12-34-56-78-90-00,signing,{csr_b64}\r\n"
    out: list[Case] = [
        ("good", good.encode()), ("utf8-bom", b"\xef\xbb\xbf" + good.encode()),
        ("double-bom", b"\xef\xbb\xbf\xef\xbb\xbf" + good.encode()),
        ("utf16", good.encode("utf-16")), ("utf16-be-no-bom", good.encode("utf-16-be")),
        ("utf32", good.encode("utf-32")), ("latin1", good.replace("signing", "sígning")
                                            .encode("latin-1")),
        ("cp1252-quotes", "device_eui,usage,csr\n\u201cx\u201d,signing,AA\n".encode("cp1252")),
        ("nul-bytes", good.encode().replace(b",", b"\x00,")),
        ("cr-only", good.replace("\r\n", "\r").encode()),
        ("no-header", good.split("\r\n", 1)[1].encode()), ("header-only", b"device_eui,usage,csr"),
        ("empty", b""), ("just-bom", b"\xef\xbb\xbf"),
        ("unbalanced-quote", b'device_eui,usage,csr\n"00-DB-12-34-56-78-90-00,signing,AA\n'),
        ("many-columns", b"device_eui,usage,csr\n" + b"a," * 100_000 + b"\n"),
        ("many-rows", b"device_eui,usage,csr\n" + b"x,y,z\n" * 50_000),
        ("long-line-no-newline", b"device_eui,usage,csr\n" + b"A" * 100_000),
        ("huge-field-quoted", b'device_eui,usage,csr\n"' + b"A" * 200_000 + b'",signing,AA\n'),
        ("huge-field", b"device_eui,usage,csr\n00-DB-12-34-56-78-90-00,signing,"
         + b"A" * 200_000 + b"\n"),
        ("binary", bytes(range(256)) * 16),
    ]
    for i, f in enumerate(FORMULAS):
        q = f.replace('"', '""')
        out.append((f"formula-{i}", f'device_eui,usage,csr\n"{q}","{q}","{q}"\n'.encode()))
    return out


def _zinfo(name: str, *, version: int | None = None, flag: int = 0) -> zipfile.ZipInfo:
    zi = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
    zi.compress_type = zipfile.ZIP_DEFLATED
    if version is not None:
        zi.create_version = version
        zi.extract_version = version
    zi.flag_bits |= flag
    return zi


def _zip(members: list[tuple[str | zipfile.ZipInfo, bytes]], comment: bytes = b"") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members:
            z.writestr(name if isinstance(name, zipfile.ZipInfo) else _zinfo(name), data)
        z.comment = comment
    return buf.getvalue()


def _bomb(size: int) -> bytes:
    """A zip member that inflates to `size` zeros, its header honest."""
    return _zip([("bomb.csr", b"\0" * size)])


def _lying_sizes(data: bytes) -> bytes:
    """A zip whose central directory claims a tiny uncompressed size for a big member."""
    out = bytearray(data)
    at = out.rfind(b"PK\x01\x02")
    struct.pack_into("<I", out, at + 24, 10)  # uncompressed size in the central directory
    lo = out.find(b"PK\x03\x04")
    struct.pack_into("<I", out, lo + 22, 10)  # and in the local header
    return bytes(out)


def zip_cases(member: bytes | None = None) -> list[Case]:
    """Zips with traversal names, bombs, duplicates, odd versions, bad structure."""
    csr = member if member is not None else seeds()["ok-device.csr.pem"]
    good = _zip([("a.csr", csr)])
    out: list[Case] = [
        ("good", good),
        ("traversal", _zip([("../../../../tmp/evil.csr", csr), ("a.csr", csr)])),
        ("traversal-backslash", _zip([("..\\..\\evil.csr", csr)])),
        ("absolute", _zip([("/tmp/evil.csr", csr)])),
        ("drive", _zip([("C:/evil.csr", csr)])),
        ("folder", _zip([("sub/a.csr", csr)])),
        ("dir-entry", _zip([("sub/", b"")])),
        ("nul-name", _zip([("a\x00b.csr", csr)])),
        ("unicode-name", _zip([("\u202egpj.csr", csr)])),
        ("long-name", _zip([("a" * 4000 + ".csr", csr)])),
        ("duplicates", _zip([("a.csr", csr), ("a.csr", b"other")])),
        ("case-duplicates", _zip([("a.csr", csr), ("A.CSR", csr)])),
        ("bomb-64M", _bomb(64 * 1024 * 1024)),
        ("bomb-lying-size", _lying_sizes(_bomb(8 * 1024 * 1024))),
        ("nested-zip", _zip([("inner.zip", good)])),
        ("zip-in-csr", _zip([("a.csr", good)])),
        ("many-empty", _zip([(f"{i}.csr", b"") for i in range(5000)])),
        ("encrypted-flag", _zip([(_zinfo("a.csr", flag=0x1), csr)])),
        ("version-99", _zip([(_zinfo("a.csr", version=99), csr)])),
        ("version-63", _zip([(_zinfo("a.csr", version=63), csr)])),
        ("stored-bad-crc", _bad_crc(good)),
        ("truncated", good[: len(good) // 2]),
        ("eocd-only", b"PK\x05\x06" + b"\0" * 18),
        ("eocd-lying-count", b"PK\x05\x06" + b"\0" * 4 + b"\xff\xff\xff\xff" + b"\0" * 10),
        ("not-a-zip", b"PK this is not a zip"),
        ("empty-zip", _zip([])),
        ("comment-huge", _zip([("a.csr", csr)], comment=b"x" * 65535)),
        ("binary-member", _zip([("a.csr", bytes(range(256)))])),
    ]
    for i, f in enumerate(FORMULAS[:3]):
        out.append((f"formula-name-{i}", _zip([(f"{f}.csr", csr)])))
    return out


def _bad_crc(data: bytes) -> bytes:
    out = bytearray(data)
    for sig in (b"PK\x03\x04", b"PK\x01\x02"):
        at = out.find(sig)
        off = 14 if sig == b"PK\x03\x04" else 16
        out[at + off] ^= 0xFF
    return bytes(out)


def _laughs(r: bytes) -> bytes:
    ents = b"".join(b'<!ENTITY %s "%s">' % (bytes([98 + i]), (b"&" + bytes([97 + i]) + b";") * 10)
                    for i in range(8))
    return (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa">' + ents + b"]><" + r
            + b">&i;</" + r + b">")


_XML = {
    "billion-laughs": _laughs,
    "external-entity": lambda r: b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM '
                                 b'"file:///etc/passwd">]><' + r + b">&e;</" + r + b">",
    "external-dtd": lambda r: b'<?xml version="1.0"?><!DOCTYPE x SYSTEM '
                              b'"http://127.0.0.1:9/x.dtd"><' + r + b"/>",
    "parameter-entity": lambda r: b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY % p SYSTEM '
                                  b'"http://127.0.0.1:9/p">%p;]><' + r + b"/>",
    "deep": lambda r: b"<" + r + b">" + b"<a>" * 100_000 + b"</a>" * 100_000 + b"</" + r + b">",
    "wide": lambda r: b"<" + r + b">" + b"<a/>" * 200_000 + b"</" + r + b">",
    "utf16": lambda r: (b'<?xml version="1.0" encoding="UTF-16"?><' + r + b"/>").decode()
    .encode("utf-16"),
    "encoding-lie": lambda r: b'<?xml version="1.0" encoding="UTF-16"?><' + r + b"/>",
    "encoding-unknown": lambda r: b'<?xml version="1.0" encoding="x-no-such"?><' + r + b"/>",
    "encoding-ebcdic": lambda r: b'<?xml version="1.0" encoding="cp500"?><' + r + b"/>",
    "bom-utf8": lambda r: b"\xef\xbb\xbf<" + r + b"/>",
    "bad-utf8": lambda r: b"<" + r + b">\xff\xfe</" + r + b">",
    "pi-and-cdata": lambda r: b"<?xml-stylesheet href='x'?><" + r + b"><![CDATA[<x>]]></" + r
    + b">",
    "namespaced": lambda r: b'<n:' + r + b' xmlns:n="urn:x"/>',
    "attrs-huge": lambda r: b"<" + r + b" " + b" ".join(b"a%d='x'" % i for i in range(20_000))
    + b"/>",
    "unclosed": lambda r: b"<" + r + b">", "empty": lambda r: b"",
    "not-xml": lambda r: b'{"json": true}',
    "html": lambda r: b"<html><body><h1>502 Bad Gateway</h1></body></html>",
    "nul": lambda r: b"<" + r + b">\x00</" + r + b">",
    "size-over": lambda r: b"<" + r + b">" + b"A" * (17 * 1024 * 1024) + b"</" + r + b">",
}
XML_LABELS = list(_XML)


def xml_case(label: str, root: str) -> bytes:
    return _XML[label](root.encode())


def xml_cases(root: str = "CSRBatchResult") -> list[Case]:
    """XML with entities, DTDs, odd encodings, depth, size."""
    return [(label, xml_case(label, root)) for label in XML_LABELS]


def json_cases() -> list[Case]:
    """JSON with wrong types, depth, NaN, huge numbers, odd encodings."""
    return [
        ("empty", b""), ("null", b"null"), ("list", b"[]"), ("string", b'"x"'),
        ("number", b"1"), ("nan", b"NaN"), ("obj-nan", b'{"version": NaN, "format": NaN}'),
        ("obj-inf", b'{"version": Infinity}'), ("obj-neg-inf", b'{"version": -Infinity}'),
        ("big-int", b'{"version": ' + b"9" * 5000 + b"}"),
        ("big-float", b'{"version": 1e999999}'),
        ("deep-list", b"[" * 50_000 + b"]" * 50_000),
        ("deep-obj", b'{"a":' * 50_000 + b"1" + b"}" * 50_000),
        ("wrong-types", b'{"format": 1, "version": "one", "environment": [], "file": "x",'
                        b' "requests": "none", "answers": {"a": 1}, "pages": 7}'),
        ("dupe-keys", b'{"version": 1, "version": 2}'),
        ("utf16", '{"version": 1}'.encode("utf-16")), ("bom", b'\xef\xbb\xbf{"version": 1}'),
        ("bad-utf8", b'{"v": "\xff"}'), ("lone-surrogate", b'{"v": "\\udc80"}'),
        ("nul", b'{"v": "\x00"}'), ("trailing", b'{"version": 1} x'),
        ("huge-string", b'{"v": "' + b"A" * 5_000_000 + b'"}'),
    ]


def toml_cases() -> list[Case]:
    return [
        ("empty", b""), ("garbage", b"= = ="), ("wrong-types", b'form = 1\nversion = "one"\n'),
        ("version-float", b"version = nan\n"), ("version-inf", b"version = inf\n"),
        ("version-date", b"version = 1979-05-27T07:32:00Z\n"),
        ("big-int", b"version = " + b"9" * 5000 + b"\n"),
        ("deep-inline", b"a = " + b"{b = " * 5000 + b"1" + b"}" * 5000 + b"\n"),
        ("deep-array", b"a = " + b"[" * 5000 + b"]" * 5000 + b"\n"),
        ("utf16", "version = 1\n".encode("utf-16")), ("bad-utf8", b'a = "\xff"\n'),
        ("dupe-table", b"[a]\nx=1\n[a]\nx=2\n"),
        ("page-not-table", b'form = "x"\nversion = 1\nofficer = "string"\n'),
    ]


def write_corpus(folder: Path) -> dict[str, list[Path]]:
    """Write every family to `folder/<family>/<label>` and return the paths."""
    fams = {"der": der_cases(), "device-csv": device_csv_cases(), "zip": zip_cases(),
            "xml": xml_cases(), "json": json_cases(), "toml": toml_cases()}
    out: dict[str, list[Path]] = {}
    for fam, cases in fams.items():
        d = folder / fam
        d.mkdir(parents=True, exist_ok=True)
        out[fam] = []
        for i, (label, data) in enumerate(cases):
            p = d / f"{i:03d}-{''.join(c if c.isalnum() or c in '.-' else '_' for c in label)}"
            p.write_bytes(data)
            out[fam].append(p)
    return out
