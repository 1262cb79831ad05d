"""Key backup and restore: an exportable key from the OS-keyring store, encrypted under a
passphrase (scrypt + AES-256-GCM) or under a random key split M-of-N into SLIP-39 shares (one
file per custodian). A backup is bound to its environment and carries the key's fingerprint,
public key and certificates; a restore goes into the same environment only and proves the key
matches them. Every backup and restore is audited; non-exportable token keys have none."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import html
import json
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import shamir_mnemonic
from cryptography import x509
from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from smki_desktop.core.audit import AuditEntry
from smki_desktop.core.ceremony import LABEL_PREFIX, label_environment, names_problem
from smki_desktop.core.ceremony_transcript import canonical
from smki_desktop.core.environment import Environment, require_same
from smki_desktop.core.errors import EnvironmentMismatch, InputError, Refusal
from smki_desktop.core.keys import KeyInfo, KeyLocation, KeyUsage, key_id_for_spki
from smki_desktop.core.plain_text import skeleton
from smki_desktop.keystores.os_keyring import resolve_key_ref
from smki_desktop.render.pdf import render_pages
from smki_desktop.services import crossing
from smki_desktop.services import key_backup_files as backup_files
from smki_desktop.services import key_restore_leftovers as leftovers
from smki_desktop.services.backup_passphrase import MIN_PASSPHRASE as MIN_PASSPHRASE
from smki_desktop.services.backup_passphrase import passphrase_problem as passphrase_problem
from smki_desktop.services.context import AppContext
from smki_desktop.services.key_backup_files import KEY_FORMAT as KEY_FORMAT
from smki_desktop.services.key_backup_files import SHARE_FORMAT, _unb64
from smki_desktop.services.key_backup_staging import staging, sweep
from smki_desktop.services.published_keys import refuse_published_test_key
from smki_desktop.store import atomic
from smki_desktop.store.atomic import OutputError
from smki_desktop.store.repos import ceremony as ceremony_repo
from smki_desktop.store.repos import certificates as cert_repo
from smki_desktop.store.repos import key_backups as backup_repo

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2 ** 15, 8, 1
# how every question for a new backup's passphrase begins: a face that asks it (the GUI's
# dialog) says the rule (MIN_PASSPHRASE, `passphrase_problem`) and checks it before the answer
# comes back
BACKUP_PROMPT = "Backup passphrase"
SEPARATE_WARNING = ("The shares must now be separated: give each custodian their own share "
                    "file and delete every other copy from this folder and this machine. Any "
                    "{t} of them together rebuild the key.")


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


@dataclass(frozen=True)
class BackupResult:
    key: KeyInfo
    kind: str
    files: tuple[Path, ...]
    audit: AuditEntry
    warning: str = ""
    share_files: tuple[Path, ...] = field(default=())

    def as_dict(self) -> dict[str, Any]:
        return {"key_id": self.key.key_id, "kind": self.kind,
                "files": [str(p) for p in self.files],
                "share_files": [str(p) for p in self.share_files], "warning": self.warning,
                "audit_seq": self.audit.seq}


@dataclass(frozen=True)
class RestoreResult:
    key: KeyInfo
    certificates_checked: int
    audit: AuditEntry
    # e.g. the audit log shows this key was deleted here; this environment never knew it
    warnings: tuple[str, ...] = ()

    @property
    def warning(self) -> str:
        """The warnings as one text ("" when there is none)."""
        return "\n".join(self.warnings)

    def as_dict(self) -> dict[str, Any]:
        return {"key_id": self.key.key_id, "label": self.key.label,
                "usage": self.key.usage.value, "environment": self.key.environment.value,
                "certificates_checked": self.certificates_checked, "audit_seq": self.audit.seq,
                "warning": self.warning, "warnings": list(self.warnings)}


def recorded_backups(ctx: AppContext, key_id: str) -> list[dict[str, Any]]:
    """The backups of a key this environment's audit log records (oldest first, one per file
    or folder): each {"kind", "location", "audit_seq", "ts"}. Such a backup can restore the
    key even after it is deleted, until its file (or enough shares) is destroyed."""
    seen: dict[str, dict[str, Any]] = {}
    for e in reversed(ctx.audit.entries(action_prefix="key.backup")):
        d = e.details
        if e.action != "key.backup" or d.get("key_id") != key_id:
            continue
        where = str(d.get("file") or d.get("folder") or "")
        kind = (f"{d.get('threshold')}-of-{d.get('shares')} shares"
                if d.get("kind") == "shares" else "passphrase")
        seen.setdefault(where, {"kind": kind, "location": where, "audit_seq": e.seq,
                                "ts": e.ts})
    return list(seen.values())


def _deleted_note(ctx: AppContext, key_id: str) -> str:
    """A warning when the audit log shows this key was deleted in this environment (a
    restore brings it back: legitimate after an accidental delete, but said)."""
    for e in ctx.audit.entries(action_prefix="key.delete"):  # newest first
        if e.action == "key.delete" and e.details.get("key_id") == key_id:
            reason = str(e.details.get("reason", ""))
            return (f"The audit log shows key {key_id[:16]} was deleted in this environment "
                    f"on {e.ts[:10]} (audit record {e.seq}"
                    + (f", reason: {reason}" if reason else "") + "); this restore brings it "
                    "back. If it was deleted on purpose, delete it again and destroy its "
                    "backups.")
    return ""


def _unknown_here_note(ctx: AppContext, key_id: str, certificates: int) -> str:
    """A warning when this environment has no record of the key: no backup of it in the
    audit log and no certificate for it (a backup made elsewhere, by anyone)."""
    if recorded_backups(ctx, key_id) or cert_repo.ders_for_key(ctx.db, ctx.env, key_id):
        return ""
    return (f"This {ctx.env.label} environment has no record of key {key_id[:16]}: no backup of "
            "it in the audit log and no certificate for it"
            + (f" (the file brings {certificates} certificate(s) of its own)" if certificates
               else "") + ". The backup was made elsewhere: make sure it is your organisation's "
            "key, from someone you trust, before using it.")


def _refuse_ceremony_label(ctx: AppContext, label: str, key_id: str, path: Path) -> None:
    """A ceremony's keys are made by the ceremony: a backup labelled as a ceremony's key is
    restored only where the audit log shows that ceremony making this very key (its own key
    back after a delete); anywhere else its label would pass for a ceremony's key."""
    # compared as the label reads: 'Ceremony …' or '\u0441eremony …' (a Cyrillic es) would
    # pass for a ceremony's key in a table while not starting with the exact prefix
    read_as = skeleton(label)
    if not read_as.startswith(LABEL_PREFIX.strip()):
        return
    marked = label_environment(read_as)
    if marked is not None and marked is not ctx.env:
        raise EnvironmentMismatch(
            f"Restore of {path.name} refused: its label {label!r} is a {marked.label} "
            f"ceremony's key: it belongs to the {marked.label} environment; this is the "
            f"{ctx.env.label} environment. Nothing was restored.")
    for e in ctx.audit.entries(action_prefix="key.generate"):
        d = e.details
        if (e.action == "key.generate" and d.get("key_id") == key_id and d.get("ceremony")
                and d.get("label") == label):
            return
    raise Refusal(f"Restore of {path.name} refused: its label {label!r} is a ceremony key's "
                  f"label (it begins {LABEL_PREFIX.strip()!r}, or reads so), and this "
                  f"{ctx.env.label} environment's audit log does not record a ceremony making "
                  f"key {key_id[:16]}. "
                  "A ceremony's keys are made by the ceremony, not restored under its label. "
                  "Nothing was restored.")


