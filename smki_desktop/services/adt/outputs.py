"""The output set of a signing (signature, manifest, manifest signature): which existing files
are in the way, what a killed signing left, and writing or publishing a set all-or-nothing."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from pathlib import Path

from smki_desktop.core.errors import Refusal
from smki_desktop.services.adt.common import default_paths, sha_of
from smki_desktop.services.context import AppContext
from smki_desktop.store.atomic import (
    OutputError,
    check_output,
    part_files,
    publish,
    write_atomic,
)

SIGNING_ACTIONS = ("adt.sign", "quarantine.sign")


def signed_output_hashes(ctx: AppContext) -> set[str]:
    """The SHA-256 of every signature and manifest this environment's signings recorded in the
    audit log (recorded before the outputs are published)."""
    found: set[str] = set()
    for action in SIGNING_ACTIONS:
        for e in ctx.audit.entries(action_prefix=action):
            for k in ("signature", "manifest", "manifest_signature"):
                if k in e.artifacts:
                    found.add(e.artifacts[k])
    return found


def signing_record_of(ctx: AppContext, signature_sha256: str, file_sha256: str) -> int | None:
    """The number of the audit record of a signing here whose signature is these bytes or whose
    file is this content, or None. The file's own hash counts because a signature's can be
    changed without breaking it (an unsigned attribute or another certificate added, the
    encoding of its value changed): the bytes signed cannot."""
    for action in SIGNING_ACTIONS:
        for e in ctx.audit.entries(action_prefix=action):
            if signature_sha256 == e.artifacts.get("signature") \
                    or file_sha256 == e.artifacts.get("file"):
                return e.seq
    return None


def interrupted_leftovers(ctx: AppContext, outputs: Sequence[Path]) -> set[Path]:
    """The outputs of a signing that was killed while publishing them: the completing file
    (the manifest signature) is absent and each present output is one the audit log recorded
    for a signing. Empty when the set is complete, absent, or holds a file not made here."""
    *first, last = outputs
    present = [p for p in first if p.is_file()]
    if os.path.lexists(last) or not present:
        return set()
    known = signed_output_hashes(ctx)
    if all(sha_of(p) in known for p in present):
        return set(present)
    return set()


def outputs_in_the_way(ctx: AppContext, path: Path, out: Path | None = None) -> list[Path]:
    """The outputs of signing `path` (signature at `out` or beside it) that already exist and
    that signing would replace only when told to overwrite (a killed signing's leftovers are
    not among them: they are replaced anyway)."""
    outputs = default_paths(Path(path), out)
    existing = [p for p in outputs if os.path.lexists(p)]  # a link, even dangling, is there
    if not existing:
        return []
    leftovers = interrupted_leftovers(ctx, outputs)
    return [p for p in existing if p not in leftovers]


def refuse_existing(paths: Sequence[Path]) -> None:
    """The overwrite rule: outputs that exist are replaced only when the user allows it."""
    if paths:
        raise Refusal(f"{paths[0]} already exists; choose another name or allow replacing it. "
                      "Nothing was written.")


def check_outputs(outputs: Sequence[Path], *, overwrite: bool,
                  leftovers: set[Path] | frozenset[Path] = frozenset()) -> None:
    """Before the key is used: every output can be written. A folder (or a link to one) or an
    unwritable folder is refused (`OutputError` naming it), and, unless `overwrite`, anything
    at an output's name other than a killed signing's `leftovers`, a symbolic link too,
    dangling or not (`Refusal`). So a signing never fails after its audit record."""
    for p in outputs:
        check_output(Path(p), overwrite=True)
    if not overwrite:
        refuse_existing([p for p in outputs if os.path.lexists(p) and p not in leftovers])


def clear_parts(outputs: Sequence[Path]) -> None:
    """Remove the temporary files a killed signing of these targets left."""
    for p in outputs:
        for part in part_files(p):
            with contextlib.suppress(OSError):
                part.unlink()


def write_all(items: Sequence[tuple[Path, bytes]], overwrite: bool) -> None:
    """Write every output or none: refuse up front if one exists, roll back on failure."""
    check_outputs([p for p, _ in items], overwrite=overwrite)
    done: list[Path] = []
    try:
        for p, data in items:
            write_atomic(p, data, overwrite=overwrite)
            done.append(p)
    except BaseException:
        for p in done:
            with contextlib.suppress(OSError):
                p.unlink()
        raise


def publish_set(staged: Sequence[tuple[Path, Path]], overwrite: bool,
                leftovers: set[Path]) -> None:
    """Rename the staged outputs into place, the last one (which completes the set) last. An
    old set being replaced loses its completing file first, so a kill never shows a mix."""
    last = staged[-1][0]
    if overwrite or last in leftovers:
        try:
            last.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:  # a folder put there since the check, say
            raise OutputError(f"Cannot replace {last}: {exc.strerror or exc}.") from exc
    done: list[Path] = []
    try:
        for p, tmp in staged:
            publish(tmp, p, overwrite=overwrite or p in leftovers)
            done.append(p)
    except BaseException:
        for p in done:
            with contextlib.suppress(OSError):
                p.unlink()
        raise


def same_file(a: Path, b: Path) -> bool:
    """The same file by path or, when both exist, by inode (a hard or symbolic link)."""
    if a.resolve() == b.resolve():
        return True
    try:
        return a.exists() and b.exists() and a.samefile(b)
    except OSError:
        return False


def refuse_clashing_outputs(path: Path, outputs: Sequence[Path],
                            inputs: Sequence[tuple[str, Path]] = ()) -> None:
    """Refuse an output set of which one file is the signed file itself, another input
    (`inputs`: (what, path)), or another file of the set: writing it would destroy the data
    or leave a set that cannot verify, whatever `overwrite` says."""
    names = ("the signature", "the manifest", "the manifest's signature")
    taken = [("the file being signed", Path(path)), *inputs]
    for what, p in zip(names, outputs, strict=True):
        for other_what, other in taken:
            if same_file(Path(p), other):
                raise Refusal(f"{p}: {what} would be written over {other_what} ({other}); "
                              "choose another name. Nothing was written.")
        taken.append((what, Path(p)))


def check_sign_outputs(ctx: AppContext, path: Path, out: Path | None = None, *,
                       overwrite: bool = False) -> None:
    """Before any work whose result must not be lost: refuse an output set that clashes with
    its input, and one that would replace existing outputs when `overwrite` is not given."""
    outputs = default_paths(Path(path), out)
    refuse_clashing_outputs(path, outputs)
    for p in outputs:  # a folder, or an unwritable one, whatever `overwrite` says
        check_output(p, overwrite=True)
    if not overwrite:
        refuse_existing(outputs_in_the_way(ctx, path, out))
