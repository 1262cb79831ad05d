"""The offline adapter: requests for the DCC written as a signed bundle to a folder or removable
drive, carried to a connected machine that relays them, and the answers read back.

Request bundle `smki-requests-<env>-<time>/`: `manifest.json` (format, environment, created,
one entry per request: client reference, kind, DCC id if any, payload file and its SHA-256),
the payload files, and `manifest.json.p7s`: a detached CMS signature over the exact manifest
bytes by the ARO's file-signing credential. Answer bundle `smki-answers-<env>-<time>/`:
`manifest.json` with one answer per reference (state, DCC id/status, result file + SHA-256).
Bundles are staged in a hidden folder and renamed into place only when complete. Every
re-send through a relay carries the same client reference, so relaying twice is harmless.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from cryptography import x509

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import EnvironmentMismatch, InputError, Refusal
from smki_desktop.core.ports import Signer

REQUEST_FORMAT = "smki-desktop-offline-requests/1"
ANSWER_FORMAT = "smki-desktop-offline-answers/1"
_EXT = {"org-csr": ".csr", "device-batch": ".xml", "device-adhoc": ".csr", "revocation": ".txt",
        "poll": ".txt"}


@dataclass(frozen=True)
class BundleEntry:
    ref: str
    kind: str  # outbox kind, or 'poll' for a submitted request whose results are wanted
    request_kind: str
    server_id: str | None
    payload: bytes


@dataclass(frozen=True)
class Answer:
    ref: str
    state: str  # submitted | done | failed | queued (not answered: try again)
    server_id: str | None
    server_status: str | None
    error: str | None
    result: bytes | None


def _environment(folder: Path, data: dict[str, Any]) -> str:
    """The manifest's `environment`: test or live, else bad input naming the field."""
    v = data.get("environment")
    if not isinstance(v, str) or v not in {e.value for e in Environment}:
        raise InputError(f"{folder / 'manifest.json'}: 'environment' must be \"test\" or "
                         f"\"live\", not {str(v)[:40]!r}.")
    return v


def _label(value: object) -> str:
    try:
        return Environment(str(value)).label
    except ValueError:
        return repr(value)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _publish(stage: Path, final: Path) -> Path:
    if final.exists():
        raise Refusal(f"{final} already exists; nothing was overwritten.")
    os.rename(stage, final)
    return final


def _stage(parent: Path, name: str) -> Path:
    parent.mkdir(parents=True, exist_ok=True)
    stage = parent / f".{name}.partial"
    if stage.exists():
        shutil.rmtree(stage)
    stage.mkdir()
    return stage


def write_request_bundle(folder: Path, env: Environment, entries: Iterable[BundleEntry],
                         signer: Signer, certificate: x509.Certificate | None,
                         now: datetime) -> Path:
    from smki_desktop.crypto.cms import sign_detached

    name = f"smki-requests-{env.value}-{now:%Y%m%dT%H%M%S}"
    stage = _stage(folder, name)
    try:
        listed = []
        for e in entries:
            fname = f"{e.ref}{_EXT[e.kind]}"
            _write_file(stage / fname, e.payload)
            listed.append({"ref": e.ref, "kind": e.kind, "request_kind": e.request_kind,
                           "server_id": e.server_id, "file": fname, "sha256": _sha(e.payload)})
        if not listed:
            raise InputError("Nothing to write: the outbox has no request waiting.")
        manifest = json.dumps({"format": REQUEST_FORMAT, "environment": env.value,
                               "created": now.isoformat(), "requests": listed},
                              indent=2).encode()
        _write_file(stage / "manifest.json", manifest)
        _write_file(stage / "manifest.json.p7s", sign_detached(manifest, signer, certificate,
                                                               now))
        return _publish(stage, folder / name)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _manifest(folder: Path, fmt: str) -> tuple[bytes, dict[str, Any]]:
    path = folder / "manifest.json"
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}.") from None
    if len(raw) > 16 * 1024 * 1024:
        raise InputError(f"{path}: too large for a manifest.")
    try:
        data = json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        raise InputError(f"{path}: nested too deeply to be a manifest.") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not JSON ({exc}).") from None
    if not isinstance(data, dict) or data.get("format") != fmt:
        raise InputError(f"{path}: not a {fmt} manifest.")
    return raw, data


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed")


_STATES = ("submitted", "done", "failed", "queued")


