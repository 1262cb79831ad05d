"""The ceremony file (TOML): strict schema, the plan it describes, and its steps. Pure.

One reviewed file says everything a key ceremony will do: environment, purpose, the people
(administrator, witnesses, key custodians), the keys (role, usage, EUI, where they are made),
the output folder and the backup policy. Unknown keys are refused; every error names the key
and, where it can be found in the text, the line. PINs and passphrases are never in the file.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError
from smki_desktop.core.eui import Eui64
from smki_desktop.core.keys import KeyUsage
from smki_desktop.core.plain_text import bad_char, bad_char_words
from smki_desktop.core.roles import RemotePartyRole

FORMAT = "smki-ceremony/1"
STORES = ("token", "keystore")
BACKUPS = ("none", "passphrase", "shares")
# every key a ceremony makes is labelled "ceremony <environment> <ceremony id> <key name>"
# (`key_label`); earlier versions wrote "ceremony <ceremony id> <key name>": a label
# (on a token Test and Live may share, that names neither), so such a key is never adopted
LABEL_PREFIX = "ceremony "
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_SECRET_WORDS = ("pin", "passphrase", "password", "secret")
# "PIN: 1234", "# user pin = 87654321", "password is Hunter2" in a comment or a text: the whole
# file is copied into the transcript, so such a line would publish the secret
_SECRET_IN_TEXT = re.compile(r"(?i)\b(pin|passphrase|password|passcode|secret)\b\s*(=|:|is)\s*"
                             r"[\"']?[^\s\"']*\d")


def key_label(env: Environment, ceremony_id: str, key_name: str) -> str:
    """The label of a key a ceremony of `env` makes: it names the environment, so that a key
    another environment's ceremony made on a shared token never matches it."""
    return f"{LABEL_PREFIX}{env.value} {ceremony_id} {key_name}"


def legacy_key_label(ceremony_id: str, key_name: str) -> str:
    """The label older versions gave a ceremony key (no environment): found only to resume
    a ceremony whose key step such a version completed, never adopted after an interruption."""
    return f"{LABEL_PREFIX}{ceremony_id} {key_name}"


def label_environment(label: str) -> Environment | None:
    """The environment a ceremony key's label names, or None (not a ceremony label, or one
    written by an older version, which names none)."""
    parts = label.split(" ")
    if len(parts) != 4 or parts[0] != LABEL_PREFIX.strip():
        return None
    return next((e for e in Environment if e.value == parts[1]), None)


def name_slug(name: str) -> str:
    """A person's name as it appears in file names (a witness's signature file)."""
    return "-".join("".join(c if c.isalnum() else " " for c in name.lower()).split())


@dataclass(frozen=True)
class CeremonyKey:
    name: str
    role: RemotePartyRole
    usage: KeyUsage
    eui: Eui64
    store: str  # "token" | "keystore"
    backup: str  # "none" | "passphrase" | "shares"
    cn: str | None = None

    @property
    def exportable(self) -> bool:
        return self.store == "keystore"

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role.name_text, "ou": self.role.ou,
                "usage": self.usage.value, "eui": str(self.eui), "store": self.store,
                "backup": self.backup, "cn": self.cn}


@dataclass(frozen=True)
class Step:
    """One step of a run: `kind` is facts | rehearsal | key | csr | backup | finish."""

    step_id: str
    kind: str
    title: str
    key: str | None = None


