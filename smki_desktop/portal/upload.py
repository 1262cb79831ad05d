"""The portal-upload adapter: the files the DCC's browser SMKI Portal takes and gives.

- `org_paste_text`: what an ARO pastes into the portal's Organisation CSR form (PEM armour,
  Base64 wrapped at 64, LF).
- `write_batch`: Device CSR batch zips (each <= 50,000 uniquely named `*.csr` at the root;
  larger batches split evenly, with a JSON manifest) plus an optional reject report, written
  all-or-nothing: every file is staged in a hidden folder beside the outputs
  (`.<batch>.<8 hex>.staging`) and moved into place only when all are complete (after
  `before_place`, where the caller records the batch); an existing file is never replaced.
  A process killed between the two leaves the staging folder: `staging_folders` finds it and
  `place_staged` finishes the placing. While it writes, the process holds an exclusive lock
  (`fcntl.flock`) on a lock file inside its staging folder, which the kernel releases when the
  process ends however it ends: `claim_staging` tells a staging folder left by a process that
  has ended (lock free) from one a packaging is writing now (lock held), and
  `remove_stopped_staging` removes the former. Folders made by versions before the lock have
  no lock file and cannot be told apart: they are never removed here.
- `read_response`: the portal's answer, the `.txt` report and the `<request>-response` zip.

Formats: `core/batch_formats.py`.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import shutil
import stat
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from smki_desktop.core import batch_formats as bf
from smki_desktop.core.errors import Cancelled, InputError, Refusal
from smki_desktop.core.ports import NullProgress, ProgressSink
from smki_desktop.store.atomic import OutputError

try:  # a standard-library module that exists only on POSIX systems
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

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
    before_place: Callable[[PackagedBatch, Path], None] | None = None,
) -> PackagedBatch:
    """Write the batch zips (and manifest when split, and the reject report) into `out_dir`.

    `before_place(result, staging)` runs once every file is staged and synced, with the
    result's final paths set, before any file is placed: what it commits is there before the
    files appear. Whatever fails (it included) places nothing or takes back what was placed,
    and removes the staging folder; a kill leaves the staging folder for `place_staged`."""
    sink = progress or NullProgress()
    _check_request(batch, csrs, max_per_zip)
    parts = bf.split_names([n for n, _ in csrs], max_per_zip)
    zip_names = batch_file_names(batch, len(parts))
    result = PackagedBatch(batch)
    manifest_name = f"{batch}-manifest.json" if len(parts) > 1 else None
    reject_name = f"{batch}-rejected.csv" if reject_csv is not None else None
    _refuse_existing(out_dir, [*zip_names, manifest_name, reject_name])
    staging, lock = _staging_folder(out_dir, batch)
    placed: list[Path] = []
    try:
        with _naming(out_dir):
            _stage_zips(staging, csrs, parts, zip_names, environment, result, sink)
            if manifest_name:
                man = bf.Manifest(batch, environment, len(csrs), tuple(result.parts))
                _write_synced(staging / manifest_name, bf.build_manifest(man))
            if reject_name and reject_csv is not None:
                _write_synced(staging / reject_name, reject_csv)
        result.zips = [out_dir / z for z in zip_names]
        result.manifest = out_dir / manifest_name if manifest_name else None
        result.reject_report = out_dir / reject_name if reject_name else None
        if before_place is not None:
            before_place(result, staging)
        with _naming(out_dir, placing=True):
            _place_all(staging, out_dir, [p.name for p in result.files], placed)
    except BaseException:
        _unlink_all(placed)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if lock is not None:
            os.close(lock)  # released only once its folder is gone
    return result


STAGING_SUFFIX = ".staging"
STAGING_LOCK = ".packaging.lock"
"""The lock file inside a staging folder, locked by the process writing it."""
STAGING_RE = re.compile(r"\.[A-Za-z0-9._-]{1,200}\.[0-9a-f]{8}" + re.escape(STAGING_SUFFIX))
"""A staging folder's name, of any batch: `.<batch>.<8 hex>.staging`."""