def _refuse_crossing(ctx: AppContext, key_id: str, path: Path) -> None:
    """A restore is held to the rules of every way a key enters an environment: in Live only
    with a Party profile (as a new key is), and never a key the OTHER environment of this data
    folder made or holds. The backup's own "environment" field is no proof: whoever knows the
    passphrase (or holds enough shares) can seal it again with any field in clear."""
    crossing.require_party(ctx, f"Restore of {path.name}")
    try:
        crossing.refuse_key_the_other_environment_made(ctx, key_id,
                                                       f"Restore of {path.name}: the key")
    except EnvironmentMismatch as exc:
        raise EnvironmentMismatch(f"{exc.message} Nothing was restored.") from None


def exportable_problem(info: KeyInfo) -> str:
    """Why this key cannot be backed up, or ''."""
    if info.location is not KeyLocation.OS_KEYRING or "non-exportable" in info.flags:
        return (f"Key {info.short_id} ({info.label}) was made non-exportable on a token: it has "
                "no backup, by design (keep the token safe, or make a new key).")
    return ""


def backup_status(ctx: AppContext) -> dict[str, str]:
    """key_id -> what backs it up ('passphrase', '3-of-5 shares'), for the Keys page."""
    return {k: ", ".join(sorted({r.summary for r in rows}))
            for k, rows in backup_repo.for_environment(ctx.db, ctx.env).items()}


