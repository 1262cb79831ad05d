"""Signing bound to the bytes the officer built or reviewed, and saved quarantine decisions bound
to the audit log (security review of 2026-12-07, A2 and A6), through the real CLI entry point
with the real OS keyring, on SQLite and on a PostgreSQL team store.

A2: `quarantine action` wrote the Action file, then `adt.sign_file` opened the path again and
signed whatever was there: a file swapped in between (os.replace, a symlink) was signed as the
officer's decisions. Here the swap is made for real at that point (a hook on the call from the
build to the signing replaces the file on disk) and the signing must refuse, naming the file and
both digests, with nothing signed, nothing left half-written and the refusal recorded.
`smki adt sign --expect-sha256` is the same check for a file signed by name.

A6: a draft decision was a plain store row used ahead of --default: a colleague with the
database planted PROCESS. Now a draft is used only when the latest proven `quarantine.decide`
record naming it holds the same decision; the others are named, not used.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

from smki_desktop.core.adt.quarantine import action_rows, items_from_report
from smki_desktop.core.adt.validate import render_csv
from smki_desktop.services import adt as adt_service
from smki_desktop.services import quarantine as q_service
from tests.integration.adt_support import make_aro
from tests.integration.test_adt_cli import _report
from tests.support.raw_store import drop_audit_guards, open_raw, raw_sql

pytestmark = pytest.mark.both_backends


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _actions(out: Path) -> list[bytes]:
    return [ln.rsplit(b",", 1)[1] for ln in out.read_bytes().split(b"\r\n")[1:] if ln]


def _evil_action_file(ctx, report: Path, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    """A valid Action file for `report` that processes every communication."""
    validation = adt_service.validate_file(ctx, report, "quarantine-report", keep_rows=True)
    rows = action_rows(items_from_report(validation), {}, "process")
    evil = tmp_path / "evil" / "all-process.csv"
    evil.parent.mkdir()
    evil.write_bytes(render_csv(adt_service.active_profile(ctx, "quarantine-action"), rows))
    return evil


def _swap_before_signing(monkeypatch: pytest.MonkeyPatch, evil: Path, how: str
                         ) -> list[Path]:
    """Replace the file on disk between its writing and its signing: the real `sign_file` is
    called right after the swap. Returns the paths swapped."""
    real = adt_service.sign_file
    swapped: list[Path] = []

    def swap_then_sign(ctx, path, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        path = Path(path)
        if how == "replace":
            tmp = path.with_name(path.name + ".evil-tmp")
            tmp.write_bytes(evil.read_bytes())
            os.replace(tmp, path)
        else:  # a link in its place, to the attacker's file
            tmp = path.with_name(path.name + ".evil-link")
            tmp.symlink_to(evil)
            os.replace(tmp, path)
        swapped.append(path)
        return real(ctx, path, *args, **kwargs)

    monkeypatch.setattr(adt_service, "sign_file", swap_then_sign)
    return swapped


def _last(ctx, action: str):  # type: ignore[no-untyped-def]
    return next(e for e in ctx.audit.entries(limit=20) if e.action == action)


@pytest.mark.parametrize("how", ["replace", "symlink"])
def test_action_file_swapped_before_signing_is_refused(ctx, cli_run, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                        monkeypatch: pytest.MonkeyPatch,
                                                        how: str) -> None:
    """The review's A2: told "0 to process, 5 to delete", the ARO signed an all-PROCESS file."""
    aro = make_aro(ctx, tmp_path / "pki")
    report = tmp_path / "report.csv"
    _report(ctx, report, 5)
    evil = _evil_action_file(ctx, report, tmp_path)
    out = tmp_path / "out" / "action.csv"
    out.parent.mkdir()
    swapped = _swap_before_signing(monkeypatch, evil, how)
    r = cli_run("quarantine", "action", "--report", str(report), "--default", "delete",
                "--out", str(out), "--ignore-saved", "--key", aro.key.key_id,
                "--smsr", "SR-Q1")
    assert swapped == [out]
    built = _last(ctx, "quarantine.action")  # what the officer was told: 0 process, 5 delete
    assert built.details["process"] == 0 and built.details["delete"] == 5
    expected, found = built.artifacts["action_file"], _sha(evil.read_bytes())
    assert r.code == 1, (r.code, r.out, r.err)
    # the refusal names the file and both digests
    assert str(out) in r.err and expected in r.err and found in r.err, r.err
    assert "nothing was signed" in r.err
    # nothing signed, nothing half-written: no signature set, the swapped file withdrawn
    assert sorted(p.name for p in out.parent.iterdir()) == []
    assert not list(out.parent.glob(".*.part")) and evil.read_bytes()  # the attacker's is kept
    # the refusal and the withdrawal are recorded, no signing
    refused = _last(ctx, "adt.sign-refused")
    assert refused.details["expected_sha256"] == expected
    assert refused.details["found_sha256"] == found
    assert f"audit record {refused.seq}" in r.err
    assert _last(ctx, "quarantine.action-withdrawn").seq > refused.seq
    assert not [e for e in ctx.audit.entries(limit=20) if e.action == "quarantine.sign"]
    assert adt_service.signed_files(ctx) == []


