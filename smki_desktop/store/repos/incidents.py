"""The incidents aggregate: an incident's record (JSON), its state, and its event log."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from smki_desktop.store.db import Database


@dataclass(frozen=True)
class IncidentRow:
    incident_id: str
    environment: str
    state: str
    data: dict[str, Any]
    created: str
    updated: str


@dataclass(frozen=True)
class EventRow:
    at: str
    action: str
    actor: str
    details: dict[str, Any]


class IncidentsRepo:
    def __init__(self, db: Database, environment: str) -> None:
        self.db = db
        self.env = environment

    def add(self, row: IncidentRow) -> None:
        with self.db.transaction() as c:
            c.execute("INSERT INTO incidents(incident_id, environment, state, data, created, "
                      "updated) VALUES (?,?,?,?,?,?)",
                      (row.incident_id, row.environment, row.state,
                       json.dumps(row.data, sort_keys=True), row.created, row.updated))

    def save(self, incident_id: str, state: str, data: dict[str, Any], at: str,
             event: EventRow) -> None:
        with self.db.transaction() as c:
            c.execute("UPDATE incidents SET state=?, data=?, updated=? WHERE incident_id=? AND "
                      "environment=?", (state, json.dumps(data, sort_keys=True), at,
                                        incident_id, self.env))
            self._event(c, incident_id, event)

    def _event(self, c: Any, incident_id: str, e: EventRow) -> None:
        c.execute("INSERT INTO incident_events(incident_id, environment, at, action, actor, "
                  "details) VALUES (?,?,?,?,?,?)",
                  (incident_id, self.env, e.at, e.action, e.actor,
                   json.dumps(e.details, sort_keys=True)))

    def add_event(self, incident_id: str, event: EventRow) -> None:
        with self.db.transaction() as c:
            self._event(c, incident_id, event)

    def get(self, incident_id: str) -> IncidentRow | None:
        r = self.db.conn().execute("SELECT * FROM incidents WHERE environment=? AND "
                                   "upper(incident_id)=upper(?)",
                                   (self.env, incident_id)).fetchone()
        if r is None:
            return None
        return IncidentRow(r["incident_id"], r["environment"], r["state"],
                           dict(json.loads(r["data"])), r["created"], r["updated"])

    def all(self) -> list[IncidentRow]:
        rows = self.db.conn().execute("SELECT incident_id FROM incidents WHERE environment=? "
                                      "ORDER BY created", (self.env,)).fetchall()
        return [x for x in (self.get(r["incident_id"]) for r in rows) if x is not None]

    def events(self, incident_id: str) -> list[EventRow]:
        rows = self.db.conn().execute("SELECT * FROM incident_events WHERE incident_id=? AND "
                                      "environment=? ORDER BY seq", (incident_id, self.env))
        return [EventRow(r["at"], r["action"], r["actor"], dict(json.loads(r["details"])))
                for r in rows]