def _header(ctx: AppContext, info: KeyInfo, protection: dict[str, Any]) -> dict[str, Any]:
    pub = serialization.load_der_public_key(info.public_key_der).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    certs = [x509.load_der_x509_certificate(d).public_bytes(serialization.Encoding.PEM).decode()
             for d in cert_repo.ders_for_key(ctx.db, ctx.env, info.key_id)]
    return {"format": KEY_FORMAT, "environment": ctx.env.value, "key_id": info.key_id,
            "fingerprint": f"SHA-256:{info.key_id}", "label": info.label,
            "usage": info.usage.value, "key_type": info.key_type.value,
            "public_key_pem": pub, "certificates": certs, "protection": protection}


# reading a file: the face's and the ceremony's way in, kept where they always were
read_key_file = backup_files.read_key_file
read_share_file = backup_files.read_share_file


def _seal(header: dict[str, Any], aes_key: bytes, plaintext: bytes) -> bytes:
    nonce = os.urandom(12)
    ct = AESGCM(aes_key).encrypt(nonce, plaintext, canonical(header))
    doc = dict(header, nonce=_b64(nonce), ciphertext=_b64(ct))
    return json.dumps(doc, indent=1, sort_keys=True).encode() + b"\n"


def _scrypt(passphrase: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase.encode("utf-8"))


def _exportable(ctx: AppContext, key_ref: str) -> tuple[KeyInfo, bytes]:
    info = resolve_key_ref(ctx.db, ctx.env, key_ref)
    problem = exportable_problem(info)
    if problem:
        raise Refusal(problem)
    return info, ctx.keystore.export_private_key(info.key_id)


def _record(ctx: AppContext, info: KeyInfo, kind: str, t: int, n: int, location: Path,
            sha: str) -> None:
    backup_repo.add(ctx.db, backup_repo.BackupRow(
        ctx.env, info.key_id, kind, t, n, str(location), sha, ctx.clock.now()))


