"""Device CSR batches and their Device CSR rows (tables `device_batches`, `device_csrs`), typed.

The devices services keep the rules (what a status means, when a batch is complete); this
module only reads and writes rows. Reads take the `Database`; writes take the connection of the
caller's `db.transaction()` so that several writes land together. Portable SQL only (a
PostgreSQL backend sits behind the same functions).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from smki_desktop.store.db import Database

Tx = sqlite3.Connection
"""The connection a `Database.transaction()` yields (writes take it; services name it `Tx` so
that no SQLite type leaks upward)."""

WAITING = ("packaged", "pending")
"""Row statuses still waiting for the DCC's answer."""


@dataclass(frozen=True, slots=True)
class NewBatch:
    """A batch as first recorded (one package or one web-service submission)."""

    batch_id: str
    environment: str
    name: str
    channel: str  # portal-zip | web-service
    state: str  # packaged | pending (rows) -> the batch's state
    total: int
    created: str
    submitted: str | None
    pickup_deadline: str | None
    outbox_ref: str | None
    out_dir: str | None
    files_json: str


@dataclass(frozen=True, slots=True)
class NewCsr:
    """A Device CSR row as first recorded with its batch."""

    key_id: str
    file_name: str
    device_eui: str  # 16 upper-case hex digits
    usage: str
    der: bytes
    source: str
    locator: str


@dataclass(frozen=True, slots=True)
class BatchRow:
    batch_id: str
    name: str
    channel: str
    state: str
    total: int
    created: str
    pickup_deadline: str | None


@dataclass(frozen=True, slots=True)
class PackagedFiles:
    """A packaged (not yet answered) portal batch: where its files were written, by name."""

    batch_id: str
    name: str
    out_dir: str
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class KnownCsr:
    """What validation needs of a stored Device CSR (duplicate keys and device counts)."""

    key_id: str
    device_eui: str
    usage: str
    status: str
    batch_id: str | None
    file_name: str


@dataclass(frozen=True, slots=True)
class FilingRow:
    """What filing a DCC result needs of a stored Device CSR."""

    key_id: str
    batch_id: str | None
    file_name: str
    device_eui: str
    usage: str
    status: str
    # what is filed now, so that an answer imported again changes nothing it already holds
    error_code: str | None = None
    cert_serial: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class StoredCsr:
    """A whole Device CSR row."""

    environment: str
    key_id: str
    batch_id: str | None
    file_name: str
    device_eui: str
    usage: str
    status: str
    csr: bytes
    certificate: bytes | None
    cert_serial: str | None


@dataclass(frozen=True, slots=True)
class ListedCsr:
    """A Device CSR row as listed to the user (EUI still as stored: 16 hex digits)."""

    file_name: str
    device_eui: str
    usage: str
    status: str
    error_code: str | None
    detail: str | None
    batch_id: str | None
    cert_serial: str | None
    key_id: str


@dataclass(frozen=True, slots=True)
class ResultUpdate:
    """One Device CSR's filed outcome (status, DCC code, detail, certificate and its facts)."""

    status: str
    error_code: str | None
    detail: str
    certificate: bytes | None
    cert_serial: str | None
    cert_issuer: str | None
    lint_json: str | None
    updated: str
    environment: str
    key_id: str


_UPDATE_RESULT = ("UPDATE device_csrs SET status=?, error_code=?, detail=?, certificate=?, "
                  "cert_serial=?, cert_issuer=?, lint=?, updated=? "
                  "WHERE environment=? AND key_id=?")


# --- writes (in the caller's transaction) ------------------------------------------------------


def insert_batch(c: Tx, b: NewBatch, status: str, csrs: Iterable[NewCsr]) -> None:
    """Record a batch and its Device CSR rows, every row with `status`."""
    c.execute(
        "INSERT INTO device_batches(id, environment, name, channel, state, total, created, "
        "submitted, pickup_deadline, outbox_ref, out_dir, files, updated) "
        "VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?)",
        (b.batch_id, b.environment, b.name, b.channel, b.state, b.total, b.created,
         b.submitted, b.pickup_deadline, b.outbox_ref, b.out_dir, b.files_json, b.created))
    c.executemany(
        "INSERT INTO device_csrs(environment, key_id, batch_id, file_name, device_eui, usage, "
        "csr, source, locator, status, created, updated) VALUES(?,?,?,?,?,?,?,?,?,?,?,?)",
        ((b.environment, r.key_id, b.batch_id, r.file_name, r.device_eui, r.usage, r.der,
          r.source, r.locator, status, b.created, b.created) for r in csrs))


def delete_batch(c: Tx, batch_id: str) -> None:
    """Remove a batch and its rows (a submission whose queueing failed, a package whose files
    could not be placed)."""
    c.execute("DELETE FROM device_csrs WHERE batch_id=?", (batch_id,))
    c.execute("DELETE FROM device_batches WHERE id=?", (batch_id,))


