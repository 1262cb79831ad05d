"""The SMKI Portal's Device CSR batch formats: pure build and parse functions on bytes.

Used by the app (issue 5) and by the simulator (issue 4), so both sides speak the same layout.
Nothing here touches the disk or the network; zips are built and read in memory (or from an
open binary file object the caller passes).

Formats (reference section 5; detail beyond the published rules is our choice, marked [ours]):

1. **Batch upload zip** (`<request>.zip`): at most 50,000 (`MAX_CSRS_PER_ZIP`) uniquely named
   `*.csr` files, all at the zip's root (no folders). Each member is one PKCS#10 CSR as Base64
   text. We write PEM armour (`-----BEGIN CERTIFICATE REQUEST-----`, Base64 wrapped at 64, LF)
   [ours]; readers accept armour-less Base64, `NEW CERTIFICATE REQUEST` armour, any wrapping,
   LF or CRLF. Names are unique case-insensitively (Windows unzips them to one folder) and use
   only `A-Z a-z 0-9 . _ -` [ours]. Members are deflated, dated 1980-01-01 so that the same
   input gives byte-identical zips [ours]. The zip comment names the environment that packaged
   it, `smki-desktop-device-batch environment=test|live` [ours]: zip readers (and the DCC)
   ignore it; the simulator's portal refuses a zip from the other environment by it.

2. **Response report** (`<request>.txt`, UTF-8, LF or CRLF) [ours in the detail]:

       SMKI Batch Response Report
       Request ID: <request>
       CSR ID<TAB>File Name<TAB>Status<TAB>Error Code
       1<TAB>00DB123456789001-ds-1a2b3c4d.csr<TAB>success<TAB>
       2<TAB>00DB123456789002-ds-5e6f7a8b.csr<TAB>error<TAB>CS:SigInv

   Status is one of `success`, `error`, `anomaly`, `ineligible` (any case on reading). The
   error code, when present, matches `[A-Z]{2}:[A-Za-z0-9]+` and has at most 10 characters.
   The reader also accepts commas instead of tabs, skips blank lines and `#` comments, and
   ignores lines before the header (the `Request ID:` line is optional).

3. **Response zip** (`<request>-response.zip`): one `<name>.crt` per issued certificate, where
   `<name>` is the stem of the CSR's file name in the upload; each member is the certificate as
   Base64 text (PEM armour `CERTIFICATE` on writing; any Base64 form accepted on reading).

4. **Manifest** (`<batch>-manifest.json`) [ours], written when a batch is split into several
   zips: `{"format": "smki-desktop-device-batch-manifest/1", "batch": NAME, "environment": ENV,
   "total": N, "parts": [{"zip": "NAME-part01.zip", "count": n, "sha256": HEX,
   "files": [...]}, ...]}`.

Readers never stop at a bad member: each problem is reported by member name with its reason
(corrupt entry, not a `.csr`, duplicate name, folder, oversized member) and the good members
are returned beside the problems.
"""

from __future__ import annotations

import binascii
import enum
import hashlib
import io
import json
import re
import struct
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from smki_desktop.core.errors import InputError
from smki_desktop.core.wording import not_utf8

MAX_CSRS_PER_ZIP = 50_000
MAX_MEMBER_BYTES = 16 * 1024
"""A device CSR is ~400 bytes of Base64; anything above 16 KiB is refused as oversized."""
MAX_REPORT_BYTES = 64 * 1024 * 1024
MAX_ZIP_MEMBERS = 1_000_000
"""A source zip with more members than this is refused whole (a zip of tiny entries could
otherwise exhaust memory before any member is read)."""
MANIFEST_FORMAT = "smki-desktop-device-batch-manifest/1"
BATCH_ZIP_COMMENT_PREFIX = b"smki-desktop-device-batch environment="
ERROR_CODE_RE = re.compile(r"^[A-Z]{2}:[A-Za-z0-9]+$")
SAFE_NAME_RE = re.compile(r"^[A-Za-z0-9._-]{1,200}$")
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
_ARMOUR_RE = re.compile(rb"-----(BEGIN|END) [A-Z0-9 ]+-----")


class ReportStatus(enum.Enum):
    SUCCESS = "success"
    ERROR = "error"
    ANOMALY = "anomaly"
    INELIGIBLE = "ineligible"


@dataclass(frozen=True)
class ZipMember:
    """A good member of a batch or response zip: its name and decoded DER."""

    name: str
    der: bytes

    @property
    def stem(self) -> str:
        return self.name.rsplit(".", 1)[0]