def _entries(folder: Path, data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = data.get(key, [])
    if not isinstance(items, list):
        raise InputError(f"{folder / 'manifest.json'}: {key!r} must be a list, not "
                         f"{type(items).__name__}.")
    for i, e in enumerate(items, start=1):
        if not isinstance(e, dict):
            raise InputError(f"{folder / 'manifest.json'}: {key} entry {i} must be an object, "
                             f"not {type(e).__name__}.")
    return items


def _text(folder: Path, e: dict[str, Any], i: int, name: str, *, required: bool = True,
          choices: Iterable[str] = ()) -> str | None:
    v = e.get(name)
    where = f"{folder / 'manifest.json'}: entry {i}, {name!r}"
    if v is None:
        if required:
            raise InputError(f"{where}: missing.")
        return None
    if not isinstance(v, str) or len(v) > 4096:
        raise InputError(f"{where}: expected text, got {type(v).__name__}.")
    allowed = tuple(choices)
    if allowed and v not in allowed:
        raise InputError(f"{where}: {v[:40]!r} is not one of {', '.join(allowed)}.")
    return v


def _payload(folder: Path, entry: dict[str, Any]) -> bytes:
    fname = str(entry.get("file", ""))
    if "/" in fname or "\\" in fname or fname.startswith("."):
        raise InputError(f"Bundle entry {entry.get('ref')}: bad file name {fname!r}.")
    try:
        data = (folder / fname).read_bytes()
    except OSError as exc:
        raise InputError(f"Bundle entry {entry.get('ref')}: cannot read {folder / fname}: "
                         f"{exc.strerror or exc}.") from None
    if _sha(data) != entry.get("sha256"):
        raise Refusal(f"Bundle file {fname} does not match its SHA-256 in the manifest: it "
                      "was changed after signing.")
    return data


def read_request_bundle(folder: Path, env: Environment, *,
                        trust_anchors: Iterable[x509.Certificate] = ()
                        ) -> tuple[list[BundleEntry], str]:
    """Verify the signature and the files; -> (entries, signer subject)."""
    from smki_desktop.crypto.cms import verify_detached

    raw, data = _manifest(folder, REQUEST_FORMAT)
    if _environment(folder, data) != env.value:
        raise EnvironmentMismatch(f"This bundle belongs to the {_label(data.get('environment'))} "
                      f"environment; this is the {env.label} environment. Test and Live "
                      "artifacts are never mixed.")
    try:
        sig = (folder / "manifest.json.p7s").read_bytes()
    except OSError:
        raise Refusal(f"{folder}: the bundle is not signed (manifest.json.p7s missing).") \
            from None
    verified = verify_detached(raw, sig, trust_anchors=tuple(trust_anchors))
    who = verified.signer_certificate.subject.rfc4514_string() \
        if verified.signer_certificate is not None else "unknown signer"
    entries = []
    for i, e in enumerate(_entries(folder, data, "requests"), start=1):
        ref = _text(folder, e, i, "ref")
        kind = _text(folder, e, i, "kind", choices=_EXT)
        assert ref is not None and kind is not None
        entries.append(BundleEntry(ref, kind,
                                   _text(folder, e, i, "request_kind", required=False) or kind,
                                   _text(folder, e, i, "server_id", required=False),
                                   _payload(folder, e)))
    return entries, who


def write_answer_bundle(folder: Path, env: Environment, answers: Iterable[Answer],
                        now: datetime) -> Path:
    name = f"smki-answers-{env.value}-{now:%Y%m%dT%H%M%S}"
    stage = _stage(folder, name)
    try:
        listed = []
        for a in answers:
            entry: dict[str, Any] = {"ref": a.ref, "state": a.state, "server_id": a.server_id,
                                     "server_status": a.server_status, "error": a.error}
            if a.result is not None:
                fname = f"{a.ref}.result"
                _write_file(stage / fname, a.result)
                entry.update(file=fname, sha256=_sha(a.result))
            listed.append(entry)
        _write_file(stage / "manifest.json", json.dumps(
            {"format": ANSWER_FORMAT, "environment": env.value, "created": now.isoformat(),
             "answers": listed}, indent=2).encode())
        return _publish(stage, folder / name)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def read_answer_bundle(folder: Path, env: Environment) -> list[Answer]:
    _, data = _manifest(folder, ANSWER_FORMAT)
    if _environment(folder, data) != env.value:
        raise EnvironmentMismatch(f"These answers belong to the {_label(data.get('environment'))} "
                      f"environment; this is the {env.label} environment.")
    out = []
    for i, e in enumerate(_entries(folder, data, "answers"), start=1):
        ref = _text(folder, e, i, "ref")
        state = _text(folder, e, i, "state", choices=_STATES)
        assert ref is not None and state is not None
        result = _payload(folder, e) if e.get("file") else None
        out.append(Answer(ref, state, _text(folder, e, i, "server_id", required=False),
                          _text(folder, e, i, "server_status", required=False),
                          _text(folder, e, i, "error", required=False), result))
    return out
