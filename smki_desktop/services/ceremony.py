"""Key ceremonies: check a ceremony file against this environment and the Party profile, run it
step by step with a journal that survives a crash, and verify the signed transcript.

The CLI and the GUI ceremony mode drive the same `CeremonyRun`: for each remaining step they
show it, collect the administrator's confirmation and each witness's acknowledgement (and the
acknowledgement of any machine warning), call `acknowledge(...)` then `perform(step)`.

Resilience: every step writes `started` before it acts and `done` after, each line fsynced to
`transcript.jsonl` in the output folder. A re-run reads the journal: completed steps are
skipped; a step that started but did not finish is resumed by adopting what it made (the key
with the ceremony's label, the CSR recorded for that key, an output file that is already
there), so no second key is ever made for a step and no output is ever overwritten. Only what
the interrupted step itself made is adopted: a CSR whose subject is the plan's key entry and
that was made after the step started; a key of the plan's usage and store whose
`key.generate` record names this ceremony and is dated after the step started, and that the
other environment neither made nor holds (services/ceremony_keys.py). Key labels name the
environment, so a ceremony never finds the other environment's ceremony key on a shared token.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import os
import platform
import secrets
import shutil
import socket
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from smki_desktop.core.ceremony import CeremonyKey, Step, key_label, legacy_key_label
from smki_desktop.core.ceremony_transcript import (
    Journal,
    entry_line,
    make_entry,
    parse_journal,
    render_text,
)
from smki_desktop.core.environment import Environment, require_same
from smki_desktop.core.errors import InputError, Refusal, SmkiError
from smki_desktop.core.keys import KeyInfo, KeyLocation, KeyType, key_id_for_spki
from smki_desktop.core.ports import PassphraseProvider
from smki_desktop.crypto.cms import SignatureInvalid, verify_detached
from smki_desktop.crypto.csr import build_org_csr
from smki_desktop.crypto.der import encode
from smki_desktop.crypto.fields import extract_fields
from smki_desktop.crypto.lint import lint_der
from smki_desktop.crypto.memory_signer import MemorySigner
from smki_desktop.keystores.os_keyring import resolve_key_ref
from smki_desktop.keystores.pkcs11_store import Pkcs11KeyStore
from smki_desktop.render.pdf import render_pages
from smki_desktop.services import ceremony_keys, key_backup

# its checks and facts, re-exported: the faces and the tests reach them through this module
from smki_desktop.services.ceremony_check import MAX_FILE as MAX_FILE
from smki_desktop.services.ceremony_check import CheckedCeremony as CheckedCeremony
from smki_desktop.services.ceremony_check import check_ceremony as check_ceremony
from smki_desktop.services.ceremony_check import csr_plan_differences as csr_plan_differences
from smki_desktop.services.ceremony_check import network_interfaces_up as network_interfaces_up
from smki_desktop.services.ceremony_check import read_ceremony_file as read_ceremony_file
from smki_desktop.services.ceremony_check import software_identity
from smki_desktop.services.ceremony_identity import (
    OfficerIdentity,
    officer_identity,
    require_named_officer,
    sign_as_officer,
)
from smki_desktop.services.context import AppContext
from smki_desktop.services.csr import create_org_csr, get_csr_der, profile_for
from smki_desktop.services.keys import KeyRecord
from smki_desktop.store.atomic import OutputError, write_atomic
from smki_desktop.store.repos import ceremony as ceremony_repo
from smki_desktop.store.repos import csrs as csrs_repo

if sys.platform != "win32":
    import fcntl

JOURNAL = "transcript.jsonl"
SIGNATURE = "transcript.jsonl.p7s"
TEXT = "transcript.txt"


def _when(at: str) -> datetime | None:
    """A journal or record time as a datetime (None if it is not one)."""
    try:
        t = datetime.fromisoformat(at)
    except (TypeError, ValueError):
        return None
    return t if t.tzinfo is not None else t.replace(tzinfo=UTC)


# -- machine facts -----------------------------------------------------------------------------

def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha(path: Path) -> str:
    return _sha(path.read_bytes())


def _public_pem(der: bytes) -> str:
    return serialization.load_der_public_key(der).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


# -- the run -----------------------------------------------------------------------------------

@dataclass
class StepResult:
    step: Step
    data: dict[str, Any]
    resumed: bool = False
    lines: list[str] = field(default_factory=list)


class CeremonyRun:
    """One ceremony file's run (or rehearsal) over its journal in the output folder."""

    def __init__(self, ctx: AppContext, path: Path, secrets_provider: PassphraseProvider, *,
                 rehearsal: bool = False) -> None:
        self.ctx = ctx
        self.checked = check_ceremony(ctx, path)
        self.plan = self.checked.plan
        self.secrets = secrets_provider
        self.rehearsal = rehearsal
        self.out = self.plan.output_dir
        self.journal_path = self.out / JOURNAL
        self._entries: list[dict[str, Any]] = []
        self._token: Pkcs11KeyStore | None = None
        self._stack = contextlib.ExitStack()
        self.identity: OfficerIdentity | None = None
        self.resumed = False
        self.sys_net = Path("/sys/class/net")  # where the network interfaces are read
        if rehearsal:
            self._append("rehearsal", "begin", {"plan": self.plan.as_dict(),
                                                "ceremony_file_sha256":
                                                    self.checked.file_sha256}, write=False)
            return
        self.identity = officer_identity(ctx, self.plan.administrator_key or None,
                                         self.plan.administrator)
        require_named_officer(self.identity, self.plan.administrator, "administrator")
        try:
            self._open_journal()
        except BaseException:  # refused: the folder's lock goes too, or a retry in this
            self._stack.close()  # process (the GUI's next Start) finds it "in progress"
            raise

    # -- journal ---------------------------------------------------------------------------
    def _open_journal(self) -> None:
        try:
            self.out.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise Refusal(f"Output folder {self.out}: cannot be made ({exc.strerror}).") \
                from None
        self._refuse_links()
        self._lock()
        if self.journal_path.exists():
            data = self.journal_path.read_bytes()
            journal = parse_journal(data, str(self.journal_path), allow_torn_tail=True)
            begin = journal.first("begin")
            if begin is None:
                raise Refusal(f"{self.journal_path} holds no ceremony start; move it away.")
            self._refuse_another_ceremonys(begin["data"].get("plan"))
            if begin["data"].get("ceremony_file_sha256") != self.checked.file_sha256:
                raise Refusal(f"The ceremony file changed since this run started (its SHA-256 "
                              f"was {begin['data'].get('ceremony_file_sha256')}); a ceremony "
                              "is finished with the file it started with.")
            began_with = (begin["data"].get("administrator") or {}).get("key_id")
            if self.identity is not None and began_with != self.identity.key_id:
                raise Refusal(f"This ceremony began with the administrator's credential "
                              f"{str(began_with)[:16]}; the credential here is "
                              f"{self.identity.key_id[:16]} ({self.identity.subject}). The "
                              "transcript is signed with the credential it began with.")
            if journal.torn_tail:  # the crash cut a line short: it recorded nothing
                keep = data[:data.rfind(b"\n") + 1]
                with open(self.journal_path, "r+b") as fh:
                    fh.truncate(len(keep))
                    os.fsync(fh.fileno())
            self._entries = list(journal.entries)
            self.resumed = True
            if not self.complete:
                details = {"completed_steps": sorted(journal.done()),
                           "interrupted_steps": journal.started_not_done(),
                           "torn_line_dropped": journal.torn_tail}
                self._append("resume", "resume", details)
                self.ctx.audit.record("ceremony.resume",
                                      dict(details, ceremony_id=self.plan.ceremony_id,
                                           output_dir=str(self.out)))
            return
        ident = self.identity
        assert ident is not None
        self._append("begin", "begin", {
            "plan": self.plan.as_dict(), "ceremony_file": self.checked.text,
            "ceremony_file_sha256": self.checked.file_sha256,
            "administrator": {"name": self.plan.administrator, "key_id": ident.key_id,
                              "certificate_subject": ident.subject,
                              "register_entry": ident.register_entry,
                              "certificate_sha256": ident.certificate_sha256},
            "witnesses": list(self.plan.witnesses)})
        dfd = os.open(self.out, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
        self.ctx.audit.record("ceremony.begin", {"ceremony_id": self.plan.ceremony_id,
                                                 "output_dir": str(self.out)},
                              {"ceremony_file": self.checked.file_sha256})

    def _refuse_another_ceremonys(self, began: Any) -> None:
        """The journal on the media is another ceremony's (another environment's, or another
        ceremony id's): say so, rather than that this ceremony's file changed."""
        began = began if isinstance(began, dict) else {}
        env, cid = str(began.get("environment", "")), str(began.get("ceremony_id", ""))
        with contextlib.suppress(InputError):  # an unreadable one: the file hash refuses it
            require_same(self.ctx.env, Environment.parse(env),
                         f"The ceremony journal already in {self.journal_path} (ceremony "
                         f"{cid})")
        if cid and cid != self.plan.ceremony_id:
            raise Refusal(f"{self.journal_path} is the journal of another ceremony, {cid}; "
                          f"this file's ceremony is {self.plan.ceremony_id}. Give this "
                          "ceremony its own output folder (output_dir), or move that one "
                          "away; nothing was done.")

    def _refuse_links(self) -> None:
        """Nothing the run writes into may be a symbolic link: a link named `backup`, `csr`
        or `transcript.jsonl` would send key backups, share words or the journal somewhere
        else than the media the team is looking at."""
        # what a run writes into: the journal and lock (opened, not created anew) and the
        # csr/ and backup/ trees (new files are written by link(), which never follows one);
        # only these are looked at, so an output folder with other content stays quick
        found = [self.out / n for n in (JOURNAL, SIGNATURE, TEXT, ".transcript.lock", "csr",
                                        "backup")]
        for sub in ("csr", "backup"):
            if (self.out / sub).is_dir() and not (self.out / sub).is_symlink():
                for root, dirs, files in os.walk(self.out / sub, followlinks=False):
                    found += [Path(root) / n for n in dirs + files]
        for p in found:
            if p.is_symlink():
                raise Refusal(f"{p} is a symbolic link (to {os.readlink(p)}); nothing a "
                              "ceremony writes on its media may point elsewhere. Remove it and "
                              "re-run; nothing was done in this step.")

    def _lock(self) -> None:
        """One run at a time per output folder (two would interleave the journal); the OS
        drops the lock when the process ends, even by SIGKILL."""
        if sys.platform == "win32":  # pragma: no cover - ceremony machines run Linux
            return
        fd = os.open(self.out / ".transcript.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise Refusal(f"Another run of this ceremony is in progress on {self.out}; "
                          "one run at a time.") from None
        self._stack.callback(os.close, fd)

    def _append(self, step: str, event: str, data: dict[str, Any], *, write: bool = True) -> None:
        prev = self._entries[-1]["hash"] if self._entries else "0" * 64
        entry = make_entry(len(self._entries) + 1, prev, step, event,
                           self.ctx.clock.now().isoformat(), data)
        if write and not self.rehearsal:
            self._write_line(entry_line(entry))
        self._entries.append(entry)

    def _write_line(self, line: bytes) -> None:
        """Append one journal line and fsync it, or leave the journal exactly as it was: a
        line half-written on a full disk is cut off again, so the next line never lands
        after a fragment (which would break the journal for good)."""
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(self.journal_path, flags, 0o644)
        except OSError as exc:
            raise OutputError(f"Cannot write the ceremony journal {self.journal_path}: "
                              f"{exc.strerror or exc}. Nothing was done in this step.") \
                from exc
        try:
            pos = os.lseek(fd, 0, os.SEEK_END)
            try:
                view = memoryview(line)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    os.ftruncate(fd, pos)
                    os.fsync(fd)
                raise OutputError(f"Cannot write the ceremony journal {self.journal_path}: "
                                  f"{exc.strerror or exc}. This entry is not recorded; free "
                                  "space and go on (a step that was started resumes).") \
                    from exc
        finally:
            os.close(fd)

    @property
    def journal(self) -> Journal:
        return Journal(tuple(self._entries))

    @property
    def complete(self) -> bool:
        sig = self.out / SIGNATURE
        return ("finish" in self.journal.done() and sig.exists() and self.identity is not None
                and self._own_signature(self.journal_path.read_bytes(), sig.read_bytes()))

    def steps(self) -> list[Step]:
        return self.plan.steps(self.rehearsal)

    def remaining(self) -> list[Step]:
        done = self.journal.done()
        left = [s for s in self.steps() if s.step_id not in done]
        if not self.rehearsal and "finish" in done and not self.complete:
            left.append(self.plan.steps()[-1])
        return left

    def warnings_for(self, step: Step) -> list[str]:
        """Warnings the team must acknowledge before this step."""
        if step.kind != "facts":
            return []
        up = network_interfaces_up(self.sys_net)
        if not up:
            return []
        return [f"Network interface(s) up: {', '.join(up)}. A ceremony machine should be "
                "offline; go on only if the team accepts it."]

    def acknowledge(self, step: Step, witnesses: list[str],
                    warnings: list[str] | tuple[str, ...] = ()) -> None:
        """Record that the administrator confirmed `step`, the named witnesses acknowledged
        it, and the team accepted `warnings`."""
        missing = [w for w in self.plan.witnesses if w not in witnesses]
        if missing:
            raise Refusal(f"Step {step.step_id}: witness(es) {', '.join(missing)} did not "
                          "acknowledge it; nothing was done.")
        self._append(step.step_id, "ack", {"administrator": self.plan.administrator,
                                           "witnesses": list(witnesses),
                                           "warnings_acknowledged": list(warnings)})

    def _acked(self, step: Step) -> dict[str, Any]:
        for e in reversed(self._entries):
            if e["step"] == step.step_id and e["event"] == "ack":
                return dict(e["data"])
            if e["event"] in ("resume", "done") and e["step"] != step.step_id:
                break
        raise Refusal(f"Step {step.step_id}: the administrator's confirmation and the "
                      "witnesses' acknowledgement come first.")

    # -- steps -----------------------------------------------------------------------------
    def perform(self, step: Step) -> StepResult:
        if step.step_id in self.journal.done() and step.step_id != "finish":
            raise Refusal(f"Step {step.step_id} is already done; it is never done twice.")
        ack = self._acked(step)
        if not self.rehearsal:
            self._refuse_links()
        interrupted = step.step_id in self.journal.started_not_done()
        if not (step.step_id == "finish" and "finish" in self.journal.done()):
            self._append(step.step_id, "started", {"resuming": interrupted})
        fn = getattr(self, f"_do_{step.kind}")
        data, lines = fn(step, ack, interrupted)
        if not (step.step_id == "finish" and "finish" in self.journal.done()):
            self._append(step.step_id, "done", data)
        if step.kind == "finish":
            lines += self._sign()
        return StepResult(step, data, interrupted, lines)

    def _do_facts(self, step: Step, ack: dict[str, Any], _r: bool) -> tuple[dict[str, Any],
                                                                           list[str]]:
        warnings = self.warnings_for(step)
        unacked = [w for w in warnings if w not in ack.get("warnings_acknowledged", [])]
        if unacked:
            raise Refusal("Not acknowledged by the team: " + " ".join(unacked))
        facts: dict[str, Any] = {
            "hostname": socket.gethostname(), "platform": platform.platform(),
            "network_interfaces_up": network_interfaces_up(self.sys_net),
            "software": software_identity(),
            "environment": self.ctx.env.value, "warnings": warnings}
        if self.plan.uses_token:
            facts["token"] = self._token_store().token_identity()
        lines = [f"Software {facts['software']['version']} "
                 f"(source SHA-256 {facts['software']['source_sha256'][:16]}…)",
                 "Network: " + (", ".join(facts["network_interfaces_up"]) + " UP"
                                if facts["network_interfaces_up"] else "no interface up")]
        if "token" in facts:
            lines.append(f"Token {facts['token']['label']!r} serial {facts['token']['serial']}")
        return facts, lines

    def _do_rehearsal(self, step: Step, _a: dict[str, Any],
                      _r: bool) -> tuple[dict[str, Any], list[str]]:
        profile = profile_for(self.ctx)
        results: dict[str, Any] = {}
        bad: list[str] = []
        for k in self.plan.keys:
            signer = MemorySigner(ec.generate_private_key(ec.SECP256R1()),
                                  environment=self.ctx.env, usage=k.usage,
                                  label=f"rehearsal {k.name}")
            der = build_org_csr(signer, k.role, k.eui, k.cn)
            report = lint_der(der, profile, f"rehearsal CSR {k.name}")
            results[k.name] = {"lint_ok": report.ok,
                               "findings": [str(f) for f in report.findings]}
            if not report.ok:
                bad.append(f"{k.name}: " + "; ".join(str(f) for f in report.findings))
        if not self.rehearsal:
            for k in self.plan.keys:
                p = self._csr_path(k)
                if p.exists() and f"csr:{k.name}" not in self.journal.done():
                    try:
                        adopted = self._adoptable_csr(
                            k, f"csr:{k.name}" in self.journal.started_not_done())
                    except SmkiError:
                        adopted = None
                    if adopted is None:
                        bad.append(f"{k.name}: the output {p} already exists and is not this "
                                   "ceremony's; outputs are never overwritten")
                b = self._backup_path(k)
                if b is not None and b.exists() and f"key:{k.name}" not in self.journal.done():
                    bad.append(f"{k.name}: the backup output {b} already exists and is not "
                               "this ceremony's; outputs are never overwritten")
            if (self.out / SIGNATURE).exists() and "finish" not in self.journal.done():
                bad.append(f"the transcript signature {self.out / SIGNATURE} already exists "
                           "and is not this ceremony's")
        if bad:
            raise Refusal("Rehearsal failed; no real key was made: " + " | ".join(bad))
        return ({"throwaway_keys": len(self.plan.keys), "csrs": results},
                [f"{len(results)} rehearsal CSR(s) lint clean with throwaway keys."])

    def _label(self, k: CeremonyKey) -> str:
        return key_label(self.ctx.env, self.plan.ceremony_id, k.name)

    def _first_started(self, step_id: str) -> datetime | None:
        """When `step_id` first started (the run the interruption cut short)."""
        return next((_when(e["at"]) for e in self._entries
                     if e["step"] == step_id and e["event"] == "started"), None)

    def _token_store(self) -> Pkcs11KeyStore:
        if self._token is None:
            self._token = Pkcs11KeyStore(self.ctx.env, self.plan.token_module,
                                         self.plan.token_label, self.ctx.db, self.ctx.clock,
                                         self.secrets)
        return self._token

    def _logged_in_token(self) -> Pkcs11KeyStore:
        store = self._token_store()
        if store._open is None:
            self._stack.enter_context(store.logged_in())
        return store

    def _keys_labelled(self, k: CeremonyKey) -> list[KeyInfo]:
        return [resolve_key_ref(self.ctx.db, self.ctx.env, key_id) for key_id in
                ceremony_repo.key_ids_labelled(self.ctx.db, self.ctx.env, self._label(k))]

    def _key_of(self, k: CeremonyKey) -> KeyInfo:
        """The key the key step made (an older version's label, with no environment, is
        accepted here: the journal of this data folder's ceremony says that step made it)."""
        key_id = self.journal.done()[f"key:{k.name}"]["key_id"]
        legacy = ceremony_repo.key_ids_labelled(
            self.ctx.db, self.ctx.env, legacy_key_label(self.plan.ceremony_id, k.name))
        found = [i for i in self._keys_labelled(k) if i.key_id == key_id]
        if not found and key_id in legacy:
            found = [resolve_key_ref(self.ctx.db, self.ctx.env, key_id)]
        if not found:
            raise Refusal(f"Key {k.name} ({key_id[:16]}) made by this ceremony is not in this "
                          f"data folder's {self.ctx.env.label} key records: run the ceremony "
                          "from the data folder it started in.")
        return found[0]

    def _require_adoptable_key(self, k: CeremonyKey, info: KeyInfo, step_id: str) -> None:
        """A key found under the ceremony's label is adopted only if it is the key this step
        made before the interruption (services/ceremony_keys.py)."""
        label = self._label(k)
        ceremony_keys.refuse_other_environments_key(self.ctx, info.key_id, step_id, label)
        problems = ceremony_keys.store_problems(k, info, self.plan.token_label)
        made = ceremony_keys.made_here_problem(self.ctx, self.plan.ceremony_id, label,
                                               info.key_id, self._first_started(step_id), _when)
        if made:
            problems.append(made)
        if problems:
            raise Refusal(f"Step {step_id}: the key labelled {label!r} "
                          f"({info.key_id[:16]}) is not the key this step made, so it is not "
                          "adopted: " + "; ".join(problems) + ". No second key is made; "
                          "investigate first.")

    def _do_key(self, step: Step, _a: dict[str, Any],
                interrupted: bool) -> tuple[dict[str, Any], list[str]]:
        k = next(x for x in self.plan.keys if x.name == step.key)
        cid = self.plan.ceremony_id
        existing = self._keys_labelled(k)
        adopted = False
        if existing:
            if not interrupted or len(existing) != 1:
                raise Refusal(f"Step {step.step_id}: {len(existing)} key(s) labelled "
                              f"{self._label(k)!r} already exist but the journal does not say "
                              "this step made one. No second key is made; investigate first.")
            info, adopted = existing[0], True
            self._require_adoptable_key(k, info, step.step_id)
        elif k.store == "token":
            store = self._logged_in_token()
            # made on the token, the crash came before its record: recorded now, as this
            # ceremony's (the record the crash prevented), then checked like any adopted key
            found = store.adopt_labelled(
                self._label(k), k.usage,
                recorded=KeyRecord(self.ctx, {"ceremony": cid,
                                              "recorded_after_interruption": True}),
                check=lambda key_id: ceremony_keys.refuse_other_environments_key(
                    self.ctx, key_id, step.step_id, self._label(k))
            ) if interrupted else None
            if found is not None:
                info, adopted = found, True
                self._require_adoptable_key(k, info, step.step_id)
            else:
                info = store.generate(KeyType.EC_P256, k.usage, self._label(k),
                                      recorded=KeyRecord(self.ctx, {"ceremony": cid}))
        else:  # the key's row and its record commit together
            info = self.ctx.keystore.generate(KeyType.EC_P256, k.usage, self._label(k),
                                              recorded=KeyRecord(self.ctx, {"ceremony": cid}))
        data = {"key_id": info.key_id, "fingerprint": f"SHA-256:{info.key_id}",
                "public_key_pem": _public_pem(info.public_key_der),
                "location": info.location.value, "location_ref": info.location_ref,
                "exportable": info.location is KeyLocation.OS_KEYRING,
                "adopted_after_interruption": adopted}
        return data, [f"Key {k.name}: {info.key_id} ({info.location.value})"
                      + (" — adopted, made before the interruption" if adopted else "")]

    def _csr_path(self, k: CeremonyKey) -> Path:
        return self.out / "csr" / f"{self.plan.ceremony_id}-{k.name}-{k.eui.hex}.csr"

    def _adoptable_csr(self, k: CeremonyKey, interrupted: bool) -> bytes | None:
        """The CSR this step made for the ceremony's key before an interruption, or None if
        the key has none. A CSR for the key that this step did not make (the step never
        started, or the CSR is older than the step), or whose subject is not the plan's
        key entry, is refused: it would go out as the ceremony's CSR."""
        done = self.journal.done().get(f"key:{k.name}")
        if done is None:
            return None
        csr_id = ceremony_repo.first_csr_id(self.ctx.db, self.ctx.env, done["key_id"])
        if csr_id is None:
            return None
        der = get_csr_der(self.ctx, csr_id)
        row = csrs_repo.get_csr(self.ctx.db, self.ctx.env.value, csr_id)
        started = self._first_started(f"csr:{k.name}")
        made = _when(row.created) if row is not None else None
        if not interrupted or started is None or made is None or made < started:
            raise Refusal(f"Key {k.name} ({str(done['key_id'])[:16]}) already has a CSR (CSR "
                          f"{csr_id}) that this step did not make: the journal does not show "
                          "this step starting before it. It is not taken as the ceremony's "
                          "CSR, and a key has one CSR only; investigate first (discard that "
                          "CSR if it never left this machine, or make the key again in a new "
                          "ceremony).")
        differs = csr_plan_differences(extract_fields(der, f"CSR {csr_id}"), k.as_dict())
        if differs:
            raise Refusal(f"The CSR recorded for key {k.name} (CSR {csr_id}) is not the one "
                          "the plan asks for: its " + "; its ".join(differs) + ". It is not "
                          "taken as the ceremony's CSR; investigate first.")
        return der

    def _do_csr(self, step: Step, _a: dict[str, Any],
                interrupted: bool) -> tuple[dict[str, Any], list[str]]:
        k = next(x for x in self.plan.keys if x.name == step.key)
        info = self._key_of(k)
        der = self._adoptable_csr(k, interrupted)
        adopted = der is not None
        if der is None:
            store = self._logged_in_token() if info.location is KeyLocation.PKCS11 else None
            der = create_org_csr(self.ctx, info.key_id, k.role, k.eui, k.cn,
                                 token_store=store).der
        report = lint_der(der, profile_for(self.ctx), f"CSR {k.name}")
        if not report.ok:
            raise Refusal(f"CSR {k.name} fails lint: "
                          + "; ".join(str(f) for f in report.findings))
        path = self._csr_path(k)
        pem = encode(der, "pem")
        if path.exists():
            if path.read_bytes() != pem:
                raise Refusal(f"{path} exists with other content; outputs are never "
                              "overwritten. Move it away and re-run.")
        else:
            write_atomic(path, pem)
        rel = str(path.relative_to(self.out))
        data = {"key_id": info.key_id, "csr_sha256": _sha(der), "file": rel,
                "file_sha256": _sha(pem), "lint_ok": True,
                "lint_findings": [str(f) for f in report.findings],
                "adopted_after_interruption": adopted}
        return data, [f"CSR {k.name}: {rel} (lint clean, SHA-256 {_sha(der)[:16]}…)"]

    def _backup_path(self, k: CeremonyKey) -> Path | None:
        if k.backup == "passphrase":
            return self.out / "backup" / f"{k.name}.smkikey"
        if k.backup == "shares":
            return self.out / "backup" / k.name
        return None

    def _adopt_backup(self, k: CeremonyKey, info: KeyInfo, path: Path,
                      interrupted: bool) -> None:
        """A backup output already there is kept only if this step made it before an
        interruption, for this very key; anything else would record someone else's file as
        this key's backup (and leave the key without one)."""
        key_file = path if path.is_file() else next(iter(sorted(path.glob("*.smkikey"))), path)
        problem = "" if interrupted else "this step had not started"
        if not problem:
            try:
                doc = key_backup.read_key_file(key_file)
                if doc["key_id"] != info.key_id or doc["environment"] != self.ctx.env.value:
                    problem = "it is the backup of another key"
            except InputError:
                problem = "it is not a key backup"
        if problem:
            raise Refusal(f"{path} already exists and is not this ceremony's backup of "
                          f"{k.name} ({problem}); outputs are never overwritten. Move it away "
                          "and re-run.")

    def _do_backup(self, step: Step, _a: dict[str, Any],
                   interrupted: bool) -> tuple[dict[str, Any], list[str]]:
        k = next(x for x in self.plan.keys if x.name == step.key)
        info = self._key_of(k)
        base = self.out / "backup"
        target = self._backup_path(k)
        if target is not None and target.exists():
            self._adopt_backup(k, info, target, interrupted)
        base.mkdir(parents=True, exist_ok=True)
        files: dict[str, str] = {}
        shares: dict[str, dict[str, str]] = {}
        lines: list[str] = []
        if k.backup == "passphrase":
            path = base / f"{k.name}.smkikey"
            if not path.exists():
                key_backup.backup_with_passphrase(self.ctx, info.key_id, path,
                                                  self.secrets.ask(
                                                      f"Backup passphrase for key {k.name}",
                                                      confirm=True))
            files[str(path.relative_to(self.out))] = _file_sha(path)
            lines.append(f"Backup of {k.name} under a passphrase: {path.name}")
        else:
            final = base / k.name
            if not final.exists():
                for stale in base.glob(f".{k.name}.partial-*"):  # a crash before the rename:
                    shutil.rmtree(stale)  # shares never handed out, never to be used
                tmp = base / f".{k.name}.partial-{secrets.token_hex(4)}"
                res = key_backup.backup_with_shares(
                    self.ctx, info.key_id, tmp, self.plan.share_threshold,
                    self.plan.share_count, list(self.plan.custodians[:self.plan.share_count]),
                    recorded_as=final)
                os.replace(tmp, final)
                lines.append(res.warning)
            for p in sorted(final.iterdir()):
                rel = str(p.relative_to(self.out))
                if p.suffix == ".smkikey":
                    files[rel] = _file_sha(p)
                else:  # a custodian's share: it leaves the media after the ceremony
                    shares[rel] = {"sha256": _file_sha(p),
                                   "custodian": key_backup.read_share_file(p).get("custodian",
                                                                                  "")}
            lines.append(f"Backup of {k.name}: {self.plan.share_threshold}-of-"
                         f"{self.plan.share_count} shares in {final}")
        return ({"key_id": info.key_id, "kind": k.backup, "files": files,
                 "custodian_shares": shares}, lines)

    def _outputs(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for s, d in self.journal.done().items():
            if s.startswith("csr:"):
                out[d["file"]] = d["file_sha256"]
            elif s.startswith("backup:"):
                out.update(d["files"])
        return out

    def custodian_shares(self) -> dict[str, dict[str, str]]:
        """Share files made so far: relative path -> sha256 and custodian."""
        out: dict[str, dict[str, str]] = {}
        for s, d in self.journal.done().items():
            if s.startswith("backup:"):
                out.update(d.get("custodian_shares", {}))
        return out

    def _do_finish(self, step: Step, _a: dict[str, Any],
                   interrupted: bool) -> tuple[dict[str, Any], list[str]]:
        if "finish" in self.journal.done():
            return self.journal.done()["finish"], []
        for rel, sha in self._outputs().items():
            if _file_sha(self.out / rel) != sha:
                raise Refusal(f"Output {rel} changed since it was written; the transcript "
                              "cannot be finished.")
        text = render_text(self.journal).encode()
        n = 1
        while True:  # never overwrite, and never take someone else's file for ours
            path = self.out / (TEXT if n == 1 else f"transcript-{n}.txt")
            pdf_path = path.with_suffix(".pdf")
            text_ours = not path.exists() or path.read_bytes() == text
            # a PDF already there is ours only if this step was interrupted after writing it
            pdf_ours = not pdf_path.exists() or (interrupted and path.exists())
            if text_ours and pdf_ours:
                break
            n += 1
        if not path.exists():
            write_atomic(path, text)
        if not pdf_path.exists():  # printable, with a signature line for each witness
            write_atomic(pdf_path, render_pages(
                f"<pre style='font-size:8pt'>{html.escape(text.decode())}</pre>",
                env=self.ctx.env, title=f"Key ceremony transcript {self.plan.ceremony_id}",
                reference=self.plan.ceremony_id))
        return ({"transcript_text": path.name, "transcript_text_sha256": _sha(text),
                 "transcript_pdf": pdf_path.name, "transcript_pdf_sha256": _file_sha(pdf_path),
                 "outputs": self._outputs(), "custodian_shares": self.custodian_shares()},
                [f"Transcript: {path} (printable: {pdf_path.name})"])

    def _own_signature(self, data: bytes, sig: bytes) -> bool:
        """Is `sig` the administrator's valid signature over `data` (written before an
        interruption), rather than a file someone put there?"""
        assert self.identity is not None
        try:
            cert = verify_detached(data, sig).signer_certificate
        except (SignatureInvalid, ValueError):
            return False
        return cert is not None and key_id_for_spki(cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        ) == self.identity.key_id

    def _sign(self) -> list[str]:
        sig_path = self.out / SIGNATURE
        assert self.identity is not None
        data = self.journal_path.read_bytes()
        if sig_path.exists():
            if not self._own_signature(data, sig_path.read_bytes()):
                raise Refusal(f"{sig_path} is in the way: it is not the administrator's "
                              "signature of this transcript, and outputs are never "
                              "overwritten. Move it away and re-run to sign.")
            return [f"Signature: {sig_path} (already there)"]
        sig = sign_as_officer(self.ctx, data, self.identity)
        write_atomic(sig_path, sig)
        self.ctx.audit.record("ceremony.finish", {"ceremony_id": self.plan.ceremony_id,
                                                  "output_dir": str(self.out)},
                              {"transcript": data, "signature": sig})
        return [f"Transcript signed by {self.identity.subject}: {sig_path}"]

    def close(self) -> None:
        self._stack.close()


def confirm_and_perform(run: CeremonyRun, step: Step, witnesses: list[str],
                        warnings: list[str] | tuple[str, ...] = ()) -> StepResult:
    """The one action behind "perform this step" in the CLI and the GUI: record the
    administrator's confirmation, the witnesses' acknowledgement and accepted warnings, then
    perform the step."""
    run.acknowledge(step, witnesses, warnings)
    return run.perform(step)
