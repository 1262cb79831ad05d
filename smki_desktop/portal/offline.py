"""The offline adapter: requests for the DCC written as a signed bundle to a folder or removable
drive, carried to a connected machine that relays them, and the answers read back.

Request bundle `smki-requests-<env>-<time>/`: `manifest.json` (format, environment, created,
one entry per request: client reference, kind, DCC id if any, payload file and its SHA-256),
the payload files, and `manifest.json.p7s`: a detached CMS signature over the exact manifest
bytes by the ARO's file-signing credential. Answer bundle `smki-answers-<env>-<time>/`
(format 2): `manifest.json` with `request` (the SHA-256 of the request bundle's manifest and
the references relayed) and one answer per reference (state, DCC id/status, result file +
SHA-256), and `manifest.json.p7s`, signed by the relaying ARO's file-signing credential.
Who may sign either is the caller's rule (`verify`); this module reads every file bounded
(`store/bounded_read.py`: regular files only, no links, a size cap), takes only references of
the outbox's format (`portal/outbox.is_ref`) and names each file after its reference, so no
name in a bundle can lead outside it. Bundles are staged in a hidden folder and renamed into
place only when complete. Every re-send through a relay carries the same client reference, so
relaying twice is harmless.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from cryptography import x509

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import EnvironmentMismatch, InputError, Refusal
from smki_desktop.core.plain_text import visible
from smki_desktop.core.ports import Signer
from smki_desktop.portal.outbox import is_ref
from smki_desktop.store.bounded_read import read_regular

REQUEST_FORMAT = "smki-desktop-offline-requests/1"
ANSWER_FORMAT = "smki-desktop-offline-answers/2"
#: the unsigned answers bundle of earlier versions: refused, naming why
OLD_ANSWER_FORMAT = "smki-desktop-offline-answers/1"
_EXT = {"org-csr": ".csr", "device-batch": ".xml", "device-adhoc": ".csr", "revocation": ".txt",
        "poll": ".txt"}
RESULT_EXT = ".result"
MAX_MANIFEST = 16 << 20
MAX_SIGNATURE = 1 << 20
MAX_FILE = 64 << 20  # one payload or result: a batch of 50,000 CSRs or its certificates
MAX_BUNDLE = 256 << 20  # every payload or result of one bundle together

T = TypeVar("T")


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
                         f"\"live\", not {visible(str(v)[:40])!r}.")
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


def _ref_name(ref: str, ext: str) -> str:
    """The one file name a reference's payload or result has in a bundle (never a path)."""
    if not is_ref(ref):
        raise InputError(f"Reference {visible(ref[:40])!r} is not an outbox client reference "
                         "(a kind letter and 30 hexadecimal digits); no file is named after "
                         "it.")
    return f"{ref}{ext}"


def _signature(data: bytes, signer: Signer, certificate: x509.Certificate | None,
               now: datetime, extra_certs: Sequence[x509.Certificate]) -> bytes:
    from smki_desktop.crypto.cms import sign_detached

    return sign_detached(data, signer, certificate, now, extra_certs=extra_certs)


def write_request_bundle(folder: Path, env: Environment, entries: Iterable[BundleEntry],
                         signer: Signer, certificate: x509.Certificate | None,
                         now: datetime, *, extra_certs: Sequence[x509.Certificate] = ()
                         ) -> Path:
    name = f"smki-requests-{env.value}-{now:%Y%m%dT%H%M%S}"
    stage = _stage(folder, name)
    try:
        listed = []
        for e in entries:
            fname = _ref_name(e.ref, _EXT[e.kind])
            _write_file(stage / fname, e.payload)
            listed.append({"ref": e.ref, "kind": e.kind, "request_kind": e.request_kind,
                           "server_id": e.server_id, "file": fname, "sha256": _sha(e.payload)})
        if not listed:
            raise InputError("Nothing to write: the outbox has no request waiting.")
        manifest = json.dumps({"format": REQUEST_FORMAT, "environment": env.value,
                               "created": now.isoformat(), "requests": listed},
                              indent=2).encode()
        _write_file(stage / "manifest.json", manifest)
        _write_file(stage / "manifest.json.p7s",
                    _signature(manifest, signer, certificate, now, extra_certs))
        return _publish(stage, folder / name)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