@dataclass(frozen=True)
class CeremonyPlan:
    environment: Environment
    purpose: str
    ceremony_id: str
    administrator: str
    witnesses: tuple[str, ...]
    custodians: tuple[str, ...]
    output_dir: Path
    keys: tuple[CeremonyKey, ...]
    share_threshold: int = 0
    share_count: int = 0
    token_module: str = ""
    token_label: str = ""
    administrator_key: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def uses_token(self) -> bool:
        return any(k.store == "token" for k in self.keys)

    def steps(self, rehearsal: bool = False) -> list[Step]:
        out = [Step("facts", "facts", "Record the machine facts (network, software, token)"),
               Step("rehearsal", "rehearsal",
                    "Rehearse with throwaway keys: every CSR must lint clean")]
        if rehearsal:
            return out
        for k in self.keys:
            where = "the token" if k.store == "token" else "the key store"
            out.append(Step(f"key:{k.name}", "key",
                            f"Generate key '{k.name}' ({k.usage.value}) on {where}", k.name))
            out.append(Step(f"csr:{k.name}", "csr",
                            f"Make, lint and write the CSR for '{k.name}' ({k.role.name_text}, "
                            f"{k.eui})", k.name))
            if k.backup != "none":
                how = (f"{self.share_threshold}-of-{self.share_count} SLIP-39 shares"
                       if k.backup == "shares" else "a passphrase")
                out.append(Step(f"backup:{k.name}", "backup",
                                f"Back up key '{k.name}' under {how}", k.name))
        out.append(Step("finish", "finish",
                        "Write and sign the transcript; witnesses sign the printed copy"))
        return out

    def plan_notes(self) -> list[str]:
        notes = list(self.notes)
        for k in self.keys:
            if k.store == "token":
                notes.append(f"Key '{k.name}' is made non-exportable on the token: it has no "
                             "backup (losing the token loses the key).")
        return notes

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT, "environment": self.environment.value, "purpose": self.purpose,
            "ceremony_id": self.ceremony_id, "administrator": self.administrator,
            "administrator_key": self.administrator_key,
            "witnesses": list(self.witnesses), "custodians": list(self.custodians),
            "output_dir": str(self.output_dir),
            "token": {"module": self.token_module, "label": self.token_label},
            "shares": {"threshold": self.share_threshold, "count": self.share_count},
            "keys": [k.as_dict() for k in self.keys],
            "steps": [{"id": s.step_id, "title": s.title} for s in self.steps()],
            "notes": self.plan_notes(),
        }

    def plan_text(self) -> str:
        lines = [f"Ceremony {self.ceremony_id} ({self.environment.label} environment)",
                 f"Purpose: {self.purpose}",
                 f"Administrator: {self.administrator}",
                 f"Witnesses: {', '.join(self.witnesses)}"]
        if self.custodians:
            lines.append(f"Key custodians: {', '.join(self.custodians)}")
        lines.append(f"Output folder: {self.output_dir}")
        if self.uses_token:
            lines.append(f"Token: {self.token_label!r} via {self.token_module}")
        lines.append("Keys:")
        for k in self.keys:
            lines.append(f"  {k.name}: {k.role.name_text} ({k.role.ou}) {k.usage.value} "
                         f"EUI {k.eui} on {k.store}, backup {k.backup}")
        lines.append("Steps:")
        for i, s in enumerate(self.steps(), 1):
            lines.append(f"  {i}. {s.title}")
        for n in self.plan_notes():
            lines.append(f"Note: {n}")
        return "\n".join(lines)


def _line_of(text: str, key: str, table: str | None = None) -> int | None:
    """The 1-based line where `key` is assigned (after `[table]` when given, or after the
    n-th `[[table]]` for `table#n`), if found."""
    start = 0
    lines = text.splitlines()
    if table:
        name, _, nth = table.partition("#")
        want = int(nth) if nth else 1
        pat = re.compile(r"^\s*\[\[?\s*" + re.escape(name) + r"\s*\]\]?\s*(#.*)?$")
        seen = 0
        for i, ln in enumerate(lines):
            if pat.match(ln):
                seen += 1
                if seen == want:
                    start = i
                    break
    kpat = re.compile(r"^\s*" + re.escape(key) + r"\s*=")
    for i in range(start, len(lines)):
        if kpat.match(lines[i]):
            return i + 1
    return None