def backup_with_passphrase(ctx: AppContext, key_ref: str, out: Path,
                           passphrase: str | None = None) -> BackupResult:
    """One encrypted file under a passphrase (asked, typed twice, when not given)."""
    atomic.check_output(out)
    out = Path(out).resolve()  # recorded as an absolute path, never as typed
    swept = sweep(ctx)  # the hidden files of a backup killed before it finished: removed
    info, der = _exportable(ctx, key_ref)
    if passphrase is None:
        passphrase = ctx.passphrases.ask(f"{BACKUP_PROMPT} for key {info.short_id} "
                                         f"({info.label})", confirm=True)
    problem = passphrase_problem(passphrase)  # long enough, and not a guessable one
    if problem:
        raise InputError(problem)
    salt = os.urandom(16)
    header = _header(ctx, info, {"kind": "passphrase", "kdf": "scrypt", "n": SCRYPT_N,
                                 "r": SCRYPT_R, "p": SCRYPT_P, "salt": _b64(salt)})
    data = _seal(header, _scrypt(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P), der)
    sha = hashlib.sha256(data).hexdigest()
    # As team export does: staged, recorded (row and record in one transaction), then put in
    # place. A kill before the commit leaves only a hidden .part file; after it, a record of
    # a backup whose file is missing (made again), never a copy of the key unrecorded.
    # A kill before the record leaves the staged file under a note whose lock the OS drops:
    # the next backup, restore or key command removes it (key_backup_staging).
    with staging(ctx, info.key_id, [out]):
        staged = atomic.stage(out, data, mode=0o600)
        try:
            with ctx.audit.change():
                _record(ctx, info, "passphrase", 0, 0, out, sha)
                entry = ctx.audit.record("key.backup", {"key_id": info.key_id,
                                                        "kind": "passphrase",
                                                        "file": str(out)}, {"backup": sha})
            atomic.publish(staged, out)
        finally:
            staged.unlink(missing_ok=True)
    return BackupResult(info, "passphrase", (out,), entry, "\n".join(swept))


def _one_line(text: str) -> str:
    """A label or name on one line: a newline in it would add a field to the share file."""
    return " ".join(text.split())


def share_text(env: Environment, info: KeyInfo, custodian: str, index: int, t: int, n: int,
               mnemonic: str) -> str:
    custodian = _one_line(custodian)
    return (f"# SMKI Desktop key backup share {index} of {n} ({t} needed to restore).\n"
            f"# For {custodian} only: keep it apart from every other share.\n"
            f"format: {SHARE_FORMAT}\nenvironment: {env.value}\nkey_id: {info.key_id}\n"
            f"label: {_one_line(info.label)}\ncustodian: {custodian}\nshare: {index} of {n}\n"
            f"threshold: {t}\nmnemonic: {mnemonic}\n")


def check_custodians(names: list[str]) -> list[str]:
    """The custodians' names, each stripped, held to the ceremony file's rules for names
    (`core.ceremony.names_problem`, the one place they live): plain one-line text, not empty,
    no name given twice (ignoring case and spacing), and no two that differ only in spaces or
    punctuation. Each custodian is a different person: one name twice would give one person
    two shares, enough alone to rebuild a 2-of-N key."""
    problem = names_problem(
        names, "custodian", "; each share goes to a different custodian (one person holding "
        "two shares needs fewer others to rebuild the key)")
    if problem:
        raise InputError(f"Custodians: {problem}", hint="field.custodians")
    return [name.strip() for name in names]


def _check_out_dir(out_dir: Path) -> None:
    """Before any work: the share folder can be made (its nearest existing parent is a
    writable folder), as `atomic.check_output` does for a passphrase backup's file."""
    folder = out_dir
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    if folder == out_dir:
        return  # an existing path: refused below unless it is an empty folder
    if not folder.is_dir():
        raise OutputError(f"Cannot write {out_dir}: {folder} is not a folder. Nothing was "
                          "done.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"Cannot write {out_dir}: the folder {folder} is not writable. "
                          "Nothing was done.")


