"""The portal-upload adapter: the files the DCC's browser SMKI Portal takes and gives.

- `org_paste_text`: what an ARO pastes into the portal's Organisation CSR form (PEM armour,
  Base64 wrapped at 64, LF).
- `write_batch`: Device CSR batch zips (each <= 50,000 uniquely named `*.csr` at the root;
  larger batches split evenly, with a JSON manifest) plus an optional reject report, written
  all-or-nothing: every file is staged in a hidden folder beside the outputs and moved into place
  only when all are complete; an existing file is never replaced.
- `read_response`: the portal's answer, the `.txt` report and the `<request>-response` zip.

Formats: `core/batch_formats.py`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from smki_desktop.core import batch_formats as bf
from smki_desktop.core.errors import Cancelled, InputError, Refusal
from smki_desktop.core.ports import NullProgress, ProgressSink
from smki_desktop.store.atomic import OutputError

MAX_RESPONSE_ZIP_BYTES = 512 * 1024 * 1024


def org_paste_text(csr_der: bytes) -> str:
    """The Organisation CSR as the portal form takes it."""
    return bf.encode_csr_text(csr_der).decode("ascii")


@dataclass
class PackagedBatch:
    batch: str
    zips: list[Path] = field(default_factory=list)
    counts: list[int] = field(default_factory=list)
    manifest: Path | None = None
    reject_report: Path | None = None
    parts: list[bf.ManifestPart] = field(default_factory=list)

    @property
    def files(self) -> list[Path]:
        out = list(self.zips)
        if self.manifest:
            out.append(self.manifest)
        if self.reject_report:
            out.append(self.reject_report)
        return out


def batch_file_names(batch: str, n_parts: int) -> list[str]:
    return [bf.part_zip_name(batch, i + 1, n_parts) for i in range(n_parts)]


def write_batch(
    out_dir: Path,
    batch: str,
    csrs: Sequence[tuple[str, bytes]],
    *,
    environment: str,
    max_per_zip: int = bf.MAX_CSRS_PER_ZIP,
    reject_csv: bytes | None = None,
    progress: ProgressSink | None = None,
) -> PackagedBatch:
    """Write the batch zips (and manifest when split, and the reject report) into `out_dir`."""
    sink = progress or NullProgress()
    _check_request(batch, csrs, max_per_zip)
    parts = bf.split_names([n for n, _ in csrs], max_per_zip)
    zip_names = batch_file_names(batch, len(parts))
    result = PackagedBatch(batch)
    manifest_name = f"{batch}-manifest.json" if len(parts) > 1 else None
    reject_name = f"{batch}-rejected.csv" if reject_csv is not None else None
    _refuse_existing(out_dir, [*zip_names, manifest_name, reject_name])
    staging = _staging_folder(out_dir, batch)
    placed: list[Path] = []
    try:
        _stage_zips(staging, csrs, parts, zip_names, environment, result, sink)
        if manifest_name:
            man = bf.Manifest(batch, environment, len(csrs), tuple(result.parts))
            _write_synced(staging / manifest_name, bf.build_manifest(man))
        if reject_name and reject_csv is not None:
            _write_synced(staging / reject_name, reject_csv)
        _place_all(staging, out_dir, placed)
    except OSError as exc:
        _unlink_all(placed)
        raise OutputError(f"Cannot write the batch into {out_dir}: {exc.strerror or exc}. "
                          "Nothing was written.") from exc
    except BaseException:
        _unlink_all(placed)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    result.zips = [out_dir / z for z in zip_names]
    result.manifest = out_dir / manifest_name if manifest_name else None
    result.reject_report = out_dir / reject_name if reject_name else None
    return result


def _check_request(batch: str, csrs: Sequence[tuple[str, bytes]], max_per_zip: int) -> None:
    if not bf.SAFE_NAME_RE.match(batch):
        raise InputError(f"Batch name {batch!r}: letters, digits, '.', '_' and '-' only.")
    if max_per_zip > bf.MAX_CSRS_PER_ZIP or max_per_zip < 1:
        raise InputError(f"CSRs per zip: between 1 and {bf.MAX_CSRS_PER_ZIP:,}.")
    if not csrs:
        raise Refusal("No valid CSR to package.")


def _refuse_existing(out_dir: Path, names: Sequence[str | None]) -> None:
    """An output file that exists already is never replaced: refuse before writing any."""
    for name in names:
        if name and (out_dir / name).exists():
            raise Refusal(f"{out_dir / name} already exists; choose another output folder or "
                          "batch name.")


def _staging_folder(out_dir: Path, batch: str) -> Path:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        return Path(tempfile.mkdtemp(prefix=f".{batch}.", suffix=".staging", dir=out_dir))
    except OSError as exc:
        raise OutputError(f"Cannot write into {out_dir}: {exc.strerror or exc}.") from exc


def _stage_zips(staging: Path, csrs: Sequence[tuple[str, bytes]], parts: Sequence[Sequence[str]],
                zip_names: Sequence[str], environment: str, result: PackagedBatch,
                sink: ProgressSink) -> None:
    """Write each part's zip into the staging folder, noting its count and digest."""
    pos = 0
    total = len(csrs)
    for part_names, zname in zip(parts, zip_names, strict=True):
        if sink.cancelled:
            raise Cancelled("Packaging cancelled; nothing was written.")
        chunk = csrs[pos : pos + len(part_names)]
        pos += len(part_names)
        staged = staging / zname
        with open(staged, "wb") as fh:
            bf.build_batch_zip(chunk, fh, environment=environment)
            fh.flush()
            os.fsync(fh.fileno())
        digest = _sha256_file(staged)
        result.parts.append(bf.ManifestPart(zname, len(chunk), digest, tuple(part_names)))
        result.counts.append(len(chunk))
        sink.progress(pos, total, f"Packaging {zname}")


def _place_all(staging: Path, out_dir: Path, placed: list[Path]) -> None:
    """All complete: move each staged file into place without replacing anything."""
    for staged in sorted(staging.iterdir()):
        final = out_dir / staged.name
        try:
            os.link(staged, final)
        except FileExistsError:
            raise Refusal(f"{final} appeared while packaging; nothing was written.") from None
        placed.append(final)
    _fsync_dir(out_dir)


def _unlink_all(paths: Sequence[Path]) -> None:
    for p in paths:
        with contextlib.suppress(OSError):
            p.unlink()


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass
class ResponseBundle:
    request_id: str
    report: bf.Report
    certificates: bf.ZipContents


def read_response(report_path: Path, zip_path: Path | None) -> ResponseBundle:
    """Read the portal's `.txt` report and (when given) its `-response` zip."""
    try:
        report_bytes = Path(report_path).read_bytes()
    except OSError as exc:
        raise InputError(f"Cannot read the report {report_path}: {exc.strerror or exc}.") \
            from None
    report = bf.parse_report(report_bytes, source=Path(report_path).name)
    certs = bf.ZipContents()
    if zip_path is not None:
        try:
            size = Path(zip_path).stat().st_size
        except OSError as exc:
            raise InputError(f"Cannot read {zip_path}: {exc.strerror or exc}.") from None
        if size > MAX_RESPONSE_ZIP_BYTES:
            raise InputError(f"{zip_path}: {size:,} bytes is too large for a response zip.")
        try:
            with open(zip_path, "rb") as fh:
                certs = bf.read_response_zip(fh)
        except InputError as exc:
            raise InputError(f"{zip_path}: {exc.message}") from None
    request_id = report.request_id or (
        bf.request_id_from_response_zip(str(zip_path)) if zip_path else "")
    return ResponseBundle(request_id, report, certs)