def set_outbox_ref(c: Tx, batch_id: str, ref: str, now: str) -> None:
    c.execute("UPDATE device_batches SET outbox_ref=?, updated=? WHERE id=?",
              (ref, now, batch_id))


def set_batch_completed(c: Tx, batch_id: str, now: str) -> None:
    c.execute("UPDATE device_batches SET state='completed', updated=? WHERE id=?",
              (now, batch_id))


def fail_waiting(c: Tx, batch_id: str, detail: str, now: str) -> int:
    """Every still-waiting row of the batch becomes `error` with `detail`; how many did."""
    done = c.execute("UPDATE device_csrs SET status='error', detail=?, updated=? "
                     "WHERE batch_id=? AND status IN (?,?) RETURNING key_id",
                     (detail, now, batch_id, *WAITING)).fetchall()
    return len(done)


def file_results(c: Tx, updates: Sequence[ResultUpdate]) -> None:
    c.executemany(_UPDATE_RESULT, [
        (u.status, u.error_code, u.detail, u.certificate, u.cert_serial, u.cert_issuer,
         u.lint_json, u.updated, u.environment, u.key_id) for u in updates])


def settle_batches(c: Tx, batch_ids: Iterable[str], now: str) -> None:
    """The DCC answered for these batches, so they were uploaded: their `packaged` rows are
    now `pending`; a batch with no waiting row left is `completed`, else `submitted`."""
    for b in batch_ids:
        c.execute("UPDATE device_csrs SET status='pending', updated=? WHERE batch_id=? "
                  "AND status='packaged'", (now, b))
        c.execute("UPDATE device_batches SET submitted=COALESCE(submitted, ?) WHERE id=?",
                  (now, b))
        left = _waiting(c, b)
        c.execute("UPDATE device_batches SET state=?, updated=? WHERE id=?",
                  ("completed" if left == 0 else "submitted", now, b))


def _waiting(c: Tx, batch_id: str) -> int:
    row = c.execute("SELECT COUNT(*) AS n FROM device_csrs WHERE batch_id=? AND status IN (?,?)",
                    (batch_id, *WAITING)).fetchone()
    return int(row["n"])


# --- reads -------------------------------------------------------------------------------------


def waiting_count(db: Database, batch_ids: Iterable[str]) -> int:
    """Rows of these batches still waiting for the DCC."""
    c = db.conn()
    return sum(_waiting(c, b) for b in batch_ids)


def known_csrs(db: Database, env: str) -> list[KnownCsr]:
    return [KnownCsr(r["key_id"], r["device_eui"], r["usage"], r["status"], r["batch_id"],
                     r["file_name"])
            for r in db.conn().execute(
                "SELECT key_id, device_eui, usage, status, batch_id, file_name FROM device_csrs "
                "WHERE environment=?", (env,))]


def imported_device_certs(db: Database, env: str) -> list[tuple[str, str]]:
    """(device EUI as written, key id) of the device certificates imported by other routes
    (`smki cert import`): they count towards a device's certificates as well."""
    return [(str(r["device_eui"]), str(r["key_id"])) for r in db.conn().execute(
        "SELECT device_eui, key_id FROM certificates WHERE environment=? AND family='device' "
        "AND device_eui IS NOT NULL", (env,))]


def open_web_batches(db: Database, env: str) -> list[tuple[str, str]]:
    """(batch id, outbox ref) of the web-service batches whose results are not yet filed."""
    return [(str(r["id"]), str(r["outbox_ref"])) for r in db.conn().execute(
        "SELECT id, outbox_ref FROM device_batches WHERE environment=? AND "
        "channel='web-service' AND state<>'completed' AND outbox_ref IS NOT NULL", (env,))]


def rows_for_filing(db: Database, env: str, batch_id: str | None = None) -> list[FilingRow]:
    sql = ("SELECT key_id, batch_id, file_name, device_eui, usage, status, error_code, "
           "cert_serial, detail FROM device_csrs WHERE environment=?")
    params: list[str] = [env]
    if batch_id:
        sql += " AND batch_id=?"
        params.append(batch_id)
    return [FilingRow(r["key_id"], r["batch_id"], r["file_name"], r["device_eui"], r["usage"],
                      r["status"], r["error_code"], r["cert_serial"], r["detail"])
            for r in db.conn().execute(sql, params)]


def status_counts(db: Database, env: str) -> dict[str, dict[str, int]]:
    """Per batch: how many rows have each status."""
    per: dict[str, dict[str, int]] = {}
    for r in db.conn().execute("SELECT batch_id, status, COUNT(*) AS n FROM device_csrs WHERE "
                               "environment=? GROUP BY batch_id, status", (env,)):
        per.setdefault(r["batch_id"], {})[r["status"]] = int(r["n"])
    return per


