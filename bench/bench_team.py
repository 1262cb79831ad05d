"""The team store under load (issue 16), each figure beside a baseline measured in the same run:

- ten concurrent workstations (processes, each with its own data folder whose team link points
  at one PostgreSQL store) doing a mixed load through the store repositories: Organisation CSR
  records, device batches of rows, revocation requests with their approval, and signed,
  hash-chained audit records; throughput and p95 latency per operation, beside the same load on
  SQLite from one process; then a count of every row each workstation wrote (zero lost, zero
  duplicated) and the audit chain verified with each writer's signature;
- listing device rows filtered by status and sorted by EUI, a page at a time (keyset paging,
  `store/repos/devices.list_page`) over 1,000,000 rows on PostgreSQL (target < 100 ms per page,
  first page and deep pages), beside the OFFSET way of reaching the same deep page.

`python -m bench team` (10 workstations x 200 operations, 1,000,000 device rows) or `--quick`
(10 x 40, 100,000 rows). Needs the PostgreSQL server binaries the tests use.
"""

from __future__ import annotations

import base64
import hashlib
import json
import multiprocessing as mp
import secrets
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Figure

WORKSTATIONS = 10
ENV = "test"
T0 = "2026-12-05T10:00:00+00:00"
OPS = ("csr", "batch", "approval", "audit")
BATCH_ROWS = 5
PAGE = 200


def _open_workstation(root: Path, url: str | None) -> Any:
    """This workstation's store: the team store its data folder is linked to, else SQLite."""
    from smki_desktop.store import team_link
    from smki_desktop.store.db import Database

    env_dir = root / ENV
    env_dir.mkdir(parents=True, exist_ok=True)
    if url is None:
        return Database(env_dir / "smki.sqlite3")
    from smki_desktop.core.team_url import parse_team_url

    link = team_link.TeamLink(parse_team_url(url)[0].text(), secrets.token_hex(16), T0)
    team_link.save(env_dir, link)
    return team_link.as_database(team_link.open_store(team_link.load(env_dir) or link, None,
                                                      env_dir, migrate=False))