def backup_with_shares(ctx: AppContext, key_ref: str, out_dir: Path, threshold: int,
                       count: int, custodians: list[str] | None = None, *,
                       recorded_as: Path | None = None) -> BackupResult:
    """The key encrypted under a random key that is split M-of-N (SLIP-39); `out_dir` (new or
    empty) gets the encrypted key and one share file per custodian. `recorded_as`: where the
    caller puts the folder once written (the ceremony writes a hidden folder, then renames
    it), the place the backup's row and audit record name."""
    if not 1 <= threshold <= count <= 16:
        raise InputError(f"Shares {threshold}-of-{count}: need 1 <= M <= N <= 16.",
                         hint="field.shares")
    if threshold == 1:  # the faces refuse it too; this is the rule for every caller
        raise InputError(f"Shares {threshold}-of-{count}: a threshold of 1 is a plain copy "
                         "(each share alone rebuilds the key); use 2 or more.",
                         hint="field.shares")
    out_dir = Path(out_dir).resolve()  # recorded as an absolute path, never as typed
    recorded_as = Path(recorded_as).resolve() if recorded_as is not None else None
    names = list(custodians or [f"custodian {i}" for i in range(1, count + 1)])
    if len(names) != count:
        raise InputError(f"Custodians: {count} shares need {count} names; {len(names)} given.")
    names = check_custodians(names)
    _check_out_dir(out_dir)
    swept = sweep(ctx)  # the hidden files of a backup killed before it finished: removed
    info, der = _exportable(ctx, key_ref)
    key_file = out_dir / f"key-{info.key_id[:16]}.smkikey"
    # the hidden temporary files of this same backup killed before it was recorded do not
    # make the folder "not empty"; they are removed (they hold the key and share words)
    left = {p for t in [key_file, *(out_dir / f"share-{i}-of-{count}.txt"
                                    for i in range(1, count + 1))]
            for p in atomic.part_files(t)}
    if out_dir.exists() and (not out_dir.is_dir()
                             or any(p not in left for p in out_dir.iterdir())):
        raise Refusal(f"{out_dir} already exists and is not an empty folder; a backup never "
                      "overwrites files. Choose a new folder.")
    for p in left:
        p.unlink(missing_ok=True)
    secret = secrets.token_bytes(32)
    groups = shamir_mnemonic.generate_mnemonics(1, [(threshold, count)], secret)
    mnemonics = groups[0]
    ident = shamir_mnemonic.Share.from_mnemonic(mnemonics[0]).common_parameters().identifier
    header = _header(ctx, info, {"kind": "shares", "scheme": "SLIP-39", "threshold": threshold,
                                 "shares": count, "share_set": int(ident)})
    data = _seal(header, secret, der)
    made_dir = not out_dir.exists()
    share_files: list[Path] = []
    staged: list[Path] = []
    sha = hashlib.sha256(data).hexdigest()
    targets = [key_file, *(out_dir / f"share-{i}-of-{count}.txt" for i in range(1, count + 1))]
    with staging(ctx, info.key_id, targets, out_dir if made_dir else None):
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            # every file staged, the row and record committed together, then the set put in
            # place (as team export does): a kill before the commit hands out no share
            staged.append(atomic.stage(key_file, data, mode=0o600))
            for i, (name, words) in enumerate(zip(names, mnemonics, strict=True), 1):
                p = out_dir / f"share-{i}-of-{count}.txt"
                staged.append(atomic.stage(p, share_text(ctx.env, info, name, i, threshold, count,
                                                         words).encode(), mode=0o600))
                share_files.append(p)
            with ctx.audit.change():
                _record(ctx, info, "shares", threshold, count, recorded_as or out_dir, sha)
                entry = ctx.audit.record("key.backup", {
                    "key_id": info.key_id, "kind": "shares", "threshold": threshold,
                    "shares": count, "custodians": names, "folder": str(recorded_as or out_dir)},
                    {"backup": sha})
            for final, tmp in zip((key_file, *share_files), staged, strict=True):
                atomic.publish(tmp, final)
        except BaseException:
            # an incomplete set is never handed out: take back every share already written
            for f in (key_file, *share_files, *staged):
                f.unlink(missing_ok=True)
            if made_dir:
                with contextlib.suppress(OSError):
                    out_dir.rmdir()
            raise
    return BackupResult(info, "shares", (key_file,), entry,
                        "\n".join([*swept, SEPARATE_WARNING.format(t=threshold)]),
                        tuple(share_files))