FREE = "free"
"""`claim_staging`: the lock is free (its process has ended) and now held by the caller."""
HELD = "held"
"""`claim_staging`: a process holds the lock: a packaging is writing the folder now."""
NO_LOCK = "no lock"
"""`claim_staging`: no usable lock file (made by a version before the lock, or being made
this instant), or no locks on this system: cannot be told from a packaging running now."""


def staging_folders(out_dir: Path, batch: str) -> list[Path]:
    """The staging folders that a write of `batch` into `out_dir` left there (a process killed
    before it placed the files), oldest first; none when the folder cannot be read."""
    pattern = re.compile(rf"\.{re.escape(batch)}\.[0-9a-f]{{8}}{re.escape(STAGING_SUFFIX)}")
    try:
        found = [p for p in Path(out_dir).iterdir()
                 if pattern.fullmatch(p.name) and _real_folder(p)]
    except OSError:
        return []
    return sorted(found, key=lambda p: (_mtime(p), p.name))


def all_staging_folders(out_dir: Path) -> list[Path]:
    """Every folder in `out_dir` named as a staging folder of any batch (a folder itself, not
    a link to one), by name; none when the folder cannot be read."""
    try:
        found = [p for p in Path(out_dir).iterdir()
                 if STAGING_RE.fullmatch(p.name) and _real_folder(p)]
    except OSError:
        return []
    return sorted(found)


def staging_batch(staging: Path) -> str:
    """The batch name a staging folder was made for (`.<batch>.<8 hex>.staging`)."""
    return staging.name[1 : -len(STAGING_SUFFIX) - 9]


@contextlib.contextmanager
def claim_staging(staging: Path) -> Iterator[str]:
    """Try, without waiting, to take the lock of a staging folder: `FREE` (the process that
    made it has ended; the caller holds the lock until the block ends, so no other process
    claims it meanwhile), `HELD` (a packaging is writing it now, in this process or another),
    `NO_LOCK`, or "" when it is not a staging folder of ours (another name, a link, a file).
    Never follows a link, and never blocks on one."""
    if not STAGING_RE.fullmatch(staging.name) or not _real_folder(staging):
        yield ""
        return
    if fcntl is None:  # pragma: no cover - Windows
        yield NO_LOCK
        return
    nofollow = os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        folder = os.open(staging, os.O_RDONLY | os.O_DIRECTORY | nofollow)
    except OSError:
        yield ""  # gone, or swapped for a link since it was listed
        return
    try:
        try:
            lock = os.open(STAGING_LOCK, os.O_RDONLY | os.O_NONBLOCK | nofollow, dir_fd=folder)
        except OSError:
            yield NO_LOCK  # none (an older version's), a link, or unreadable
            return
        try:
            if not stat.S_ISREG(os.fstat(lock).st_mode):
                yield NO_LOCK
                return
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                yield HELD
                return
            yield FREE
        finally:
            os.close(lock)
    finally:
        os.close(folder)


def remove_stopped_staging(staging: Path) -> list[str]:
    """Remove a staging folder claimed `FREE` (inside `claim_staging`'s block); returns the
    names of the staged files it held. Refused, nothing removed, when it holds anything but
    files (a folder or a link put there: not ours to remove); a link is never followed."""
    names: list[str] = []
    with os.scandir(staging) as entries:
        for e in entries:
            if not e.is_file(follow_symlinks=False):
                raise Refusal(f"{staging} holds {e.name}, which is not a staged file; the "
                              "folder was left as found.")
            names.append(e.name)
    shutil.rmtree(staging)  # refuses a link; removes what is inside without following any
    _fsync_dir(staging.parent)
    return sorted(n for n in names if not n.startswith(STAGING_LOCK))


def _real_folder(p: Path) -> bool:
    """A folder itself, not a link to one."""
    try:
        return stat.S_ISDIR(os.lstat(p).st_mode)
    except OSError:
        return False


