"""The audit log service: append records to the hash chain, keep its head in the OS keyring,
list and verify."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from smki_desktop import __version__
from smki_desktop.core.audit import (
    GENESIS,
    AuditEntry,
    ChainHead,
    StoredRow,
    VerifyReport,
    artifact_digest,
    entry_hash,
    verify_chain,
)
from smki_desktop.core.environment import Environment
from smki_desktop.core.ports import Clock
from smki_desktop.keystores.secrets import OsSecrets
from smki_desktop.store.db import Database

_lock = threading.Lock()


class AuditLog:
    def __init__(self, db: Database, secrets: OsSecrets, environment: Environment, clock: Clock,
                 actor: Callable[[], str], installation_id: str) -> None:
        # One keyring entry per installation (data folder), so that two data folders on one
        # machine (portable use, tests) keep separate heads.
        self.head_entry = f"audit-head:{installation_id}"
        self.db = db
        self.secrets = secrets
        self.environment = environment
        self.clock = clock
        self._actor = actor

    def record(self, action: str, details: dict[str, Any] | None = None,
               artifacts: dict[str, bytes | str] | None = None) -> AuditEntry:
        # Every record says which version of the app wrote it. It lives in the details, which the
        # chain already hashes, so records written before it verify as they did.
        details = {**(details or {}), "app_version": __version__}
        arts = {k: artifact_digest(v) for k, v in (artifacts or {}).items()}
        details_json = json.dumps(details, sort_keys=True, default=str, ensure_ascii=False)
        artifacts_json = json.dumps(arts, sort_keys=True)
        ts = self.clock.now().isoformat(timespec="microseconds")
        actor = self._actor()
        env = self.environment.value
        with _lock, self.db.transaction() as c:
            last = c.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1").fetchone()
            seq = (last["seq"] + 1) if last else 1
            prev = last["hash"] if last else GENESIS
            h = entry_hash(prev, seq, ts, env, actor, action, details_json, artifacts_json)
            c.execute(
                "INSERT INTO audit_log(seq,ts,environment,actor,action,details,artifacts,"
                "prev_hash,hash) VALUES(?,?,?,?,?,?,?,?,?)",
                (seq, ts, env, actor, action, details_json, artifacts_json, prev, h),
            )
        # After the commit: a crash in between leaves rows after the head, which verify
        # reports as a note; the reverse order would look like deleted rows.
        self.secrets.set(self.head_entry, ChainHead(seq, h).to_text())
        return AuditEntry(seq, ts, env, actor, action, details, arts, prev, h)

    def entries(self, limit: int | None = None, action_prefix: str = "") -> list[AuditEntry]:
        sql = "SELECT * FROM audit_log"
        params: list[Any] = []
        if action_prefix:
            sql += " WHERE action LIKE ?"
            params.append(action_prefix + "%")
        sql += " ORDER BY seq DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        out = []
        for r in self.db.conn().execute(sql, params):
            out.append(AuditEntry(
                r["seq"], r["ts"], r["environment"], r["actor"], r["action"],
                json.loads(r["details"]), json.loads(r["artifacts"]), r["prev_hash"], r["hash"],
            ))
        return out

    def verify(self) -> VerifyReport:
        rows = [
            StoredRow(r["seq"], r["ts"], r["environment"], r["actor"], r["action"], r["details"],
                      r["artifacts"], r["prev_hash"], r["hash"])
            for r in self.db.conn().execute("SELECT * FROM audit_log ORDER BY seq")
        ]
        head_text = self.secrets.get_optional(self.head_entry)
        head = ChainHead.from_text(head_text) if head_text else None
        report = verify_chain(rows, head)
        for r in rows:
            if r.environment != self.environment.value:
                report.problems.append(
                    f"Row {r.seq} belongs to the {r.environment} environment, not "
                    f"{self.environment.value}: rows were copied between environments."
                )
        return report