class _Reader:
    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source

    def err(self, key: str, msg: str, table: str | None = None,
            last: str | None = None) -> NoReturn:
        line = _line_of(self.text, last or key.rsplit(".", 1)[-1], table)
        where = f"{self.source}, line {line}" if line else self.source
        raise InputError(f"Ceremony file {where}: {key}: {msg}")

    def unknown(self, obj: dict[str, Any], allowed: set[str], prefix: str,
                table: str | None = None) -> None:
        for k in obj:
            if k not in allowed:
                hint = (" PINs and passphrases are never written in a ceremony file; they are "
                        "asked during the run.") if any(w in k.lower() for w in _SECRET_WORDS) \
                    else f" Allowed here: {', '.join(sorted(allowed))}."
                self.err(f"{prefix}{k}", "unknown key." + hint, table, k)

    def string(self, obj: dict[str, Any], key: str, prefix: str, table: str | None = None,
               required: bool = True) -> str:
        if key not in obj:
            if required:
                self.err(f"{prefix}{key}", "required.", table)
            return ""
        v = obj[key]
        if not isinstance(v, str) or (required and not v.strip()):
            self.err(f"{prefix}{key}", "must be a non-empty text.", table)
        bad = bad_char(v)
        if bad:
            self.err(f"{prefix}{key}", f"holds the control or format character {bad}; one "
                     "line of plain text only.", table)
        return str(v).strip()

    def names(self, obj: dict[str, Any], key: str, prefix: str, table: str | None,
              minimum: int) -> tuple[str, ...]:
        v = obj.get(key, [])
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
            self.err(f"{prefix}{key}", "must be a list of names (texts in quotes).", table)
        if len(v) < minimum:
            self.err(f"{prefix}{key}", f"at least {minimum} name(s) needed.", table)
        problem = names_problem(v)
        if problem:
            self.err(f"{prefix}{key}", problem, table)
        return tuple(x.strip() for x in v)


def names_problem(names: list[str], person: str = "person",
                  why_distinct: str = "") -> str | None:
    """What is wrong with a list of people's names (the first thing found, naming the entry),
    or None: each one line of plain text with letters or digits, no name given twice (case
    and spacing ignored), no two that differ only in spaces or punctuation (their signature
    files would be the same, and the people could be taken for one another). The one rule for
    such lists: a ceremony file's roles and a key backup's custodians (`person` is the word
    for them, `why_distinct` what a name given twice would cost)."""
    for i, x in enumerate(names, 1):
        if not x.strip():
            return f"name {i} of {len(names)} is empty; give each {person} their name."
        bad = bad_char_words(x)
        if bad:
            return f"{x.strip()[:40]!r} holds {bad}; one line of plain text only."
        if not name_slug(x):
            return f"{x.strip()!r} needs letters or digits."
    seen: dict[str, str] = {}
    for x in names:
        folded = " ".join(x.split()).casefold()
        for other_folded, other in seen.items():
            if folded == other_folded:
                return f"the name {x.strip()!r} is given twice{why_distinct}."
            if name_slug(x) == name_slug(other):
                return (f"{other!r} and {x.strip()!r} differ only in spaces or punctuation; "
                        f"give each {person} a name that tells them apart.")
        seen[folded] = x.strip()
    return None


def _load_toml(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"Ceremony file {source}: not valid TOML: {exc}.") from None
    except RecursionError:  # arrays or tables nested thousands deep
        raise InputError(f"Ceremony file {source}: nested too deeply to be a ceremony "
                         "file.") from None
    except ValueError as exc:  # e.g. an integer of thousands of digits
        raise InputError(f"Ceremony file {source}: not a usable TOML value: {exc}.") from None


@dataclass(frozen=True)
class _Header:
    env: Environment
    purpose: str
    cid: str
    out: Path


def _parse_header(r: _Reader, doc: dict[str, Any], base_dir: Path | None) -> _Header:
    r.unknown(doc, {"format", "ceremony_id", "environment", "purpose", "output_dir", "roles",
                    "token", "backup", "keys"}, "")
    fmt = r.string(doc, "format", "")
    if fmt != FORMAT:
        r.err("format", f"{fmt!r} is not {FORMAT!r}.")
    cid = r.string(doc, "ceremony_id", "")
    if not _NAME.match(cid):
        r.err("ceremony_id", "lower-case letters, digits and '-' only, up to 40 characters.")
    env_text = r.string(doc, "environment", "")
    try:
        env = Environment.parse(env_text)
    except InputError:
        r.err("environment", f"{env_text!r}: use 'test' or 'live'.")
    purpose = r.string(doc, "purpose", "")
    out = Path(r.string(doc, "output_dir", "")).expanduser()
    if not out.is_absolute() and base_dir is not None:
        out = base_dir / out
    return _Header(env, purpose, cid, out)


