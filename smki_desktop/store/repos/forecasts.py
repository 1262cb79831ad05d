"""CSR forecasts and Authorised Subscriber readiness: the monthly counts of CSRs made (from the
Device CSR and Organisation CSR tables), the user's forecast plans (`forecast_plans`) and the
recorded readiness milestones (`readiness_facts`)."""

from __future__ import annotations

from dataclasses import dataclass

from smki_desktop.store.db import Database


@dataclass(frozen=True)
class MonthCount:
    """How many CSRs were made in a month ('YYYY-MM'); `batched` for Device CSRs sent in a
    batch (always False for Organisation CSRs)."""

    month: str
    batched: bool
    count: int


@dataclass(frozen=True)
class PlanRow:
    month: str  # 'YYYY-MM'
    category: str
    count: int


@dataclass(frozen=True)
class FactRow:
    name: str  # 'org-verified' | 'srept:<certificate type>'
    date: str  # ISO date
    reference: str


def device_csr_months(db: Database, env: str) -> list[MonthCount]:
    """Device CSRs of this environment per month of `created`, single and batched apart."""
    return [MonthCount(str(r["m"] or ""), bool(r["batched"]), int(r["n"]))
            for r in db.conn().execute(
                "SELECT substr(created,1,7) AS m, "
                "CASE WHEN batch_id IS NULL THEN 0 ELSE 1 END AS batched, count(*) AS n "
                "FROM device_csrs WHERE environment=? GROUP BY m, batched", (env,))]


def org_csr_months(db: Database, env: str) -> list[MonthCount]:
    """Organisation CSRs made in this environment per month of `created`."""
    return [MonthCount(str(r["m"] or ""), False, int(r["n"]))
            for r in db.conn().execute(
                "SELECT substr(created,1,7) AS m, count(*) AS n FROM csr_requests "
                "WHERE environment=? AND family='organisation' GROUP BY m", (env,))]


def plans(db: Database, env: str) -> list[PlanRow]:
    return [PlanRow(r["month"], r["category"], int(r["count"])) for r in db.conn().execute(
        "SELECT month, category, count FROM forecast_plans WHERE environment=?", (env,))]


def set_plan(db: Database, env: str, month: str, category: str, count: int | None,
             updated: str) -> None:
    """Set the planned number for a month and category, or clear it (None)."""
    with db.transaction() as c:
        if count is None:
            c.execute("DELETE FROM forecast_plans WHERE month=? AND category=?",
                      (month, category))
        else:
            c.execute(
                "INSERT INTO forecast_plans(month, category, environment, count, updated) "
                "VALUES(?,?,?,?,?) ON CONFLICT(month, category) DO UPDATE SET "
                "count=excluded.count, updated=excluded.updated",
                (month, category, env, int(count), updated))


def facts(db: Database, env: str) -> list[FactRow]:
    return [FactRow(r["name"], r["date"], r["reference"]) for r in db.conn().execute(
        "SELECT name, date, reference FROM readiness_facts WHERE environment=?", (env,))]


def set_facts(db: Database, env: str, milestones: dict[str, tuple[str, str]],
              updated: str) -> None:
    """Record milestones, name -> (date, reference), all or none."""
    with db.transaction() as c:
        for name, (date, reference) in milestones.items():
            c.execute(
                "INSERT INTO readiness_facts(name, environment, date, reference, updated) "
                "VALUES(?,?,?,?,?) ON CONFLICT(name) DO UPDATE SET date=excluded.date, "
                "reference=excluded.reference, updated=excluded.updated",
                (name, env, date, reference, updated))
