"""Imported Quarantined Communications Reports and the ARO's decisions on their items, typed
(`adt_quarantine_reports`, `adt_quarantine_items`)."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from smki_desktop.store.db import Database


@dataclass(frozen=True)
class ReportRow:
    report_id: int
    environment: str
    name: str
    sha256: str
    profile: str
    imported: str
    items: int
    action_sha256: str

    def as_dict(self) -> dict[str, Any]:
        """The row as the table's columns (`id` for `report_id`)."""
        return {"id": self.report_id, "environment": self.environment, "name": self.name,
                "sha256": self.sha256, "profile": self.profile, "imported": self.imported,
                "items": self.items, "action_sha256": self.action_sha256}


_COLS = "id, environment, name, sha256, profile, imported, items, action_sha256"


def _report(r: sqlite3.Row) -> ReportRow:
    return ReportRow(int(r["id"]), r["environment"], r["name"], r["sha256"], r["profile"],
                     r["imported"], int(r["items"]), r["action_sha256"])


def report_with_sha(db: Database, env: str, sha256: str) -> ReportRow | None:
    r = db.conn().execute(f"SELECT {_COLS} FROM adt_quarantine_reports WHERE environment=? "
                          "AND sha256=?", (env, sha256)).fetchone()
    return _report(r) if r is not None else None


def get_report(db: Database, env: str, report_id: int) -> ReportRow | None:
    r = db.conn().execute(f"SELECT {_COLS} FROM adt_quarantine_reports WHERE id=? AND "
                          "environment=?", (report_id, env)).fetchone()
    return _report(r) if r is not None else None


def list_reports(db: Database, env: str) -> list[ReportRow]:
    """This environment's imported reports, newest first."""
    return [_report(r) for r in db.conn().execute(
        f"SELECT {_COLS} FROM adt_quarantine_reports WHERE environment=? ORDER BY id DESC",
        (env,))]


def add_report(db: Database, env: str, name: str, sha256: str, profile: str, imported: str,
               items: Sequence[tuple[str, str]]) -> int:
    """Store a report and its items (quarantine id, item JSON) in one transaction; returns
    the report's id."""
    with db.transaction() as c:
        rid = int(c.execute(
            "INSERT INTO adt_quarantine_reports(environment, name, sha256, profile, imported, "
            "items) VALUES (?,?,?,?,?,?) RETURNING id",
            (env, name, sha256, profile, imported, len(items))).fetchone()[0])
        c.executemany(
            "INSERT INTO adt_quarantine_items(report_id, quarantine_id, data) VALUES (?,?,?)",
            [(rid, qid, data) for qid, data in items])
    return rid


def decisions(db: Database, report_id: int) -> dict[str, str]:
    """The decisions taken so far on a report's items (quarantine id -> PROCESS/DELETE)."""
    return {r["quarantine_id"]: r["decision"] for r in db.conn().execute(
        "SELECT quarantine_id, decision FROM adt_quarantine_items WHERE report_id=? "
        "AND decision != ''", (report_id,))}


def set_decisions(db: Database, report_id: int, chosen: Mapping[str, str]) -> int:
    """Keep decisions ('' clears one); returns how many items were updated."""
    n = 0
    with db.transaction() as c:
        for qid, decision in chosen.items():
            n += c.execute("UPDATE adt_quarantine_items SET decision=? WHERE report_id=? AND "
                           "quarantine_id=?", (decision, report_id, qid)).rowcount
    return n


def set_action_sha(db: Database, report_id: int, sha256: str) -> None:
    with db.transaction() as c:
        c.execute("UPDATE adt_quarantine_reports SET action_sha256=? WHERE id=?",
                  (sha256, report_id))