@dataclass(frozen=True)
class MemberProblem:
    """A member that could not be used, named, with the reason in words."""

    name: str
    reason: str


@dataclass
class ZipContents:
    members: list[ZipMember] = field(default_factory=list)
    problems: list[MemberProblem] = field(default_factory=list)


@dataclass(frozen=True)
class ReportLine:
    csr_id: str
    file_name: str
    status: ReportStatus
    error_code: str = ""
    line_no: int = 0

    @property
    def stem(self) -> str:
        return self.file_name.rsplit(".", 1)[0]


@dataclass(frozen=True)
class Report:
    request_id: str
    lines: tuple[ReportLine, ...]


@dataclass(frozen=True)
class ManifestPart:
    zip_name: str
    count: int
    sha256: str
    files: tuple[str, ...]


@dataclass(frozen=True)
class Manifest:
    batch: str
    environment: str
    total: int
    parts: tuple[ManifestPart, ...]


# --- Base64 text forms -------------------------------------------------------------------------


def pem_armour(der: bytes, label: str) -> bytes:
    """PEM text: Base64 wrapped at 64 columns, LF line ends."""
    b64 = binascii.b2a_base64(der, newline=False)
    lines = [b64[i : i + 64] for i in range(0, len(b64), 64)]
    head = b"-----BEGIN " + label.encode() + b"-----\n"
    tail = b"-----END " + label.encode() + b"-----\n"
    return head + b"\n".join(lines) + b"\n" + tail


def encode_csr_text(der: bytes) -> bytes:
    return pem_armour(der, "CERTIFICATE REQUEST")


def encode_certificate_text(der: bytes) -> bytes:
    return pem_armour(der, "CERTIFICATE")


def decode_base64_text(data: bytes, what: str = "CSR") -> bytes:
    """DER from Base64 text with or without PEM armour, any wrapping, LF or CRLF.

    Raises `InputError` naming the cause. A DER input (starts with a SEQUENCE tag) is accepted
    unchanged, so a binary `.csr` is not rejected for its encoding alone."""
    if data[:1] == b"\x30":
        return bytes(data)
    text = data
    if b"-----" in text:
        parts = _ARMOUR_RE.split(text)
        # split gives [before, BEGIN, body, END, after]; take the first body.
        if len(parts) < 5 or parts[1] != b"BEGIN":
            raise InputError(f"{what}: PEM armour is incomplete (BEGIN without END).")
        text = parts[2]
    compact = b"".join(text.split())
    if not compact:
        raise InputError(f"{what}: empty.")
    try:
        der = binascii.a2b_base64(compact, strict_mode=True)
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"{what}: not Base64 ({exc}).") from None
    if der[:1] != b"\x30":
        raise InputError(f"{what}: the Base64 text does not decode to a DER structure.")
    return der


# --- Names --------------------------------------------------------------------------------------


def check_member_name(name: str, suffix: str = ".csr") -> str | None:
    """The reason a member name is not acceptable, or None when it is."""
    if "/" in name or "\\" in name:
        return "is inside a folder; CSR files must be at the zip's root"
    if not name.lower().endswith(suffix):
        return f"is not a {suffix} file"
    if not SAFE_NAME_RE.match(name):
        return "has characters other than letters, digits, '.', '_' and '-' in its name"
    return None


def response_zip_name(request_id: str) -> str:
    return f"{request_id}-response.zip"


def report_name(request_id: str) -> str:
    return f"{request_id}.txt"