def _parse_roles(r: _Reader, doc: dict[str, Any]
                 ) -> tuple[str, str, tuple[str, ...], tuple[str, ...]]:
    """(administrator, administrator_key, witnesses, custodians)"""
    roles = doc.get("roles")
    if not isinstance(roles, dict):
        r.err("roles", "required table [roles] (administrator, witnesses, custodians).")
    r.unknown(roles, {"administrator", "administrator_key", "witnesses", "custodians"},
              "roles.", "roles")
    admin = r.string(roles, "administrator", "roles.", "roles")
    admin_key = r.string(roles, "administrator_key", "roles.", "roles", required=False)
    witnesses = r.names(roles, "witnesses", "roles.", "roles", 1)
    custodians = r.names(roles, "custodians", "roles.", "roles", 0)
    if admin.lower() in {w.lower() for w in witnesses}:
        r.err("roles.witnesses", f"the administrator {admin!r} cannot also be a witness.",
              "roles")
    return admin, admin_key, witnesses, custodians


def _parse_token(r: _Reader, doc: dict[str, Any]) -> tuple[str, str]:
    token = doc.get("token", {})
    if not isinstance(token, dict):
        r.err("token", "must be a table [token] (module, label).")
    r.unknown(token, {"module", "label"}, "token.", "token")
    return (r.string(token, "module", "token.", "token", required=False),
            r.string(token, "label", "token.", "token", required=False))


def _parse_backup(r: _Reader, doc: dict[str, Any]) -> tuple[int, int]:
    backup = doc.get("backup", {})
    if not isinstance(backup, dict):
        r.err("backup", "must be a table [backup] (threshold, shares).")
    r.unknown(backup, {"threshold", "shares"}, "backup.", "backup")
    threshold = backup.get("threshold", 0)
    count = backup.get("shares", 0)
    for k, v in (("threshold", threshold), ("shares", count)):
        if not isinstance(v, int) or isinstance(v, bool) or v < 0 or v > 16:
            r.err(f"backup.{k}", "a whole number from 1 to 16.", "backup")
    return int(threshold), int(count)


def _parse_key_kind(r: _Reader, k: dict[str, Any], p: str, t: str, name: str
                    ) -> tuple[RemotePartyRole, KeyUsage, Eui64]:
    role_text = r.string(k, "role", p, t)
    usage_text = r.string(k, "usage", p, t)
    eui_text = r.string(k, "eui", p, t)
    try:
        role = RemotePartyRole.parse(role_text)
    except InputError as exc:
        r.err(f"{p}role", f"key {name!r}: {exc.message}", t)
    try:
        usage = KeyUsage.parse(usage_text)
    except InputError as exc:
        r.err(f"{p}usage", f"key {name!r}: {exc.message}", t)
    try:
        eui = Eui64.parse(eui_text, "EUI")
    except InputError as exc:
        r.err(f"{p}eui", f"key {name!r}: {exc.message}", t)
    if usage not in (KeyUsage.SIGNING, KeyUsage.KEY_AGREEMENT):
        r.err(f"{p}usage", "an Organisation key is 'signing' or 'key-agreement'.", t)
    return role, usage, eui


def _parse_key_storage(r: _Reader, k: dict[str, Any], p: str, t: str, name: str,
                       shares: tuple[int, int]) -> tuple[str, str]:
    store = r.string(k, "store", p, t)
    if store not in STORES:
        r.err(f"{p}store", f"{store!r}: use 'token' or 'keystore'.", t)
    bk = r.string(k, "backup", p, t, required=False) or "none"
    if bk not in BACKUPS:
        r.err(f"{p}backup", f"{bk!r}: use none, passphrase or shares.", t)
    if store == "token" and bk != "none":
        r.err(f"{p}backup", f"key {name!r} is made non-exportable on the token, so it "
              "cannot be backed up; set backup = \"none\".", t)
    if bk == "shares" and not all(shares):
        r.err("backup", f"key {name!r} asks for shares: give [backup] threshold and "
              "shares.")
    return store, bk


