"""Test devices (Test environment only): key pairs and Device CSRs for EUIs in
00-DB-12-34-56-xx-xx-xx, written as a zip, a CSV or a folder, with an optional TEST-ONLY file of
their private keys. The keys never go to the OS keyring. Everything is written, or nothing."""

from __future__ import annotations

import base64
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from smki_desktop.core import batch_formats as bf
from smki_desktop.core import device_batch as batch
from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError, Refusal
from smki_desktop.core.eui import Eui64
from smki_desktop.core.ports import ProgressSink
from smki_desktop.crypto import device_csr as dc
from smki_desktop.services.context import AppContext
from smki_desktop.services.device_matching import hw_types
from smki_desktop.store.repos import devices as repo

TEST_DEVICE_BASE = 0x00DB123456000000
"""Test device EUIs: 00-DB-12-34-56-xx-xx-xx (the DCC test devices' 00-DB-12-34-56-78-90-xx,
widened to six free hex digits so that 50,000 and more fit)."""
TEST_DEVICE_LAST = 0x00DB123456FFFFFF
KEYS_FILE = "TEST-ONLY-device-keys.csv"
TARGETS = {"zip": "test-devices.zip", "csv": "test-devices.csv", "folder": "test-devices"}

Generated = dc.GenTuple
"""(EUI, usage, CSR DER, PKCS#8 key or b"") as `crypto.device_csr.generate_many` makes them."""


@dataclass
class GenerateResult:
    count: int
    devices: int
    out: Path
    keys_file: Path | None
    first_eui: str
    last_eui: str
    seconds: float
    audit: AuditEntry

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "devices": self.devices, "out": str(self.out),
                "keys_file": str(self.keys_file) if self.keys_file else None,
                "first_eui": self.first_eui, "last_eui": self.last_eui,
                "seconds": round(self.seconds, 3)}


def next_test_eui(ctx: AppContext) -> int:
    top = repo.max_eui_between(ctx.db, ctx.env.value, f"{TEST_DEVICE_BASE:016X}",
                               f"{TEST_DEVICE_LAST:016X}")
    return int(top, 16) + 1 if top else TEST_DEVICE_BASE


def test_device_plan(count: int, first: int, usage: str) -> list[tuple[bytes, str]]:
    """(eui, usage) for `count` CSRs; with usage "both" each device gets a signing and a
    key-agreement CSR."""
    usages = list(dc.USAGES) if usage == "both" else [usage]
    out = []
    for i in range(count):
        eui = first + i // len(usages)
        out.append((eui.to_bytes(8, "big"), usages[i % len(usages)]))
    return out


def _check_request(ctx: AppContext, count: int, usage: str, fmt: str) -> None:
    if ctx.env is not Environment.TEST:
        raise Refusal("Test devices can only be generated in the Test environment; this is "
                      f"the {ctx.env.label} environment.")
    if count < 1:
        raise InputError("Number of CSRs: at least 1.", hint="field.count")
    if usage not in ("both", *dc.USAGES):
        raise InputError(f"Usage {usage!r}: use signing, key-agreement or both.",
                         hint="field.usage")
    if fmt not in TARGETS:
        raise InputError(f"Output form {fmt!r}: use zip, csv or folder.", hint="field.format")
    if fmt == "zip" and count > bf.MAX_CSRS_PER_ZIP:
        raise InputError(f"Number of CSRs {count:,}: a zip holds at most "
                         f"{bf.MAX_CSRS_PER_ZIP:,} CSRs; write a CSV file or a folder instead.",
                         hint="field.format")