def _work(ws: int, root: str, url: str | None, n_ops: int,
          go: Any = None) -> dict[str, Any]:
    """One workstation's load: n_ops operations cycling through OPS; latencies in seconds."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from smki_desktop.core.audit import GENESIS, StoredRow, entry_hash, signing_payload
    from smki_desktop.store.repos import approvals, csrs, devices
    from smki_desktop.store.repos.audit import AuditRepo, WriterRow

    db = _open_workstation(Path(root), url)
    key = Ed25519PrivateKey.generate()
    pub = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    writer = hashlib.sha256(pub).hexdigest()
    audit = AuditRepo(db)
    appr = approvals.ApprovalsRepo(db, ENV)
    lat: dict[str, list[float]] = {op: [] for op in OPS}
    if go is not None:
        go.wait()
    t_start = time.perf_counter()
    for i in range(n_ops):
        op = OPS[i % len(OPS)]
        tag = f"w{ws:02d}-{i:05d}"
        t = time.perf_counter()
        if op == "csr":
            csrs.add_org_csr(db, ENV, f"key-{tag}", "SRO", "00DB123456789ABC", None,
                             "signing", secrets.token_bytes(300), T0)
        elif op == "batch":
            b = devices.NewBatch(f"batch-{tag}", ENV, tag, "portal-zip", "packaged",
                                 BATCH_ROWS, T0, None, None, None, None, "[]")
            rows = [devices.NewCsr(f"dk-{tag}-{j}", f"{tag}-{j}.csr",
                                   f"{ws:02X}{i:010X}{j:04X}", "signing",
                                   secrets.token_bytes(200), "bench", str(j))
                    for j in range(BATCH_ROWS)]
            with db.transaction() as c:
                devices.insert_batch(c, b, "packaged", rows)
        elif op == "approval":
            body = json.dumps({"revoke": tag}).encode()
            req = approvals.RequestRow(f"req-{tag}", ENV, "revocation", body,
                                       hashlib.sha256(body).hexdigest(), f"aro-{ws}", T0, T0)
            appr.add(req, approvals.SignatureRow(req.request_id, ENV, "request", f"aro-{ws}",
                                                 T0, body, key.sign(body)))
            appr.add_signature(approvals.SignatureRow(req.request_id, ENV, "approval",
                                                      f"sro-{ws}", T0, body, key.sign(body)))
        else:
            details = json.dumps({"tag": tag}, sort_keys=True)
            with audit.writing() as w:
                if w.writer(writer) is None:
                    w.add_writer(WriterRow(writer, pub, f"ws-{ws}", ENV, T0))
                last = w.last()
                seq = last.seq + 1 if last else 1
                prev = last.hash if last else GENESIS
                h = entry_hash(prev, seq, T0, ENV, f"ws-{ws}", "bench.audit", details, "{}")
                sig = base64.b64encode(key.sign(signing_payload(h, writer))).decode()
                w.append(StoredRow(seq, T0, ENV, f"ws-{ws}", "bench.audit", details, "{}",
                                   prev, h, writer, sig))
        lat[op].append(time.perf_counter() - t)
    wall = time.perf_counter() - t_start
    db.close()
    return {"ws": ws, "lat": lat, "wall": wall}


def _worker(args: tuple[int, str, str | None, int], go: Any, out: Any) -> None:
    out.put(_work(*args, go=go))


def _expected(n_ops: int) -> dict[str, int]:
    per = {op: len(range(k, n_ops, len(OPS))) for k, op in enumerate(OPS)}
    return {"csr_requests": per["csr"], "device_batches": per["batch"],
            "device_csrs": per["batch"] * BATCH_ROWS, "approval_requests": per["approval"],
            "approval_signatures": per["approval"] * 2, "audit_log": per["audit"]}


def _check_rows(db: Any, workstations: int, n_ops: int) -> tuple[int, int]:
    """(lost, duplicated) rows against what each workstation wrote; the audit chain and every
    writer's signature are verified too (a failure counts as lost)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from smki_desktop.core.audit import ChainHead, signing_payload, verify_chain
    from smki_desktop.store.repos.audit import AuditRepo

    exp = _expected(n_ops)
    c = db.conn()
    lost = dup = 0
    keyed = {"csr_requests": "key_id", "device_batches": "id", "device_csrs": "key_id",
             "approval_requests": "request_id", "approval_signatures": "request_id",
             "audit_log": "actor"}
    for table, col in keyed.items():
        per_ws = {ws: 0 for ws in range(workstations)}
        for r in c.execute(f"SELECT {col} AS k FROM {table}"):  # table names from `keyed`
            k = str(r["k"])
            ws = int(k.split("w", 1)[1][:2]) if "w" in k and table != "audit_log" \
                else int(k.removeprefix("ws-"))
            per_ws[ws] += 1
        for n in per_ws.values():
            lost += max(0, exp[table] - n)
            dup += max(0, n - exp[table])
    repo = AuditRepo(db)
    rows = repo.rows()
    keys = {}

    def problem(r: Any) -> str | None:
        if r.writer not in keys:
            w = repo.writer(r.writer)
            if w is None:
                return "unknown writer"
            keys[r.writer] = Ed25519PublicKey.from_public_bytes(bytes(w.public_key))
        try:
            keys[r.writer].verify(base64.b64decode(r.sig), signing_payload(r.hash, r.writer))
        except InvalidSignature:
            return "bad signature"
        return None

    # the head each workstation would hold is its own last write; the newest of them is the
    # last row, and the row count per writer was checked above
    head = ChainHead(rows[-1].seq, rows[-1].hash) if rows else None
    rep = verify_chain(rows, head, signed_from=1, signature_problem=problem)
    if not rep.ok:
        raise RuntimeError("the audit log does not verify: " + "; ".join(rep.problems[:3]))
    return lost, dup


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[18] if len(values) >= 20 else max(values)