def _manifest(folder: Path, fmt: str, older: dict[str, str] | None = None
              ) -> tuple[bytes, dict[str, Any]]:
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder, so not a bundle.")
    path = folder / "manifest.json"
    raw = read_regular(path, MAX_MANIFEST, "a bundle manifest", follow_links=False)
    try:
        data = json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        raise InputError(f"{path}: nested too deeply to be a manifest.") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not JSON ({exc}).") from None
    if isinstance(data, dict) and older and data.get("format") in older:
        raise Refusal(f"{path}: {older[str(data.get('format'))]}")
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
    """A text field of entry `i`, shown plainly: a control or format character in text from
    the other machine becomes its name in brackets (`core/plain_text.visible`), so it never
    reaches a terminal, a table or the store raw."""
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
        raise InputError(f"{where}: {visible(v[:40])!r} is not one of {', '.join(allowed)}.")
    return visible(v)


def _ref(folder: Path, e: dict[str, Any], i: int) -> str:
    v = e.get("ref")
    if not is_ref(v):
        shown = visible(v[:40]) if isinstance(v, str) else type(v).__name__
        raise InputError(f"{folder / 'manifest.json'}: entry {i}, 'ref': {shown!r} is not an "
                         "outbox client reference (a kind letter and 30 hexadecimal digits).")
    return str(v)


class _Budget:
    """What a bundle's payloads or results may add up to (`MAX_BUNDLE`)."""

    def __init__(self) -> None:
        self.left = MAX_BUNDLE

    def take(self, folder: Path, data: bytes) -> None:
        self.left -= len(data)
        if self.left < 0:
            raise InputError(f"{folder}: its files add up to more than {MAX_BUNDLE >> 20} MiB, "
                             "the limit for one bundle; not read.")


def _payload(folder: Path, entry: dict[str, Any], ref: str, ext: str,
             budget: _Budget) -> bytes:
    """The file of entry `ref`: it must be named exactly `<ref><ext>` (the name the writer
    gives it), a regular file of the bundle (no link), within the size limits, and match its
    SHA-256 in the manifest."""
    fname = _ref_name(ref, ext)
    if entry.get("file") != fname:
        shown = entry.get("file")
        shown = visible(shown[:60]) if isinstance(shown, str) else shown
        raise InputError(f"Bundle entry {ref}: its file must be named {fname}, not {shown!r}.")
    data = read_regular(folder / fname, MAX_FILE, f"the file of bundle entry {ref}",
                        follow_links=False)
    budget.take(folder, data)
    if _sha(data) != entry.get("sha256"):
        raise Refusal(f"Bundle file {fname} does not match its SHA-256 in the manifest: it "
                      "was changed after signing.")
    return data


def _signature_bytes(folder: Path, what: str) -> bytes:
    path = folder / "manifest.json.p7s"
    if not path.exists() and not path.is_symlink():
        raise Refusal(f"{folder}: {what} is not signed (manifest.json.p7s missing); it is "
                      "not read.")
    return read_regular(path, MAX_SIGNATURE, "a manifest signature", follow_links=False)


def _check_environment(folder: Path, data: dict[str, Any], env: Environment,
                       what: str) -> None:
    if _environment(folder, data) != env.value:
        raise EnvironmentMismatch(f"{what} to the {_label(data.get('environment'))} "
                                  f"environment; this is the {env.label} environment. Test and "
                                  "Live artifacts are never mixed.")


@dataclass(frozen=True)
class RequestBundle(Generic[T]):
    entries: list[BundleEntry]
    manifest_sha256: str  # what the answers bundle is bound to
    signer: T  # what the caller's `verify` returned


def open_request_bundle(folder: Path, env: Environment,
                        verify: Callable[[bytes, bytes], T]) -> RequestBundle[T]:
    """Read and check every entry and file of a request bundle, then have `verify(manifest
    bytes, signature)` decide who signed it (it raises to refuse)."""
    raw, data = _manifest(folder, REQUEST_FORMAT)
    _check_environment(folder, data, env, "This bundle belongs")
    budget = _Budget()
    entries = []
    for i, e in enumerate(_entries(folder, data, "requests"), start=1):
        ref = _ref(folder, e, i)
        kind = _text(folder, e, i, "kind", choices=_EXT)
        assert kind is not None
        entries.append(BundleEntry(ref, kind,
                                   _text(folder, e, i, "request_kind", required=False) or kind,
                                   _text(folder, e, i, "server_id", required=False),
                                   _payload(folder, e, ref, _EXT[kind], budget)))
    signer = verify(raw, _signature_bytes(folder, "the request bundle"))
    return RequestBundle(entries, _sha(raw), signer)