def list_batches(db: Database, env: str) -> list[BatchRow]:
    return [BatchRow(r["id"], r["name"], r["channel"], r["state"], int(r["total"]),
                     r["created"], r["pickup_deadline"])
            for r in db.conn().execute(
                "SELECT id, name, channel, state, total, created, pickup_deadline FROM "
                "device_batches WHERE environment=? ORDER BY created", (env,))]


def packaged_file_sets(db: Database, env: str) -> list[PackagedFiles]:
    """The portal batches still `packaged` (the DCC has not answered) with the output folder
    and the names of the files written for them, oldest first."""
    out = []
    for r in db.conn().execute(
            "SELECT id, name, out_dir, files FROM device_batches WHERE environment=? AND "
            "channel='portal-zip' AND state='packaged' AND out_dir IS NOT NULL ORDER BY created",
            (env,)):
        try:
            files = json.loads(r["files"] or "[]")
        except ValueError:
            files = []
        names = tuple(str(f).replace("\\", "/").rsplit("/", 1)[-1] for f in files
                      if isinstance(f, str))
        out.append(PackagedFiles(str(r["id"]), str(r["name"]), str(r["out_dir"]), names))
    return out


def list_rows(db: Database, env: str, batch_id: str | None = None) -> list[ListedCsr]:
    sql = ("SELECT file_name, device_eui, usage, status, error_code, detail, batch_id, "
           "cert_serial, key_id FROM device_csrs WHERE environment=?")
    params: list[str] = [env]
    if batch_id:
        sql += " AND batch_id=?"
        params.append(batch_id)
    return [ListedCsr(r["file_name"], r["device_eui"], r["usage"], r["status"],
                      r["error_code"], r["detail"], r["batch_id"], r["cert_serial"],
                      r["key_id"])
            for r in db.conn().execute(sql + " ORDER BY batch_id, file_name", params)]


def list_page(db: Database, env: str, *, status: str | None = None,
              after: tuple[str, str] | None = None, limit: int = 200) -> list[ListedCsr]:
    """One page of Device CSR rows sorted by (EUI, key), optionally of one status, starting
    after the (device_eui, key_id) of the previous page's last row (keyset paging: each page
    costs the same however deep it is, unlike OFFSET; index device_csrs_status_eui)."""
    sql = ("SELECT file_name, device_eui, usage, status, error_code, detail, batch_id, "
           "cert_serial, key_id FROM device_csrs WHERE environment=?")
    params: list[str | int] = [env]
    if status is not None:
        sql += " AND status=?"
        params.append(status)
    if after is not None:
        # a row-value comparison: both engines walk the index from that point
        sql += " AND (device_eui, key_id) > (?, ?)"
        params += [after[0], after[1]]
    sql += " ORDER BY device_eui, key_id LIMIT ?"
    params.append(limit)
    return [ListedCsr(r["file_name"], r["device_eui"], r["usage"], r["status"],
                      r["error_code"], r["detail"], r["batch_id"], r["cert_serial"],
                      r["key_id"])
            for r in db.conn().execute(sql, params)]


def batch_csrs(db: Database, env: str, batch_id: str) -> list[tuple[str, bytes]]:
    """(file name, CSR DER) of a batch, by file name; empty when there is no such batch."""
    return [(str(r["file_name"]), bytes(r["csr"])) for r in db.conn().execute(
        "SELECT file_name, csr FROM device_csrs WHERE environment=? AND batch_id=? "
        "ORDER BY file_name", (env, batch_id))]


def max_eui_between(db: Database, env: str, first: str, last: str) -> str | None:
    """The highest stored device EUI (16 hex digits) in first..last, or None."""
    row = db.conn().execute(
        "SELECT MAX(device_eui) AS m FROM device_csrs WHERE environment=? AND device_eui "
        "BETWEEN ? AND ?", (env, first, last)).fetchone()
    return str(row["m"]) if row is not None and row["m"] else None


def find_by_key(db: Database, key_id: str, prefer_env: str) -> StoredCsr | None:
    """The Device CSR row with this key, this environment's first (the row may be of the
    other environment: the caller refuses it)."""
    r = db.conn().execute(
        "SELECT environment, key_id, batch_id, file_name, device_eui, usage, status, csr, "
        "certificate, cert_serial FROM device_csrs WHERE key_id=? "
        "ORDER BY CASE WHEN environment=? THEN 0 ELSE 1 END LIMIT 1",
        (key_id, prefer_env)).fetchone()
    if r is None:
        return None
    return StoredCsr(r["environment"], r["key_id"], r["batch_id"], r["file_name"],
                     r["device_eui"], r["usage"], r["status"], bytes(r["csr"]),
                     bytes(r["certificate"]) if r["certificate"] is not None else None,
                     r["cert_serial"])