def place_staged(staging: Path, out_dir: Path, names: Sequence[str]) -> list[Path]:
    """Place the staged files `names` into `out_dir` as `write_batch` does (a new name linked
    to the staged file; nothing replaced), skipping a name already placed with the same
    content: the placing of a killed `write_batch` finished. Returns the files placed now.
    A name in place with other content, or missing from the staging folder, is refused (its
    name said) before any is placed."""
    todo: list[str] = []
    for name in names:
        staged, final = staging / name, out_dir / name
        if not staged.is_file():
            raise Refusal(f"{staged} is missing: the staged files are not complete; "
                          "nothing was placed.")
        if final.exists() or final.is_symlink():
            if not _same_content(staged, final):
                raise Refusal(f"{final} exists and is not the file staged for it in {staging}; "
                              "nothing was replaced or placed.")
            continue
        todo.append(name)
    placed: list[Path] = []
    with _naming(out_dir, placing=True):
        for name in todo:
            final = out_dir / name
            try:
                os.link(staging / name, final)
            except FileExistsError:
                if _same_content(staging / name, final):
                    continue
                raise Refusal(f"{final} appeared while its staged file was being placed; it "
                              "was not replaced.") from None
            placed.append(final)
        _fsync_dir(out_dir)
    return placed


def remove_staging(staging: Path) -> None:
    """Remove a staging folder whose files are all placed."""
    shutil.rmtree(staging, ignore_errors=True)


def _same_content(a: Path, b: Path) -> bool:
    try:
        return a.stat().st_size == b.stat().st_size and sha256_file(a) == sha256_file(b)
    except OSError:
        return False


def _mtime(p: Path) -> float:
    try:
        return p.stat().st_mtime
    except OSError:
        return 0.0


@contextlib.contextmanager
def _naming(out_dir: Path, *, placing: bool = False) -> Iterator[None]:
    """An OSError while staging or placing becomes an `OutputError` naming the file (by its
    name in `out_dir`, not the hidden staging folder) and its cause."""
    try:
        yield
    except OSError as exc:
        name = Path(str(exc.filename)).name if exc.filename else ""
        what = f"{out_dir / name}" if name else f"the batch into {out_dir}"
        cause = exc.strerror or str(exc)
        if exc.errno == errno.ENOSPC:
            cause = "the disk is full (no space left on device)"
        verb = "put" if placing else "write"
        where = " in place" if placing and name else ""
        raise OutputError(f"Cannot {verb} {what}{where}: {cause}. Nothing was written.") \
            from exc


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


def _staging_folder(out_dir: Path, batch: str) -> tuple[Path, int | None]:
    """A new staging folder, with its lock file locked by this process (the descriptor to
    close once the folder is gone; None where there are no locks)."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        for _ in range(100):
            folder = out_dir / f".{batch}.{secrets.token_hex(4)}{STAGING_SUFFIX}"
            try:
                folder.mkdir(mode=0o700)
            except FileExistsError:
                continue
            try:
                return folder, _lock_staging(folder)
            except BaseException:
                shutil.rmtree(folder, ignore_errors=True)
                raise
        raise FileExistsError(errno.EEXIST, "no free staging folder name", str(out_dir))
    except OSError as exc:
        raise OutputError(f"Cannot write into {out_dir}: {exc.strerror or exc}.") from exc


def _lock_staging(folder: Path) -> int | None:
    """Lock the staging folder's lock file, locked before it takes its name: whoever finds
    the lock file finds it locked while this process lives (the kernel releases it when the
    process ends, however it ends)."""
    if fcntl is None:  # pragma: no cover - Windows
        return None
    new = folder / (STAGING_LOCK + ".new")
    fd = os.open(new, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.rename(new, folder / STAGING_LOCK)
    except BaseException:
        os.close(fd)
        raise
    return fd


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
        try:
            with open(staged, "wb") as fh:
                bf.build_batch_zip(chunk, fh, environment=environment)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            exc.filename = exc.filename or str(staged)  # a failed write names no file
            raise
        digest = sha256_file(staged)
        result.parts.append(bf.ManifestPart(zname, len(chunk), digest, tuple(part_names)))
        result.counts.append(len(chunk))
        sink.progress(pos, total, f"Packaging {zname}")


def _place_all(staging: Path, out_dir: Path, names: Sequence[str], placed: list[Path]) -> None:
    """All complete: move each staged file into place without replacing anything."""
    for name in names:
        staged, final = staging / name, out_dir / name
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
    try:
        with open(path, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:
        exc.filename = exc.filename or str(path)  # a failed write names no file
        raise


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def sha256_file(path: Path) -> str:
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
