"""The ceremony transcript's machine-readable form: a hash-chained journal of canonical JSON
lines, its verification, and the human-readable text rendered from it. Pure.

Each line is one entry `{"seq", "prev", "step", "event", "at", "data", "hash"}` serialised
canonically (sorted keys, no spaces, ASCII); `hash` is SHA-256 over the canonical entry
without it, and `prev` is the previous entry's hash, so changing, removing or reordering any
line breaks the chain. Events: `begin`, `started`, `done`, `ack`, `warning`, `finish`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from smki_desktop.core.errors import InputError

GENESIS = "0" * 64


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def entry_hash(entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k != "hash"}
    return hashlib.sha256(canonical(body)).hexdigest()


def make_entry(seq: int, prev: str, step: str, event: str, at: str,
               data: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"seq": seq, "prev": prev, "step": step, "event": event, "at": at,
                             "data": data}
    entry["hash"] = entry_hash(entry)
    return entry


def entry_line(entry: dict[str, Any]) -> bytes:
    return canonical(entry) + b"\n"


@dataclass(frozen=True)
class Journal:
    entries: tuple[dict[str, Any], ...]
    torn_tail: bool = False  # the last line was cut short (a crash while writing it)

    @property
    def head(self) -> str:
        return self.entries[-1]["hash"] if self.entries else GENESIS

    def done(self) -> dict[str, dict[str, Any]]:
        """Completed steps -> their `done` data."""
        return {e["step"]: e["data"] for e in self.entries if e["event"] == "done"}

    def started_not_done(self) -> list[str]:
        done = self.done()
        return [e["step"] for e in self.entries
                if e["event"] == "started" and e["step"] not in done]

    def first(self, event: str) -> dict[str, Any] | None:
        return next((e for e in self.entries if e["event"] == event), None)

    @property
    def finished(self) -> bool:
        return self.first("finish") is not None


def parse_journal(data: bytes, source: str = "transcript", *,
                  allow_torn_tail: bool = False) -> Journal:
    """Read and check the chain; a torn last line (no newline) is tolerated only when asked
    (resuming after a crash), never when verifying."""
    lines = data.split(b"\n")
    torn = False
    if lines and lines[-1] == b"":
        lines.pop()
    elif lines:
        if not allow_torn_tail:
            raise InputError(f"{source}: the last line is incomplete (the run was cut off while "
                             "writing it).")
        lines.pop()
        torn = True
    entries: list[dict[str, Any]] = []
    prev = GENESIS
    for n, raw in enumerate(lines, 1):
        try:
            e = json.loads(raw)
        except ValueError:
            raise InputError(f"{source}, line {n}: not a JSON entry.") from None
        if not isinstance(e, dict) or set(e) != {"seq", "prev", "step", "event", "at", "data",
                                                 "hash"}:
            raise InputError(f"{source}, line {n}: not a transcript entry.")
        if canonical(e) != raw:
            raise InputError(f"{source}, line {n}: not in canonical form (it was edited).")
        if e["seq"] != n or e["prev"] != prev:
            raise InputError(f"{source}, line {n}: the chain is broken (a line was removed, "
                             "inserted or reordered).")
        if entry_hash(e) != e["hash"]:
            raise InputError(f"{source}, line {n}: its hash does not match its content (the "
                             "line was edited).")
        entries.append(e)
        prev = e["hash"]
    return Journal(tuple(entries), torn)


def render_text(journal: Journal) -> str:
    """The human-readable transcript: who, what, every step with its facts and hashes, and
    places for the witnesses' signatures."""
    begin = journal.first("begin")
    plan: dict[str, Any] = begin["data"]["plan"] if begin else {}
    out = [f"SMKI KEY CEREMONY TRANSCRIPT — {plan.get('ceremony_id', '?')}",
           f"Environment: {str(plan.get('environment', '?')).upper()}",
           f"Purpose: {plan.get('purpose', '')}",
           f"Administrator: {plan.get('administrator', '')}",
           f"Witnesses: {', '.join(plan.get('witnesses', []))}",
           f"Key custodians: {', '.join(plan.get('custodians', [])) or '-'}",
           "Ceremony file SHA-256: "
           + (str(begin["data"].get("ceremony_file_sha256", "")) if begin else ""),
           ""]
    for e in journal.entries:
        head = f"[{e['seq']:03d}] {e['at']}  {e['step']}  {e['event'].upper()}"
        out.append(head)
        for k in sorted(e["data"]):
            if k == "plan":
                continue
            v = e["data"][k]
            text = json.dumps(v, sort_keys=True, ensure_ascii=False) if not isinstance(v, str) \
                else v
            for i, chunk in enumerate(text.splitlines() or [""]):
                out.append(f"      {k if i == 0 else ' ' * len(k)}: {chunk}")
    out.append("")
    out.append(f"Journal head (SHA-256 chain): {journal.head}")
    out.append("")
    out.append("SIGNATURES")
    out.append(f"Administrator: {plan.get('administrator', '')}   (signed electronically: "
               "transcript.jsonl.p7s)")
    admin = begin["data"].get("administrator") if begin else None
    if isinstance(admin, dict) and admin.get("certificate_subject"):
        out.append(f"  with the credential of {admin['certificate_subject']}"
                   + (f", register entry {admin['register_entry']}"
                      if admin.get("register_entry") else ""))
    for w in plan.get("witnesses", []):
        out.append("")
        out.append(f"Witness: {w}")
        out.append("Signature: ______________________________   Date: ______________")
    return "\n".join(out) + "\n"