def read_request_bundle(folder: Path, env: Environment, *,
                        trust_anchors: Iterable[x509.Certificate] = ()
                        ) -> tuple[list[BundleEntry], str]:
    """Verify the signature (its signer must chain to one of `trust_anchors`: with none, the
    bundle is refused, never accepted unchecked) and the files; -> (entries, signer subject).
    Who may sign is the services' rule (`services/portal_offline_checks.py`)."""
    from smki_desktop.crypto.cms import verify_detached

    anchors = tuple(trust_anchors)

    def verify(raw: bytes, sig: bytes) -> str:
        if not anchors:
            raise Refusal(f"{folder}: no trust anchor to check the bundle's signer against; "
                          "it is not read.")
        verified = verify_detached(raw, sig, trust_anchors=anchors)
        return (verified.signer_certificate.subject.rfc4514_string()
                if verified.signer_certificate is not None else "unknown signer")

    bundle = open_request_bundle(folder, env, verify)
    return bundle.entries, bundle.signer


def write_answer_bundle(folder: Path, env: Environment, answers: Iterable[Answer],
                        now: datetime, *, request_sha256: str = "",
                        refs: Iterable[str] = (), signer: Signer | None = None,
                        certificate: x509.Certificate | None = None,
                        extra_certs: Sequence[x509.Certificate] = ()) -> Path:
    """The answers to the request bundle whose manifest has SHA-256 `request_sha256` (its
    relayed references `refs`), signed with `signer` (without one the bundle is unsigned,
    which every reader refuses)."""
    name = f"smki-answers-{env.value}-{now:%Y%m%dT%H%M%S}"
    stage = _stage(folder, name)
    try:
        listed = []
        for a in answers:
            entry: dict[str, Any] = {"ref": a.ref, "state": a.state, "server_id": a.server_id,
                                     "server_status": a.server_status, "error": a.error}
            if a.result is not None:
                fname = _ref_name(a.ref, RESULT_EXT)
                _write_file(stage / fname, a.result)
                entry.update(file=fname, sha256=_sha(a.result))
            listed.append(entry)
        manifest = json.dumps(
            {"format": ANSWER_FORMAT, "environment": env.value, "created": now.isoformat(),
             "request": {"manifest_sha256": request_sha256, "refs": list(refs)},
             "answers": listed}, indent=2).encode()
        _write_file(stage / "manifest.json", manifest)
        if signer is not None:
            _write_file(stage / "manifest.json.p7s",
                        _signature(manifest, signer, certificate, now, extra_certs))
        return _publish(stage, folder / name)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise


@dataclass(frozen=True)
class AnswerBundle(Generic[T]):
    answers: list[Answer]
    request_sha256: str  # the request bundle these answer (its manifest's SHA-256)
    refs: tuple[str, ...]  # the references the relay says it relayed
    manifest_sha256: str  # this bundle's own manifest: one import per bundle
    signer: T


def _binding(folder: Path, data: dict[str, Any]) -> tuple[str, tuple[str, ...]]:
    where = f"{folder / 'manifest.json'}: 'request'"
    req = data.get("request")
    if not isinstance(req, dict):
        raise InputError(f"{where} must name the request bundle it answers.")
    sha = req.get("manifest_sha256")
    if not isinstance(sha, str) or len(sha) != 64 or any(c not in "0123456789abcdef"
                                                         for c in sha):
        raise InputError(f"{where}: 'manifest_sha256' must be a SHA-256 in hexadecimal.")
    refs = req.get("refs")
    if not isinstance(refs, list) or not all(is_ref(r) for r in refs):
        raise InputError(f"{where}: 'refs' must list outbox client references.")
    return sha, tuple(refs)


def read_answer_bundle(folder: Path, env: Environment,
                       verify: Callable[[bytes, bytes], T]) -> AnswerBundle[T]:
    """Read and check every answer and result file of an answers bundle, then have
    `verify(manifest bytes, signature)` decide who signed it (it raises to refuse)."""
    raw, data = _manifest(folder, ANSWER_FORMAT, {OLD_ANSWER_FORMAT: (
        "an answers bundle of an earlier version, which is not signed: it is not read. "
        "Relay the request bundle again with this version.")})
    _check_environment(folder, data, env, "These answers belong")
    budget = _Budget()
    out = []
    for i, e in enumerate(_entries(folder, data, "answers"), start=1):
        ref = _ref(folder, e, i)
        state = _text(folder, e, i, "state", choices=_STATES)
        assert state is not None
        result = _payload(folder, e, ref, RESULT_EXT, budget) if e.get("file") else None
        out.append(Answer(ref, state, _text(folder, e, i, "server_id", required=False),
                          _text(folder, e, i, "server_status", required=False),
                          _text(folder, e, i, "error", required=False), result))
    request_sha256, refs = _binding(folder, data)
    signer = verify(raw, _signature_bytes(folder, "the answers bundle"))
    return AnswerBundle(out, request_sha256, refs, _sha(raw), signer)