def request_id_from_response_zip(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    if base.lower().endswith(".zip"):
        base = base[:-4]
    if base.endswith("-response"):
        base = base[: -len("-response")]
    return base


# --- Batch zip ----------------------------------------------------------------------------------


def _zinfo(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    return info


def build_zip(members: Iterable[tuple[str, bytes]], out: BinaryIO | None = None, *,
              comment: bytes = b"") -> bytes:
    """A zip of (name, content) members, deflated, fixed dates. Returns the bytes when `out`
    is None; otherwise writes to `out` and returns b""."""
    target: BinaryIO = out if out is not None else io.BytesIO()
    seen: set[str] = set()
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.comment = comment
        for name, content in members:
            key = name.lower()
            if key in seen:
                raise InputError(f"Zip member {name!r} is named twice.")
            seen.add(key)
            zf.writestr(_zinfo(name), content)
    if out is None:
        assert isinstance(target, io.BytesIO)
        return target.getvalue()
    return b""


def batch_zip_comment(environment: str) -> bytes:
    """The zip comment that marks a batch zip as packaged in `environment` [ours]."""
    if not re.fullmatch(r"[a-z]{1,16}", environment):
        raise InputError(f"Environment {environment!r} is not a name like 'test' or 'live'.")
    return BATCH_ZIP_COMMENT_PREFIX + environment.encode("ascii")


def batch_zip_environment(data: bytes) -> str | None:
    """The environment a batch zip's comment names, or None (no marker: a zip from elsewhere).
    Raises `InputError` when the bytes are not a readable zip."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            comment = zf.comment
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        raise InputError(f"Not a readable zip file ({exc}).") from None
    if not comment.startswith(BATCH_ZIP_COMMENT_PREFIX):
        return None
    return comment[len(BATCH_ZIP_COMMENT_PREFIX):].decode("ascii", "replace").strip() or None


def build_batch_zip(csrs: Sequence[tuple[str, bytes]], out: BinaryIO | None = None, *,
                    environment: str | None = None) -> bytes:
    """The portal upload zip from (file name, CSR DER) pairs; refuses more than 50,000 CSRs,
    bad or duplicate names (InputError names the member). `environment` marks the zip (its
    comment) as packaged there."""
    if len(csrs) > MAX_CSRS_PER_ZIP:
        raise InputError(
            f"A portal batch zip holds at most {MAX_CSRS_PER_ZIP:,} CSRs, not {len(csrs):,}: "
            "split it (see split_names)."
        )
    for name, _ in csrs:
        why = check_member_name(name)
        if why:
            raise InputError(f"CSR file name {name!r} {why}.")
    comment = batch_zip_comment(environment) if environment else b""
    return build_zip(((n, encode_csr_text(d)) for n, d in csrs), out, comment=comment)


_FAST_READ_LIMIT = 512 * 1024 * 1024
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")


def _fast_member(whole: bytes, info: zipfile.ZipInfo, max_member: int) -> bytes | None:
    """A stored or deflated member read straight from the zip's bytes, its CRC checked: the
    same result as `ZipFile.open` at a fraction of its per-member cost. None means "use
    `ZipFile.open`" (anything unusual: encryption, another method, a header that does not
    agree), so that corruption is always reported the same way."""
    if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED,
                                                          zipfile.ZIP_DEFLATED):
        return None
    off = info.header_offset
    head = whole[off : off + _LOCAL_HEADER.size]
    if len(head) != _LOCAL_HEADER.size:
        return None
    fields = _LOCAL_HEADER.unpack(head)
    if fields[0] != b"PK\x03\x04":
        return None
    start = off + _LOCAL_HEADER.size + fields[10] + fields[11]
    comp = whole[start : start + info.compress_size]
    if len(comp) != info.compress_size:
        return None
    if info.compress_type == zipfile.ZIP_STORED:
        raw = comp[: max_member + 1]
    else:
        try:
            d = zlib.decompressobj(-15)
            raw = d.decompress(comp, max_member + 1)
        except zlib.error:
            return None
        if len(raw) <= max_member and not d.eof:
            return None
    if len(raw) <= max_member and (zlib.crc32(raw) != info.CRC or len(raw) != info.file_size):
        return None
    return raw


def iter_zip_raw(
    source: bytes | BinaryIO,
    *,
    suffix: str = ".csr",
    max_member: int = MAX_MEMBER_BYTES,
) -> Iterator[tuple[str, bytes | None, str | None]]:
    """Yield (name, raw content, None) for each acceptable member, or (name, None, reason)
    for each member that cannot be used. Duplicate names: the first is kept, later ones are
    problems. Raises `InputError` only when the zip as a whole cannot be read."""
    _, members = open_zip_raw(source, suffix=suffix, max_member=max_member)
    return members


def open_zip_raw(
    source: bytes | BinaryIO,
    *,
    suffix: str = ".csr",
    max_member: int = MAX_MEMBER_BYTES,
) -> tuple[int, Iterator[tuple[str, bytes | None, str | None]]]:
    """(number of members, lazy iterator as `iter_zip_raw`): the zip's directory is read now
    (an unreadable zip raises `InputError` here), the members as the iterator is consumed."""
    whole: bytes | None = None
    if isinstance(source, bytes | bytearray):
        whole = bytes(source)
    else:
        try:
            size = source.seek(0, io.SEEK_END)
            source.seek(0)
            if size <= _FAST_READ_LIMIT:
                whole = source.read()
        except (OSError, AttributeError, ValueError):
            whole = None
    stream: BinaryIO = io.BytesIO(whole) if whole is not None else source  # type: ignore[assignment]
    try:
        zf = zipfile.ZipFile(stream)
    except NotImplementedError as exc:
        # e.g. a central directory naming a zip version Python cannot read
        raise InputError(f"The zip uses a format this program cannot read ({exc}); write it "
                         "again as a plain zip (stored or deflated).") from None
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise InputError(f"Not a readable zip file ({exc}).") from None
    infos = zf.infolist()
    if len(infos) > MAX_ZIP_MEMBERS:
        zf.close()
        raise InputError(f"The zip has {len(infos):,} members; at most {MAX_ZIP_MEMBERS:,} "
                         "are read.")
    return len(infos), _iter_members(zf, infos, whole, suffix, max_member)


def _iter_members(zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo], whole: bytes | None,
                  suffix: str, max_member: int
                  ) -> Iterator[tuple[str, bytes | None, str | None]]:
    seen: dict[str, str] = {}
    with zf:
        for info in infos:
            name = info.filename
            if info.is_dir():
                yield name, None, "is a folder; CSR files must be at the zip's root"
                continue
            why = check_member_name(name, suffix)
            if why:
                yield name, None, why
                continue
            key = name.lower()
            if key in seen:
                yield name, None, f"duplicate name (same as {seen[key]!r} earlier in the zip)"
                continue
            seen[key] = name
            if info.file_size > max_member:
                yield name, None, (
                    f"oversized member: {info.file_size:,} bytes, the limit is {max_member:,}"
                )
                continue
            raw = _fast_member(whole, info, max_member) if whole is not None else None
            if raw is None:
                try:
                    with zf.open(info) as fh:
                        raw = fh.read(max_member + 1)
                except (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError,
                        NotImplementedError, RuntimeError) as exc:
                    yield name, None, f"corrupt zip entry ({exc})"
                    continue
            if len(raw) > max_member:
                yield name, None, f"oversized member: more than {max_member:,} bytes"
                continue
            yield name, raw, None


def read_zip_members(
    source: bytes | BinaryIO,
    *,
    suffix: str = ".csr",
    what: str = "CSR",
    max_member: int = MAX_MEMBER_BYTES,
) -> ZipContents:
    """All members decoded from Base64 to DER, with problems listed by member name."""
    out = ZipContents()
    for name, raw, why in iter_zip_raw(source, suffix=suffix, max_member=max_member):
        if raw is None:
            out.problems.append(MemberProblem(name, why or "unusable"))
            continue
        try:
            der = decode_base64_text(raw, what)
        except InputError as exc:
            out.problems.append(MemberProblem(name, exc.message))
            continue
        out.members.append(ZipMember(name, der))
    return out


def read_batch_zip(source: bytes | BinaryIO, *, max_member: int = MAX_MEMBER_BYTES) -> ZipContents:
    """The CSRs of a portal upload zip (as DER), with every unusable member named. More than
    50,000 CSR members is itself reported as a problem on the members past the limit."""
    contents = read_zip_members(source, suffix=".csr", what="CSR", max_member=max_member)
    if len(contents.members) > MAX_CSRS_PER_ZIP:
        extra = contents.members[MAX_CSRS_PER_ZIP:]
        del contents.members[MAX_CSRS_PER_ZIP:]
        contents.problems.extend(
            MemberProblem(m.name, f"past the limit of {MAX_CSRS_PER_ZIP:,} CSRs in one zip")
            for m in extra
        )
    return contents


# --- Response zip -------------------------------------------------------------------------------


def build_response_zip(certs: Iterable[tuple[str, bytes]], out: BinaryIO | None = None) -> bytes:
    """The `<request>-response` zip from (CSR file stem, certificate DER) pairs."""
    return build_zip(((f"{stem}.crt", encode_certificate_text(der)) for stem, der in certs), out)


def read_response_zip(source: bytes | BinaryIO) -> ZipContents:
    """The certificates of a response zip (as DER) keyed by member name `<stem>.crt`."""
    return read_zip_members(source, suffix=".crt", what="Certificate")


# --- Report -------------------------------------------------------------------------------------

_REPORT_TITLE = "SMKI Batch Response Report"
_HEADER = ("CSR ID", "File Name", "Status", "Error Code")


def build_report(request_id: str, lines: Iterable[ReportLine]) -> bytes:
    out = [_REPORT_TITLE, f"Request ID: {request_id}", "\t".join(_HEADER)]
    for ln in lines:
        if ln.error_code and not valid_error_code(ln.error_code):
            raise InputError(f"Error code {ln.error_code!r} is not of the form XX:Code (<= 10).")
        out.append("\t".join((ln.csr_id, ln.file_name, ln.status.value, ln.error_code)))
    return ("\n".join(out) + "\n").encode("utf-8")


def valid_error_code(code: str) -> bool:
    return len(code) <= 10 and bool(ERROR_CODE_RE.match(code))


def parse_report(data: bytes, *, source: str = "report") -> Report:
    """Parse a response report. Raises `InputError` naming the line of any malformed row."""
    if len(data) > MAX_REPORT_BYTES:
        raise InputError(f"{source}: {len(data):,} bytes is too large for a batch report.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(not_utf8(source, data, exc)) from None
    request_id = ""
    header_seen = False
    lines: list[ReportLine] = []
    for no, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not header_seen:
            low = line.lower()
            if low.startswith("request id:"):
                request_id = line.split(":", 1)[1].strip()
            elif low.replace(" ", "").replace("_", "").startswith("csrid"):
                header_seen = True
            continue
        sep = "\t" if "\t" in raw else ","
        cells = [c.strip() for c in raw.rstrip("\r\n").split(sep)]
        while len(cells) < 4:
            cells.append("")
        if len(cells) > 4 and any(cells[4:]):
            raise InputError(f"{source} line {no}: {len(cells)} columns, expected 4.")
        csr_id, file_name, status_text, code = cells[:4]
        if not file_name:
            raise InputError(f"{source} line {no}: the file name is missing.")
        try:
            status = ReportStatus(status_text.lower())
        except ValueError:
            raise InputError(
                f"{source} line {no}: status {status_text!r} is not one of success, error, "
                "anomaly, ineligible."
            ) from None
        if code and not valid_error_code(code):
            raise InputError(f"{source} line {no}: error code {code!r} is not of the form XX:Code.")
        lines.append(ReportLine(csr_id, file_name, status, code, no))
    if not header_seen:
        raise InputError(f"{source}: no header line 'CSR ID, File Name, Status, Error Code'.")
    return Report(request_id, tuple(lines))


# --- Splitting and manifest ---------------------------------------------------------------------


def split_names(names: Sequence[str], max_per_zip: int = MAX_CSRS_PER_ZIP) -> list[list[str]]:
    """Split into the fewest parts of at most `max_per_zip`, balanced in size."""
    if max_per_zip <= 0:
        raise InputError("The number of CSRs per zip must be positive.")
    if not names:
        return []
    parts = -(-len(names) // max_per_zip)
    size = -(-len(names) // parts)
    return [list(names[i : i + size]) for i in range(0, len(names), size)]


def part_zip_name(batch: str, index: int, count: int) -> str:
    return f"{batch}.zip" if count == 1 else f"{batch}-part{index:02d}.zip"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def build_manifest(manifest: Manifest) -> bytes:
    doc = {
        "format": MANIFEST_FORMAT,
        "batch": manifest.batch,
        "environment": manifest.environment,
        "total": manifest.total,
        "parts": [
            {"zip": p.zip_name, "count": p.count, "sha256": p.sha256, "files": list(p.files)}
            for p in manifest.parts
        ],
    }
    return (json.dumps(doc, indent=1) + "\n").encode("utf-8")


def parse_manifest(data: bytes, source: str = "manifest") -> Manifest:
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:  # ValueError: also a 5,000-digit number
        raise InputError(f"{source}: not a JSON manifest ({exc}).") from None
    except RecursionError:
        raise InputError(f"{source}: not a JSON manifest (nested too deeply).") from None
    if not isinstance(doc, dict) or doc.get("format") != MANIFEST_FORMAT:
        raise InputError(f"{source}: format is not {MANIFEST_FORMAT!r}.")
    try:
        parts = tuple(
            ManifestPart(str(p["zip"]), int(p["count"]), str(p["sha256"]),
                         tuple(str(f) for f in p["files"]))
            for p in doc["parts"]
        )
        return Manifest(str(doc["batch"]), str(doc["environment"]), int(doc["total"]), parts)
    except (KeyError, TypeError, ValueError, OverflowError) as exc:  # Overflow: int(Infinity)
        raise InputError(f"{source}: missing or wrong field ({exc}).") from None