def _team_load(server: Any, tmp: Path, n_ops: int) -> tuple[float, dict[str, float], int, int]:
    from smki_desktop.core.team_url import parse_team_url
    from smki_desktop.store import team_link
    from smki_desktop.store.postgres import PgDatabase

    name = server.create_database("bench_team_load")
    url = server.socket_url(name)
    store = PgDatabase(parse_team_url(url)[0].driver_url(), tmp / "init.sqlite3")
    store.close()
    ctx = mp.get_context("spawn")
    go, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=((ws, str(tmp / f"ws{ws}"), url, n_ops), go, out))
             for ws in range(WORKSTATIONS)]
    for p in procs:
        p.start()
    time.sleep(3.0)  # every process imported and connected (their own clocks start at `go`)
    t = time.perf_counter()
    go.set()
    results = [out.get(timeout=900) for _ in procs]
    wall = time.perf_counter() - t
    for p in procs:
        p.join()
    lat = _merge(results)
    db = team_link.as_database(PgDatabase(parse_team_url(url)[0].driver_url(),
                                          tmp / "check.sqlite3", migrate=False))
    try:
        lost, dup = _check_rows(db, WORKSTATIONS, n_ops)
    finally:
        db.close()
    return WORKSTATIONS * n_ops / wall, lat, lost, dup


def _merge(results: list[dict[str, Any]]) -> dict[str, float]:
    merged: dict[str, list[float]] = {op: [] for op in OPS}
    for r in results:
        for op in OPS:
            merged[op] += r["lat"][op]
    out = {op: _p95(v) * 1000 for op, v in merged.items()}
    out["all"] = _p95([x for v in merged.values() for x in v]) * 1000
    return out


def _sqlite_load(tmp: Path, n_ops: int) -> tuple[float, dict[str, float], int, int]:
    from smki_desktop.store.db import Database

    t = time.perf_counter()
    results = [_work(ws, str(tmp / "sqlite"), None, n_ops) for ws in range(WORKSTATIONS)]
    wall = time.perf_counter() - t
    db = Database(tmp / "sqlite" / ENV / "smki.sqlite3")
    try:
        lost, dup = _check_rows(db, WORKSTATIONS, n_ops)
    finally:
        db.close()
    return WORKSTATIONS * n_ops / wall, _merge(results), lost, dup


def _fill_devices(server: Any, n_rows: int) -> str:
    """n_rows device rows in one batch, a quarter 'issued', straight on the server (the load
    is not what is measured here)."""
    from smki_desktop.core.team_url import parse_team_url
    from smki_desktop.store.postgres import PgDatabase

    name = server.create_database("bench_team_list")
    store = PgDatabase(parse_team_url(server.socket_url(name))[0].driver_url(),
                       Path(tempfile.gettempdir()) / "unused.sqlite3")
    store.close()
    with server.admin(name) as c:
        c.execute("INSERT INTO device_batches(id, environment, name, channel, state, total, "
                  "created, files, updated) VALUES('B', %s, 'big', 'portal-zip', 'submitted', "
                  "%s, %s, '[]', %s)", (ENV, n_rows, T0, T0))
        # EUIs in a scrambled order (a multiplicative hash), statuses spread over the rows
        c.execute(
            "INSERT INTO device_csrs(environment, key_id, batch_id, file_name, device_eui, "
            "usage, csr, status, created, updated) SELECT %s, 'k' || lpad(n::text, 8, '0'), "
            "'B', 'f' || n || '.csr', lpad(upper(to_hex((n::bigint * 2654435761) %% 4294967296)),"
            " 16, '0'), CASE WHEN n %% 2 = 0 THEN 'signing' ELSE 'key-agreement' END, "
            "'\\x3082'::bytea, (ARRAY['issued','pending','error','packaged'])[1 + n %% 4], %s, %s"
            " FROM generate_series(1, %s) AS n", (ENV, T0, T0, n_rows))
        c.execute("VACUUM ANALYZE device_csrs")
    return name