def write_share_sheet(ctx: AppContext, share_file: Path, out: Path) -> Path:
    """A printable sheet (PDF) for one custodian: their share's words numbered, the key and
    share it belongs to, and what to do with it. Written once (never over a file), readable
    by this user only; audited without the words."""
    fields = read_share_file(share_file)
    _require_env(ctx, fields["environment"], f"The share {share_file.name}")
    atomic.check_output(out)
    words = " ".join(fields["mnemonic"].split()).split(" ")
    cells = "".join(
        ("<tr>" if i % 4 == 0 else "")
        + f"<td style='padding:4px 14px'><small>{i + 1}.</small> <b>{html.escape(w)}</b></td>"
        + ("</tr>" if i % 4 == 3 or i == len(words) - 1 else "")
        for i, w in enumerate(words))
    e = {k: html.escape(str(v)) for k, v in fields.items()}
    body = (f"<h2>Key backup share {e.get('share', '?')}</h2>"
            f"<p>For <b>{e.get('custodian', '')}</b> only. Keep it apart from every other "
            f"share; any {e.get('threshold', '?')} shares together rebuild the key.</p>"
            f"<p>Key {e['key_id'][:16]}… ({e.get('label', '')}), "
            f"{ctx.env.label} environment.</p>"
            f"<table style='font-size:14pt;font-family:monospace'>{cells}</table>"
            "<p>To restore: bring enough shares and the encrypted key file (KEY.smkikey) "
            "together and restore the key from its shares with SMKI Desktop in the same "
            "environment (type each share's words into a share file, or use the share "
            "files).</p>")
    pdf = render_pages(body, env=ctx.env, title=f"Key backup share {fields.get('share', '')}",
                       reference=fields["key_id"][:16])
    # recorded before the file is put in place (store/atomic.write_recorded)
    atomic.write_recorded(out, pdf, lambda p: ctx.audit.record("key.share_sheet", {
        "key_id": fields["key_id"], "share": fields.get("share", ""),
        "custodian": fields.get("custodian", ""), "file": str(p)}), mode=0o600)
    return out


# -- restore -----------------------------------------------------------------------------------


def _open(doc: dict[str, Any], aes_key: bytes, path: Path, wrong: str) -> bytes:
    header = {k: v for k, v in doc.items() if k not in ("nonce", "ciphertext")}
    try:
        return AESGCM(aes_key).decrypt(_unb64(doc["nonce"], f"{path}: nonce"),
                                       _unb64(doc["ciphertext"], f"{path}: ciphertext"),
                                       canonical(header))
    except InvalidTag:
        raise Refusal(wrong) from None


def _import(ctx: AppContext, doc: dict[str, Any], der: bytes, path: Path,
            how: str, sha: str) -> RestoreResult:
    """`sha`: of the bytes `doc` was read from (read once, never the path again)."""
    try:  # sealed by whoever made the file: what it holds is checked too
        private = serialization.load_der_private_key(der, None)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise InputError(f"{path}: the encrypted content is not a private key; this "
                         "application never writes such a backup. Nothing was "
                         "restored.") from None
    spki = private.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
    key_id = key_id_for_spki(spki)
    if key_id != doc["key_id"]:
        raise Refusal(f"{path}: the restored key's fingerprint {key_id[:16]} is not the "
                      f"fingerprint {str(doc['key_id'])[:16]} the backup names.")
    pub = serialization.load_pem_public_key(str(doc["public_key_pem"]).encode()).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    if pub != spki:
        raise Refusal(f"{path}: the key does not match the public key in the backup.")
    refuse_published_test_key(ctx.env, key_id, f"Restore of {path.name}")
    _refuse_crossing(ctx, key_id, path)  # the key itself, now proven (asked before too)
    _refuse_ceremony_label(ctx, str(doc["label"]), key_id, path)
    certs = [x509.load_pem_x509_certificate(str(c).encode()) for c in doc["certificates"]]
    certs += [x509.load_der_x509_certificate(d)
              for d in cert_repo.ders_for_key(ctx.db, ctx.env, key_id)]
    for c in certs:
        c_spki = c.public_key().public_bytes(serialization.Encoding.DER,
                                             serialization.PublicFormat.SubjectPublicKeyInfo)
        if c_spki != spki:
            raise Refusal(f"{path}: certificate serial {c.serial_number:X} does not hold this "
                          "key's public key; nothing was restored.")
    if ceremony_repo.key_recorded(ctx.db, key_id):
        raise Refusal(f"Key {key_id[:16]} is already in this environment's store; nothing to "
                      "restore.")
    # a wrapping secret already there: another data folder's key, or a failed restore's leftover
    cleared = leftovers.clear_or_refuse(ctx, key_id, path)
    warnings = [w for w in (cleared, _deleted_note(ctx, key_id),
                            _unknown_here_note(ctx, key_id, len(certs))) if w]
    prot = doc["protection"]
    entries: list[AuditEntry] = []
    where = Path(path).resolve()  # recorded as an absolute path, never as typed

    @contextlib.contextmanager
    def recorded(restored: KeyInfo) -> Iterator[None]:
        # the key's row, its backup row and the key.restore record: one transaction
        with ctx.audit.change():
            yield
            _record(ctx, restored, str(prot.get("kind")), int(prot.get("threshold", 0)),
                    int(prot.get("shares", 0)), where, sha)
            entries.append(ctx.audit.record("key.restore", {
                "key_id": key_id, "label": restored.label, "usage": restored.usage.value,
                "from": how, "file": str(where), "certificates_checked": len(certs),
                "warnings": warnings}, {"backup": sha, "public_key": spki}))

    try:
        info = ctx.keystore.import_private_key(der, KeyUsage(doc["usage"]), str(doc["label"]),
                                               recorded=recorded)
    except BaseException:
        leftovers.after_failure(ctx, key_id, path)  # what it stored goes, or is noted
        raise
    return RestoreResult(info, len(certs), entries[0], tuple(warnings))