def _parse_keys(r: _Reader, doc: dict[str, Any], shares: tuple[int, int]
                ) -> tuple[CeremonyKey, ...]:
    raw_keys = doc.get("keys")
    if not isinstance(raw_keys, list) or not raw_keys:
        r.err("keys", "at least one [[keys]] table is needed.")
    keys: list[CeremonyKey] = []
    seen: set[str] = set()
    euis: dict[tuple[str, str, str], str] = {}
    for i, k in enumerate(raw_keys, 1):
        p, t = f"keys[{i}].", f"keys#{i}"
        if not isinstance(k, dict):
            r.err(f"keys[{i}]", "must be a table.")
        r.unknown(k, {"name", "role", "usage", "eui", "store", "backup", "cn"}, p, t)
        name = r.string(k, "name", p, t)
        if not _NAME.match(name):
            r.err(f"{p}name", f"{name!r}: lower-case letters, digits and '-' only.", t)
        if name in seen:
            r.err(f"{p}name", f"{name!r} is used by two keys.", t)
        seen.add(name)
        role, usage, eui = _parse_key_kind(r, k, p, t, name)
        store, bk = _parse_key_storage(r, k, p, t, name, shares)
        cn = r.string(k, "cn", p, t, required=False) or None
        ident = (role.ou, usage.value, str(eui))
        if ident in euis:
            r.err(f"{p}eui", f"key {name!r} repeats role {role.name_text} {usage.value} for "
                  f"EUI {eui} (also key {euis[ident]!r}).", t)
        euis[ident] = name
        keys.append(CeremonyKey(name, role, usage, eui, store, bk, cn))
    return tuple(keys)


def _check_shares(r: _Reader, threshold: int, count: int, custodians: tuple[str, ...]) -> None:
    if not 1 <= threshold <= count:
        r.err("backup.threshold", f"{threshold}-of-{count}: the threshold must be from 1 "
              "to the number of shares.", "backup")
    if threshold == 1 and count > 1:  # as `smki key backup --shares` refuses it
        r.err("backup.threshold", f"1-of-{count} gives every custodian the whole key (a "
              "plain copy); use 2 or more.", "backup")
    if len(custodians) < count:
        r.err("roles.custodians", f"{count} shares need {count} named custodians; "
              f"{len(custodians)} given.", "roles")


def _refuse_secrets(text: str, source: str) -> None:
    for n, ln in enumerate(text.splitlines(), 1):
        if _SECRET_IN_TEXT.search(ln):
            raise InputError(f"Ceremony file {source}, line {n}: this looks like a PIN or "
                             "passphrase. Never write one in a ceremony file, not even in a "
                             "comment: the file is copied into the transcript. They are asked "
                             "during the run.")


def parse_ceremony(text: str, source: str = "ceremony file",
                   base_dir: Path | None = None) -> CeremonyPlan:
    """Parse and check a ceremony file strictly (no Party or token checks: see the service)."""
    doc = _load_toml(text, source)
    r = _Reader(text, source)
    head = _parse_header(r, doc, base_dir)
    admin, admin_key, witnesses, custodians = _parse_roles(r, doc)
    module, label = _parse_token(r, doc)
    threshold, count = _parse_backup(r, doc)
    keys = _parse_keys(r, doc, (threshold, count))
    if any(k.backup == "shares" for k in keys):
        _check_shares(r, threshold, count, custodians)
    if any(k.store == "token" for k in keys) and not (module and label):
        r.err("token", "a key is made on the token: give [token] module and label.")
    _refuse_secrets(text, source)
    return CeremonyPlan(head.env, head.purpose, head.cid, admin, witnesses, custodians,
                        head.out, keys, threshold, count, module, label, admin_key)


def parse_shares_spec(text: str) -> tuple[int, int]:
    """`3-of-5` -> (3, 5)."""
    m = re.fullmatch(r"\s*(\d+)\s*-?\s*of\s*-?\s*(\d+)\s*", text.lower())
    if not m:
        raise InputError(f"Shares {text!r}: write M-of-N, e.g. 3-of-5.", hint="field.shares")
    t, n = int(m.group(1)), int(m.group(2))
    if not (1 <= t <= n <= 16):
        raise InputError(f"Shares {text}: need 1 <= M <= N <= 16.", hint="field.shares")
    if t == 1 and n > 1:
        raise InputError(f"Shares {text}: a threshold of 1 is a plain copy; use 2 or more.",
                         hint="field.shares")
    return t, n