def _listing(server: Any, n_rows: int) -> list[Figure]:
    from smki_desktop.core.team_url import parse_team_url
    from smki_desktop.store import team_link
    from smki_desktop.store.postgres import PgDatabase
    from smki_desktop.store.repos import devices

    name = _fill_devices(server, n_rows)
    db = team_link.as_database(PgDatabase(parse_team_url(server.socket_url(name))[0].driver_url(),
                                          Path(tempfile.gettempdir()) / "unused.sqlite3",
                                          migrate=False))
    try:
        devices.list_page(db, ENV, status="issued", limit=PAGE)  # connect, warm
        times: list[float] = []
        after: tuple[str, str] | None = None
        for _ in range(20):
            t = time.perf_counter()
            page = devices.list_page(db, ENV, status="issued", after=after, limit=PAGE)
            times.append(time.perf_counter() - t)
            after = (page[-1].device_eui, page[-1].key_id)
        first = times[0] * 1000
        # a deep page: after the row in the middle of the filtered set
        mid = n_rows // 8
        c = db.conn()
        r = c.execute("SELECT device_eui, key_id FROM device_csrs WHERE environment=? AND "
                      "status='issued' ORDER BY device_eui, key_id LIMIT 1 OFFSET ?",
                      (ENV, mid)).fetchone()
        deep_after = (str(r["device_eui"]), str(r["key_id"]))
        deep = []
        for _ in range(5):
            t = time.perf_counter()
            devices.list_page(db, ENV, status="issued", after=deep_after, limit=PAGE)
            deep.append(time.perf_counter() - t)
        offset = []
        for _ in range(3):
            t = time.perf_counter()
            c.execute("SELECT file_name, device_eui, usage, status, error_code, detail, batch_id,"
                      " cert_serial, key_id FROM device_csrs WHERE environment=? AND "
                      "status='issued' ORDER BY device_eui, key_id LIMIT ? OFFSET ?",
                      (ENV, PAGE, mid)).fetchall()
            offset.append(time.perf_counter() - t)
        deep_ms, offset_ms = min(deep) * 1000, min(offset) * 1000
        mean_ms = statistics.mean(times) * 1000
    finally:
        db.close()
        server.drop_database(name)
    rows = f"{n_rows:,} rows"
    return [
        Figure(f"list {PAGE} issued rows by EUI, first page ({rows}, PostgreSQL)", first, "ms",
               target="< 100 ms", ok=first < 100),
        Figure(f"list {PAGE} issued rows by EUI, 20 pages in turn, mean ({rows})", mean_ms,
               "ms", target="< 100 ms", ok=mean_ms < 100),
        Figure(f"list {PAGE} issued rows by EUI, page after row {mid:,} (keyset)", deep_ms,
               "ms", offset_ms, "OFFSET to the same page", target="< 100 ms",
               ok=deep_ms < 100),
    ]


def run(quick: bool) -> list[Figure]:
    from tests.support.postgres import PostgresServer, available

    if not available():
        raise RuntimeError("no PostgreSQL server binaries (Debian package postgresql)")
    n_ops = 40 if quick else 200
    n_rows = 100_000 if quick else 1_000_000
    server = PostgresServer().start()
    try:
        with tempfile.TemporaryDirectory(prefix="bench-team-") as tmp:
            tput, lat, lost, dup = _team_load(server, Path(tmp), n_ops)
            s_tput, s_lat, s_lost, s_dup = _sqlite_load(Path(tmp), n_ops)
        figures = [
            Figure(f"mixed load, {WORKSTATIONS} workstations on PostgreSQL, throughput", tput,
                   "ops/s", s_tput, "one process on SQLite"),
            Figure("mixed load, p95 latency, all operations", lat["all"], "ms", s_lat["all"],
                   "SQLite"),
        ]
        figures += [Figure(f"mixed load, p95 latency, {op}", lat[op], "ms", s_lat[op], "SQLite")
                    for op in OPS]
        figures.append(Figure("rows lost + duplicated (audit chain verified, every signature)",
                              lost + dup, "rows", float(s_lost + s_dup), "SQLite",
                              target="0", ok=lost + dup == 0 and s_lost + s_dup == 0))
        figures += _listing(server, n_rows)
        return figures
    finally:
        server.stop()


if __name__ == "__main__":
    for f in run(quick=True):
        print(f.line())