def _require_env(ctx: AppContext, env_text: str, what: str) -> None:
    try:
        env = Environment.parse(env_text)
    except InputError:
        raise InputError(f"{what}: environment {env_text!r} is not test or live.") from None
    require_same(ctx.env, env, what)


def restore_with_passphrase(ctx: AppContext, path: Path,
                            passphrase: str | None = None) -> RestoreResult:
    swept = sweep(ctx)  # the hidden files of a backup killed before it finished: removed
    doc, data = backup_files.read_key_bytes(path)
    _require_env(ctx, str(doc["environment"]), f"The backup {path.name}")
    prot = doc["protection"]
    if prot.get("kind") != "passphrase":
        raise InputError(f"{path}: this backup is split into shares; restore it from the share "
                         "files.", hint="field.shares")
    _refuse_crossing(ctx, str(doc["key_id"]), path)  # before a passphrase is asked for nothing
    if passphrase is None:
        passphrase = ctx.passphrases.ask(f"Passphrase of the backup of key "
                                         f"{str(doc['key_id'])[:16]}")
    aes = _scrypt(passphrase, _unb64(prot["salt"], f"{path}: salt"), int(prot["n"]),
                  int(prot["r"]), int(prot["p"]))
    der = _open(doc, aes, path, f"{path}: wrong passphrase, or the file was changed.")
    res = _import(ctx, doc, der, path, "passphrase", hashlib.sha256(data).hexdigest())
    return replace(res, warnings=(*swept, *res.warnings))


def _shown(path: Path, among: list[Path]) -> str:
    """A file as a message names it: its name, or its whole path when another of `among`
    has the same name (share-1-of-3.txt of two folders)."""
    clash = any(o.name == path.name and o != path for o in among)
    return str(path) if clash else path.name


