"""Device CSR batches, pure: the CSV import layout, the batch rules (duplicates, allowed device
range, 100 certificates per device) and the reject report.

Sources (read by the `services/devices` package, which hands the bytes here or to `batch_formats`):
- a **folder** of `*.csr` files (PEM or Base64 or DER), one CSR per file;
- a **zip** of `*.csr` files at its root (the portal batch layout, `core/batch_formats.py`);
- a **CSV** (UTF-8, comma separated, LF or CRLF) with the header `device_eui,usage,csr`:
  `device_eui` the device's EUI-64 in any form `Eui64.parse` accepts, `usage` `signing` /
  `key-agreement` (or `ds` / `ka`), `csr` the PKCS#10 DER as Base64 on one line without armour.
  EUI and usage are declarations: a CSR whose own SAN EUI or keyUsage differs is rejected.

Each CSR keeps where it came from (`source` file and `locator`: `line N` or the member / file
name) so that every rejection names it. Rejections never stop the valid CSRs.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from smki_desktop.core.batch_formats import decode_base64_text
from smki_desktop.core.errors import InputError
from smki_desktop.core.eui import Eui64, EuiRange
from smki_desktop.core.spreadsheet import safe_cell
from smki_desktop.core.wording import not_utf8

MAX_CERTS_PER_DEVICE = 100
CSV_HEADER = ("device_eui", "usage", "csr")
_USAGE_WORDS = {
    "signing": "signing", "ds": "signing", "digitalsignature": "signing",
    "key-agreement": "key-agreement", "ka": "key-agreement", "keyagreement": "key-agreement",
}
_SHORT = {"signing": "ds", "key-agreement": "ka"}


@dataclass(slots=True)
class SourceEntry:
    """One CSR as read from a source, before checking."""

    source: str
    locator: str
    der: bytes
    declared_eui: bytes | None = None
    declared_usage: str | None = None


@dataclass(frozen=True, slots=True)
class Rejection:
    source: str
    locator: str
    code: str
    reason: str
    eui: str = ""  # hyphenated text when known
    usage: str = ""

    @property
    def where(self) -> str:
        return f"{self.source} {self.locator}".strip() if self.locator else self.source


@dataclass(frozen=True, slots=True)
class AcceptedCsr:
    source: str
    locator: str
    der: bytes
    eui: bytes
    usage: str
    key_id: str

    @property
    def eui_text(self) -> str:
        return str(Eui64(self.eui))

    @property
    def file_name(self) -> str:
        return packaged_name(self.eui, self.usage, self.key_id)


@dataclass
class Assessment:
    accepted: list[AcceptedCsr] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.accepted) + len(self.rejected)


def packaged_name(eui: bytes, usage: str, key_id: str) -> str:
    """The unique file name a CSR gets in a portal zip: `<EUIHEX>-<ds|ka>-<key id 12>.csr`."""
    return f"{eui.hex().upper()}-{_SHORT.get(usage, 'xx')}-{key_id[:12]}.csr"


def parse_usage(text: str) -> str | None:
    return _USAGE_WORDS.get(text.strip().lower().replace("_", "-").replace(" ", ""))


def parse_csv(data: bytes, source: str) -> tuple[list[SourceEntry], list[Rejection]]:
    """Entries of a `device_eui,usage,csr` CSV; bad rows become rejections naming the line.
    A missing or wrong header is an `InputError` (the whole file is unusable)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(not_utf8(source, data, exc)) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    entries: list[SourceEntry] = []
    rejects: list[Rejection] = []
    header_seen = False
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            # e.g. a field over the csv module's limit (131,072 characters): the rest of the
            # file cannot be read reliably, so the whole file is refused, naming the line
            raise InputError(f"{source} line {max(reader.line_num, 1)}: {exc}; a device CSR "
                             "field is a few hundred characters.") from None
        line = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        if not header_seen:
            cells = tuple(c.strip().lower() for c in row)
            if cells != CSV_HEADER:
                raise InputError(
                    f"{source} line {line}: the header must be 'device_eui,usage,csr', "
                    f"not {','.join(row)!r}."
                )
            header_seen = True
            continue
        where = f"line {line}"
        if len(row) != 3:
            rejects.append(Rejection(source, where, "csv",
                                     f"{len(row)} columns; expected device_eui,usage,csr"))
            continue
        eui_text, usage_text, b64 = (c.strip() for c in row)
        try:
            eui = Eui64.parse(eui_text, "device_eui")
        except InputError as exc:
            rejects.append(Rejection(source, where, "csv", exc.message))
            continue
        usage = parse_usage(usage_text)
        if usage is None:
            rejects.append(Rejection(source, where, "csv",
                                     f"usage {usage_text!r} is not signing or key-agreement",
                                     str(eui)))
            continue
        if not b64:
            rejects.append(Rejection(source, where, "csv", "the csr column is empty", str(eui),
                                     usage))
            continue
        try:
            der = decode_base64_text(b64.encode("ascii", "replace"), "csr column")
        except InputError as exc:
            rejects.append(Rejection(source, where, "parse", exc.message, str(eui), usage))
            continue
        entries.append(SourceEntry(source, where, der, eui.octets, usage))
    if not header_seen:
        raise InputError(f"{source}: empty; expected the header 'device_eui,usage,csr'.")
    return entries, rejects