def test_action_file_swapped_over_a_signed_one_puts_the_signed_one_back(  # type: ignore[no-untyped-def]
        ctx, cli_run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With --overwrite over an earlier signed set: the swap is refused and the earlier signed
    Action file, beside its own signature set, is what is left (and it verifies)."""
    aro = make_aro(ctx, tmp_path / "pki")
    report = tmp_path / "report.csv"
    _report(ctx, report, 3)
    out = tmp_path / "action.csv"
    r = cli_run("quarantine", "action", "--report", str(report), "--default", "delete",
                "--out", str(out), "--key", aro.key.key_id)
    assert r.code == 0, r.err
    before = {p.name: p.read_bytes() for p in tmp_path.glob("action.csv*")}
    assert len(before) == 4
    _swap_before_signing(monkeypatch, _evil_action_file(ctx, report, tmp_path), "replace")
    r = cli_run("quarantine", "action", "--report", str(report), "--default", "delete",
                "--ignore-saved", "--out", str(out), "--key", aro.key.key_id, "--overwrite")
    assert r.code == 1 and "nothing was signed" in r.err, r.err
    assert {p.name: p.read_bytes() for p in tmp_path.glob("action.csv*")} == before
    assert _actions(out) == [b"DELETE"] * 3
    assert cli_run("adt", "verify", str(out)).code == 0


def test_the_unswapped_action_file_is_signed_as_built(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """No swap: the binding changes nothing (the signed digest is the built file's)."""
    aro = make_aro(ctx, tmp_path / "pki")
    report = tmp_path / "report.csv"
    _report(ctx, report, 3)
    out = tmp_path / "action.csv"
    r = cli_run("quarantine", "action", "--report", str(report), "--default", "process",
                "--out", str(out), "--key", aro.key.key_id, "--json")
    assert r.code == 0, r.err
    j = r.json()
    assert j["signed"]["sha256"] == j["sha256"] == _sha(out.read_bytes())
    assert j["drafts_not_used"] == []
    assert cli_run("adt", "verify", str(out)).code == 0


def test_adt_sign_expect_sha256(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`smki adt sign --expect-sha256 HEX`: the reviewed digest signs (JSON keys as without the
    option); another digest is a refusal, exit 1, recorded, nothing written; a malformed one is
    bad input, exit 2, naming the option, nothing recorded."""
    aro = make_aro(ctx, tmp_path / "pki")
    f = tmp_path / "adt.csv"
    assert cli_run("adt", "template", "--out", str(f)).code == 0
    reviewed = _sha(f.read_bytes())

    # the file changed after it was reviewed: refused
    f.write_bytes(f.read_bytes().replace(b"HOUR", b"DAY", 1))
    now = _sha(f.read_bytes())
    assert adt_service.validate_file(ctx, f).ok  # still a valid file: only the digest tells
    r = cli_run("adt", "sign", str(f), "--key", aro.key.key_id, "--expect-sha256", reviewed)
    assert r.code == 1, (r.code, r.err)
    assert str(f) in r.err and reviewed in r.err and now in r.err, r.err
    assert not list(tmp_path.glob("adt.csv.*")) and not list(tmp_path.glob(".adt.csv*"))
    refused = ctx.audit.entries(limit=1)[0]
    assert refused.action == "adt.sign-refused"
    assert (refused.details["expected_sha256"], refused.details["found_sha256"]) == (reviewed,
                                                                                     now)
    assert f"audit record {refused.seq}" in r.err

    # malformed: exit 2 naming the option, nothing read, nothing recorded
    for bad in ("abc", "g" * 64, reviewed + "00", ""):
        r = cli_run("adt", "sign", str(f), "--key", aro.key.key_id, "--expect-sha256", bad)
        assert r.code == 2 and "--expect-sha256" in r.err, (bad, r.code, r.err)
    assert ctx.audit.entries(limit=1)[0].seq == refused.seq

    # the digest of the bytes there (any case): signed, the same JSON as without the option
    r = cli_run("adt", "sign", str(f), "--key", aro.key.key_id, "--expect-sha256",
                now.upper(), "--json")
    assert r.code == 0, r.err
    with_option = r.json()
    assert with_option["sha256"] == now
    r = cli_run("adt", "sign", str(f), "--key", aro.key.key_id, "--overwrite", "--json")
    assert r.code == 0, r.err
    assert set(r.json()) == set(with_option)
    assert cli_run("adt", "verify", str(f)).code == 0


def _plant(data_root: Path, report_id: int, decisions: dict[str, str]) -> None:
    """What a colleague with the database (not the keyring) does: set draft rows directly."""
    for qid, decision in decisions.items():
        raw_sql(data_root, "UPDATE adt_quarantine_items SET decision=? WHERE report_id=? AND "
                "quarantine_id=?", (decision, report_id, qid))


def test_planted_draft_decisions_are_not_signed(ctx, cli_run, data_root: Path,  # type: ignore[no-untyped-def]
                                                tmp_path: Path) -> None:
    """The review's A6: drafts planted in the store went into the signed Action file ahead of
    --default. Now they are named and not used; the officer's own saved draft still is."""
    aro = make_aro(ctx, tmp_path / "pki")
    report = tmp_path / "report.csv"
    ids = _report(ctx, report, 5)
    rid = q_service.import_report(ctx, report).report_id
    q_service.save_decisions(ctx, rid, {ids[4]: "PROCESS"})  # the officer's own draft
    _plant(data_root, rid, {q: "PROCESS" for q in ids[1:4]})
    decisions = tmp_path / "decisions.csv"
    decisions.write_text(f"Quarantine ID,Action\n{ids[0]},DELETE\n")

    r = cli_run("quarantine", "import", "--report", str(report), "--json")
    assert r.code == 0, r.err
    shown = {i["quarantine_id"]: i["decision"] for i in r.json()["items"]}
    assert shown == {ids[0]: "", ids[1]: "", ids[2]: "", ids[3]: "", ids[4]: "PROCESS"}
    assert r.json()["drafts_not_used"] == [
        f"saved decision for {q} has no audit record: not used" for q in ids[1:4]]
    for q in ids[1:4]:
        assert f"saved decision for {q} has no audit record: not used" in r.err

    out = tmp_path / "action.csv"
    r = cli_run("quarantine", "action", "--report", str(report), "--decisions", str(decisions),
                "--default", "delete", "--out", str(out), "--key", aro.key.key_id,
                "--smsr", "SR-Q6", "--json")
    assert r.code == 0, r.err
    assert _actions(out) == [b"DELETE", b"DELETE", b"DELETE", b"DELETE", b"PROCESS"]
    j = r.json()
    assert (j["process"], j["delete"], j["from_saved"], j["by_default"]) == (1, 4, 1, 3)
    assert j["drafts_not_used"] == [
        f"saved decision for {q} has no audit record: not used" for q in ids[1:4]]
    for q in ids[1:4]:
        assert f"saved decision for {q} has no audit record: not used" in r.err
    assert _last(ctx, "quarantine.action").details["drafts_not_used"] == 3
    assert cli_run("adt", "verify", str(out)).code == 0


def test_a_draft_altered_after_saving_is_not_used(ctx, cli_run, data_root: Path,  # type: ignore[no-untyped-def]
                                                  tmp_path: Path) -> None:
    """A genuine draft (DELETE, audited) flipped in the store to PROCESS: its latest saving
    record holds DELETE, so the row is not used and the record is named; a draft changed by
    the officer since is the later record's decision; a cleared one is not a decision."""
    report = tmp_path / "report.csv"
    ids = _report(ctx, report, 4)
    rid = q_service.import_report(ctx, report).report_id
    first = q_service.save_decisions(ctx, rid, {ids[0]: "DELETE", ids[1]: "DELETE",
                                                ids[2]: "PROCESS"})
    assert first == 3
    saving = _last(ctx, "quarantine.decide")  # every saving is audited
    assert saving.details["delete"] == [ids[0], ids[1]] and saving.details["process"] == [ids[2]]
    q_service.save_decisions(ctx, rid, {ids[1]: "PROCESS", ids[2]: ""})  # the officer again
    _plant(data_root, rid, {ids[0]: "PROCESS", ids[3]: "DELETE"})

    rep = q_service.import_report(ctx, report)
    assert rep.decisions == {ids[1]: "PROCESS"}
    assert rep.drafts_not_used == (
        f"saved decision for {ids[0]} (PROCESS) is not the one its audit record {saving.seq} "
        f"holds (DELETE): not used",
        f"saved decision for {ids[3]} has no audit record: not used")
    assert q_service.decisions(ctx, rid) == {ids[1]: "PROCESS"}

    out = tmp_path / "action.csv"
    r = cli_run("quarantine", "action", "--report", str(report), "--default", "delete",
                "--out", str(out))
    assert r.code == 0, r.err
    assert _actions(out) == [b"DELETE", b"PROCESS", b"DELETE", b"DELETE"]
    assert f"audit record {saving.seq}" in r.err and ids[3] in r.err
    assert "2 saved decision(s) not used" in r.out

    # the officer decides those two now: their drafts are recorded and used next time
    decisions = tmp_path / "d.csv"
    decisions.write_text(f"Quarantine ID,Action\n{ids[0]},PROCESS\n{ids[3]},PROCESS\n")
    r = cli_run("quarantine", "action", "--report", str(report), "--decisions", str(decisions),
                "--default", "delete", "--out", str(out), "--overwrite")
    assert r.code == 0 and "not used" not in r.err, r.err
    assert q_service.decisions(ctx, rid) == {ids[0]: "PROCESS", ids[1]: "PROCESS",
                                             ids[3]: "PROCESS"}


def test_drafts_of_a_forged_saving_record_are_not_used(ctx, data_root: Path,  # type: ignore[no-untyped-def]
                                                       tmp_path: Path) -> None:
    """A `quarantine.decide` record written into the log without this workstation's key (a copy
    of a genuine one, edited) vouches for nothing."""
    report = tmp_path / "report.csv"
    ids = _report(ctx, report, 2)
    rid = q_service.import_report(ctx, report).report_id
    q_service.save_decisions(ctx, rid, {ids[0]: "DELETE"})
    genuine = _last(ctx, "quarantine.decide")
    forged = genuine.details | {"delete": [], "process": [ids[0], ids[1]]}
    c = open_raw(data_root)
    try:  # the log's append-only guard dropped, as someone with the database's rights can
        drop_audit_guards(c)
        c.execute("UPDATE audit_log SET details=? WHERE seq=?",
                  (json.dumps(forged, sort_keys=True, ensure_ascii=False), genuine.seq))
        c.commit()
    finally:
        c.close()
    _plant(data_root, rid, {ids[0]: "PROCESS", ids[1]: "PROCESS"})
    rep = q_service.import_report(ctx, report)
    assert rep.decisions == {}
    assert len(rep.drafts_not_used) == 2