def restore_with_shares(ctx: AppContext, files: list[Path]) -> RestoreResult:
    """Share files (and the encrypted key file among them, or next to the first share)."""
    swept = sweep(ctx)  # the hidden files of a backup killed before it finished: removed
    key_files = [p for p in files if p.suffix == ".smkikey"]
    share_paths = [p for p in files if p.suffix != ".smkikey"]
    if not share_paths:
        raise InputError("Shares: give the share files (and the .smkikey file).",
                         hint="field.shares")
    shares = [read_share_file(p) for p in share_paths]
    ids = {s["key_id"] for s in shares}
    if len(ids) != 1:
        raise Refusal("The share files are for different keys: "
                      + ", ".join(sorted(i[:16] for i in ids)) + ".")
    key_id = ids.pop()
    for p, s in zip(share_paths, shares, strict=True):
        _require_env(ctx, s["environment"], f"The share {p.name}")
    if len(key_files) > 1:
        raise InputError(f"Shares: {len(key_files)} encrypted key files (.smkikey) given "
                         f"({', '.join(_shown(p, key_files) for p in key_files)}); give only "
                         "the one of the backup these shares belong to.", hint="field.shares")
    if not key_files:
        key_files = sorted(share_paths[0].parent.glob(f"key-{key_id[:16]}.smkikey"))
    if len(key_files) != 1:
        raise InputError(f"Shares: give the encrypted key file key-{key_id[:16]}.smkikey "
                         "too.", hint="field.shares")
    kpath = key_files[0]
    doc, data = backup_files.read_key_bytes(kpath)
    _require_env(ctx, str(doc["environment"]), f"The backup {kpath.name}")
    if doc["key_id"] != key_id:
        raise Refusal(f"{kpath.name} holds key {str(doc['key_id'])[:16]}, the shares are for "
                      f"{key_id[:16]}.")
    prot = doc["protection"]
    if prot.get("kind") != "shares":
        raise InputError(f"{kpath}: this backup is under a passphrase, not shares.")
    _refuse_crossing(ctx, key_id, kpath)
    words = [" ".join(s["mnemonic"].lower().split()) for s in shares]
    parsed: list[tuple[Path, int, int]] = []  # (file, share set, share index)
    for p, w in zip(share_paths, words, strict=True):
        try:
            share = shamir_mnemonic.Share.from_mnemonic(w)
            parsed.append((p, int(share.common_parameters().identifier), share.index))
        except shamir_mnemonic.MnemonicError as exc:
            raise Refusal(f"The share {_shown(p, share_paths)} is wrong or damaged: "
                          f"{exc}") from None
    # the share sets before the share numbers: share 1 of two backups of one key is not
    # "the same share" given twice, it is a share of another backup
    sets: dict[int, Path] = {}
    for p, ident, _ in parsed:
        sets.setdefault(ident, p)
    if len(sets) > 1:
        a, b = list(sets.values())[:2]
        raise Refusal(f"The shares {_shown(a, share_paths)} and {_shown(b, share_paths)} "
                      "belong to different backups of this key (share sets "
                      f"{', '.join(str(i) for i in sets)}): give the shares of one backup, "
                      "with its own encrypted key file. Nothing was restored.")
    ident = next(iter(sets))
    if ident != int(prot.get("share_set", -1)):
        raise Refusal(f"The shares belong to another backup of this key than "
                      f"{_shown(kpath, [*share_paths, kpath])} (their share set is {ident}; "
                      f"that file's is {prot.get('share_set')}): give the encrypted key file "
                      "of their own backup. Nothing was restored.")
    members: dict[int, Path] = {}
    for p, _, index in parsed:
        if index in members:  # one custodian's share counted twice
            raise InputError(f"Shares: {_shown(p, share_paths)} and "
                             f"{_shown(members[index], share_paths)} are the same share "
                             f"(number {index + 1}); each share counts once.",
                             hint="field.shares")
        members[index] = p
    need = int(prot["threshold"])
    if len(words) < need:
        raise Refusal(f"{len(words)} share(s) given; {need} are needed to rebuild the key. "
                      "Nothing was restored.")
    try:
        secret = shamir_mnemonic.combine_mnemonics(words)
    except shamir_mnemonic.MnemonicError as exc:
        raise Refusal(f"The shares do not combine: {exc} A share is wrong.") from None
    der = _open(doc, secret, kpath, "The shares rebuild a key that does not open this backup: "
                "a share is wrong (altered, or from another backup).")
    res = _import(ctx, doc, der, kpath, "shares", hashlib.sha256(data).hexdigest())
    return replace(res, warnings=(*swept, *res.warnings))