def generate_test(ctx: AppContext, count: int, out_dir: Path, *, discard_keys: bool = False,
                  first_eui: str | None = None, usage: str = "both", fmt: str = "zip",
                  progress: ProgressSink | None = None,
                  processes: int | None = None) -> GenerateResult:
    """Make `count` test device key pairs and Device CSRs (Test only). Output in `out_dir`:
    `test-devices.zip` (or `.csv`, or a `test-devices/` folder of `.csr`) and, unless
    `discard_keys`, `TEST-ONLY-device-keys.csv` with the PKCS#8 private keys (mode 0600).
    The keys never go to the OS keyring. Everything is written, or nothing."""
    _check_request(ctx, count, usage, fmt)
    first = (int(Eui64.parse(first_eui, "First device EUI")) if first_eui
             else next_test_eui(ctx))
    plan = test_device_plan(count, first, usage)
    last = int.from_bytes(plan[-1][0], "big")
    if last >= 1 << 64:
        raise InputError("First device EUI: the range runs past FF-FF-FF-FF-FF-FF-FF-FF.",
                         hint="field.first-eui")
    out_dir = Path(out_dir)
    target = out_dir / TARGETS[fmt]
    keys_path = None if discard_keys else out_dir / KEYS_FILE
    for t in (target, keys_path):
        if t is not None and t.exists():
            raise Refusal(f"{t} already exists; choose another output folder.")
    hw = hw_types(ctx)
    if not hw:
        raise Refusal("No hwType OID is configured for this environment's device profile.")
    start = time.perf_counter()
    gen = dc.generate_many(plan, hw[0], keep_keys=not discard_keys, processes=processes,
                           progress=progress)
    seconds = time.perf_counter() - start
    # Written before the record, unlike other exports: the files are of unbounded size (no
    # transaction is held over them) and no stored row goes with them. A kill in between
    # leaves synthetic Test CSRs unrecorded, which no request uses until submitted (audited).
    _write_all(out_dir, target, fmt, gen, keep_keys=keys_path is not None)
    devices = len({e for e, _ in plan})
    entry = ctx.audit.record(
        "devices.generate-test",
        {"count": count, "devices": devices, "out": str(target), "usage": usage,
         "first_eui": str(Eui64(plan[0][0])), "last_eui": str(Eui64(plan[-1][0])),
         "keys": str(keys_path) if keys_path else "discarded"},
    )
    return GenerateResult(count, devices, target, keys_path, str(Eui64(plan[0][0])),
                          str(Eui64(plan[-1][0])), seconds, entry)


def _write_all(out_dir: Path, target: Path, fmt: str, gen: Sequence[Generated], *,
               keep_keys: bool) -> None:
    """Stage every output in a hidden folder beside them, then move each into place; on any
    failure nothing stays."""
    names = [batch.packaged_name(e, u, dc.key_id_for_point(_point_of(d))) for e, u, d, _ in gen]
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".generate.", suffix=".staging", dir=out_dir))
    placed: list[Path] = []
    try:
        _write_csrs(staging / target.name, fmt, names, gen)
        if keep_keys:
            _write_keys(staging / KEYS_FILE, names, gen)
        for item in sorted(staging.iterdir()):
            final = out_dir / item.name
            if final.exists():
                raise Refusal(f"{final} appeared meanwhile; nothing was written.")
            os.rename(item, final)
            placed.append(final)
    except BaseException:
        for p in placed:
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            else:
                p.unlink(missing_ok=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_csrs(staged: Path, fmt: str, names: list[str], gen: Sequence[Generated]) -> None:
    if fmt == "zip":
        with open(staged, "wb") as fh:
            bf.build_batch_zip([(n, g[2]) for n, g in zip(names, gen, strict=True)], fh)
            _sync(fh)
    elif fmt == "csv":
        with open(staged, "wb") as fh:
            fh.write(batch.build_csv((e, u, d) for e, u, d, _ in gen))
            _sync(fh)
    else:
        staged.mkdir()
        for n, g in zip(names, gen, strict=True):
            (staged / n).write_bytes(bf.encode_csr_text(g[2]))


def _write_keys(staged: Path, names: list[str], gen: Sequence[Generated]) -> None:
    with open(staged, "wb") as fh:
        os.fchmod(fh.fileno(), 0o600)
        fh.write(b"# TEST ONLY: device private keys made by SMKI Desktop "
                 b"`devices generate-test` (Test environment). Never use in Live.\n")
        fh.write(b"device_eui,usage,csr_file,private_key_pkcs8\n")
        for n, (e, u, _, k) in zip(names, gen, strict=True):
            fh.write(f"{Eui64(e)},{u},{n},".encode() + base64.b64encode(k) + b"\n")
        _sync(fh)


def _point_of(csr_der: bytes) -> bytes:
    """The public point of a CSR built by `crypto.device_csr` (SPKI at a known place)."""
    i = csr_der.index(dc._P256_SPKI_PREFIX) + len(dc._P256_SPKI_PREFIX)
    return csr_der[i : i + 65]


def _sync(fh: IO[bytes]) -> None:
    fh.flush()
    os.fsync(fh.fileno())