def build_csv(rows: Iterable[tuple[bytes, str, bytes]]) -> bytes:
    """A `device_eui,usage,csr` CSV from (eui octets, usage, CSR DER)."""
    import base64

    out = io.StringIO(newline="")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_HEADER)
    for eui, usage, der in rows:
        w.writerow((str(Eui64(eui)), usage, base64.b64encode(der).decode("ascii")))
    return out.getvalue().encode("utf-8")


CheckResult = tuple[str, str, bytes, str, str, str]
"""(code, reason, eui, usage, key_id, hw_type) as produced by `crypto.device_csr`."""


def assess(
    entries: Sequence[SourceEntry],
    checks: Sequence[CheckResult],
    *,
    device_ranges: Sequence[EuiRange] = (),
    known_keys: Mapping[str, str] | None = None,
    known_counts: Mapping[bytes, int] | None = None,
    known_pairs: Mapping[tuple[bytes, str], str] | None = None,
    max_per_device: int = MAX_CERTS_PER_DEVICE,
) -> Assessment:
    """Apply the batch rules to checked entries (same order as `checks`).

    - profile/signature failures from the check;
    - declared EUI / usage (CSV) must match the CSR's own;
    - device EUI inside one of `device_ranges` when any are configured;
    - duplicates: the same key twice in this batch, or a key already known (`known_keys`:
      key id -> where it was seen); the same device EUI + usage twice in this batch or already
      pending (`known_pairs`);
    - at most `max_per_device` certificates per device, counting those known (`known_counts`:
      issued or requested before) plus this batch."""
    if len(entries) != len(checks):
        raise ValueError("entries and checks differ in length")
    keys = dict(known_keys or {})
    counts: dict[bytes, int] = dict(known_counts or {})
    pairs = dict(known_pairs or {})
    out = Assessment()
    ranges = list(device_ranges)
    for entry, chk in zip(entries, checks, strict=True):
        code, reason, eui, usage, key_id, _hw = chk
        eui_text = str(Eui64(eui)) if len(eui) == 8 else ""

        def reject(c: str, r: str, entry: SourceEntry = entry, eui_text: str = eui_text,
                   usage: str = usage) -> None:
            out.rejected.append(Rejection(entry.source, entry.locator, c, r, eui_text, usage))

        if code:
            reject(code, reason)
            continue
        if entry.declared_eui is not None and entry.declared_eui != eui:
            reject("declared", f"the CSV says device {Eui64(entry.declared_eui)} but the CSR is "
                               f"for {eui_text}")
            continue
        if entry.declared_usage is not None and entry.declared_usage != usage:
            reject("declared", f"the CSV says {entry.declared_usage} but the CSR asks for {usage}")
            continue
        if ranges and not any(Eui64(eui) in r for r in ranges):
            listed = ", ".join(str(r) for r in ranges)
            reject("range", f"device {eui_text} is outside the allowed device range {listed}")
            continue
        if key_id in keys:
            reject("duplicate-key", f"the same key as {keys[key_id]}")
            continue
        pair = (eui, usage)
        if pair in pairs:
            reject("duplicate-device",
                   f"device {eui_text} already has a {usage} CSR in {pairs[pair]}")
            continue
        n = counts.get(eui, 0)
        if n >= max_per_device:
            reject("device-limit",
                   f"device {eui_text} already has {n} certificates or requests; at most "
                   f"{max_per_device} are issued per device ID over its lifetime")
            continue
        counts[eui] = n + 1
        where = f"{entry.source} {entry.locator}".strip()
        keys[key_id] = where
        pairs[pair] = where
        out.accepted.append(AcceptedCsr(entry.source, entry.locator, entry.der, eui, usage,
                                        key_id))
    return out


def reject_report_csv(rejections: Iterable[Rejection]) -> bytes:
    """The reject report as CSV: source,locator,device_eui,usage,code,reason."""
    out = io.StringIO(newline="")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(("source", "locator", "device_eui", "usage", "code", "reason"))
    for r in rejections:
        w.writerow(tuple(safe_cell(v) for v in (r.source, r.locator, r.eui, r.usage, r.code,
                                                r.reason)))
    return out.getvalue().encode("utf-8")


def reject_report_text(rejections: Sequence[Rejection], limit: int | None = None) -> str:
    shown = rejections if limit is None else rejections[:limit]
    lines = [f"REJECTED {r.where}: {r.reason}" for r in shown]
    if limit is not None and len(rejections) > limit:
        lines.append(f"... and {len(rejections) - limit} more (see the reject report)")
    return "\n".join(lines)
