"""A move into a team store (`team migrate-from-local`) keeps the workstation's own genuine
data vouched for: the certificate records and the expiry window set through the app are
recorded again in the team's log (services/move_records.py), so the expiry watch reports no
false alarm and keeps the window. A record the local log does not prove (one someone put in the
local database) is not carried."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smki_desktop.core.audit import entry_hash
from smki_desktop.core.environment import Environment
from smki_desktop.core.ports import FixedClock
from smki_desktop.services import expiry
from smki_desktop.services.context import open_context
from tests.integration.test_expiry_vouched import SOON, _imported
from tests.support.postgres import PostgresServer, team_after_move
from tests.support.raw_store import drop_audit_guards, open_raw


def _forge_import(data_root: Path) -> None:
    """Append an unsigned `cert.import` record to the local log, as someone who can write the
    data folder but not use the OS keyring can."""
    c = open_raw(data_root, "test")
    try:
        drop_audit_guards(c)
        seq, prev = c.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"
                              ).fetchone()
        ts = "2026-06-02T00:00:00.000000+00:00"
        details = json.dumps({"cert_id": 999, "serial": "EV1L", "status": "accepted"},
                             sort_keys=True)
        arts = json.dumps({"certificate": "ab" * 32}, sort_keys=True)
        h = entry_hash(prev, seq + 1, ts, "test", "intruder", "cert.import", details, arts)
        c.execute("INSERT INTO audit_log(seq,ts,environment,actor,action,details,artifacts,"
                  "prev_hash,hash,writer,sig) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                  (seq + 1, ts, "test", "intruder", "cert.import", details, arts, prev, h, "",
                   ""))
        c.commit()
    finally:
        c.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # starts as a workstation's own
def test_imported_certificates_and_the_window_stay_vouched_after_a_move(  # type: ignore[no-untyped-def]
        cli_run, data_root: Path, postgres_server: PostgresServer) -> None:
    local = open_context(Environment.TEST, data_root)
    try:
        r = _imported(local)
        expiry.set_window_days(local, 60)
        before = expiry.expiry_report(local)
        assert before.problems == () and before.window_days == 60, before
        serial = f"{r.fields.serial:X}"
        assert [e.item.serial for e in before.expiring] == [serial]
    finally:
        local.close()
    _forge_import(data_root)
    with team_after_move(cli_run, postgres_server, data_root) as team:
        team.clock = FixedClock(SOON)
        after = expiry.expiry_report(team)
        assert after.problems == (), after.problems
        assert after.window_days == 60
        assert [e.item.serial for e in after.expiring] == [serial]
        carried = team.audit.vouched(("cert.import",))
        assert [e.details["cert_id"] for e in carried] == [r.cert_id]
        assert carried[0].details["carried_from"] == "the workstation's own audit log"
        assert all(e.details.get("serial") != "EV1L" for e in
                   team.audit.entries(action_prefix="cert.import"))


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_nomination_keeps_its_audit_record_after_a_move(  # type: ignore[no-untyped-def]
        cli_run, data_root: Path, tmp_path: Path, postgres_server: PostgresServer) -> None:
    """A nomination's `officer.nominate` record (its artifact: the SHA-256 of the nomination
    record) is carried: a register entry made before the register log held that SHA-256 has
    only the audit record to be checked against."""
    from smki_desktop.services import form_record
    from tests.integration.test_nomination_team_record import _nominate

    oid = _nominate(cli_run, tmp_path, "Alice Example")
    local = open_context(Environment.TEST, data_root)
    try:
        (mine,) = [e for e in local.audit.vouched(("officer.nominate",))
                   if e.details.get("officer_id") == oid]
    finally:
        local.close()
    with team_after_move(cli_run, postgres_server, data_root) as team:
        carried = form_record._nominate_record(team, oid)
        assert carried is not None
        assert carried.artifacts["record"] == mine.artifacts["record"]
        assert carried.details["carried_seq"] == mine.seq
        shown = cli_run("--json", "officer", "show", oid).json()
        assert shown["stored_form_problem"] is None


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_saved_quarantine_decisions_stay_usable_after_a_move(  # type: ignore[no-untyped-def]
        cli_run, data_root: Path, tmp_path: Path, postgres_server: PostgresServer) -> None:
    """A saved decision is used only with the proven `quarantine.decide` record that saved it
    (services/quarantine_drafts.py): the move carries those records, or every draft saved on
    the workstation would be "not used" in the team store."""
    from smki_desktop.services import quarantine as q_service
    from tests.integration.test_adt_cli import _report

    local = open_context(Environment.TEST, data_root)
    try:
        report = tmp_path / "report.csv"
        ids = _report(local, report, 3)
        rid = q_service.import_report(local, report).report_id
        q_service.save_decisions(local, rid, {ids[0]: "PROCESS", ids[2]: "DELETE"})
        assert q_service.decisions(local, rid) == {ids[0]: "PROCESS", ids[2]: "DELETE"}
    finally:
        local.close()
    with team_after_move(cli_run, postgres_server, data_root) as team:
        assert q_service.decisions(team, rid) == {ids[0]: "PROCESS", ids[2]: "DELETE"}
        (carried,) = team.audit.vouched(("quarantine.decide",))
        assert carried.details["carried_from"] == "the workstation's own audit log"
