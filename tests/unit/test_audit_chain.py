"""The pure audit chain: each tampering is named."""

from dataclasses import replace

from smki_desktop.core.audit import GENESIS, ChainHead, StoredRow, entry_hash, verify_chain


def _chain(n: int) -> list[StoredRow]:
    rows, prev = [], GENESIS
    for i in range(1, n + 1):
        args = (i, f"2026-01-01T00:00:0{i}", "test", "A (ARO)", f"act.{i}", "{}", "{}")
        h = entry_hash(prev, *args)
        rows.append(StoredRow(*args, prev_hash=prev, hash=h))
        prev = h
    return rows


def test_intact_chain_passes() -> None:
    rows = _chain(4)
    assert verify_chain(rows, ChainHead(4, rows[-1].hash)).ok


def test_edited_row_named() -> None:
    rows = _chain(4)
    rows[1] = replace(rows[1], action="act.evil")
    rep = verify_chain(rows, ChainHead(4, rows[-1].hash))
    assert not rep.ok and any("Row 2" in p and "edited" in p for p in rep.problems)


def test_recomputed_chain_caught_by_head() -> None:
    rows = _chain(4)
    prev, new = GENESIS, []
    for r in rows:
        action = "act.evil" if r.seq == 2 else r.action
        h = entry_hash(prev, r.seq, r.ts, r.environment, r.actor, action, r.details_json,
                       r.artifacts_json)
        new.append(replace(r, action=action, prev_hash=prev, hash=h))
        prev = h
    rep = verify_chain(new, ChainHead(4, rows[-1].hash))
    assert not rep.ok and any("recomputed" in p for p in rep.problems)


def test_deleted_last_rows_caught() -> None:
    rows = _chain(4)
    rep = verify_chain(rows[:2], ChainHead(4, rows[-1].hash))
    assert not rep.ok and any("last 2 row(s) were deleted" in p for p in rep.problems)


def test_missing_head_is_a_problem_and_interrupted_write_a_note() -> None:
    rows = _chain(3)
    assert not verify_chain(rows, None).ok
    rep = verify_chain(rows, ChainHead(2, rows[1].hash))
    assert rep.ok and rep.notes


def test_rows_after_own_head_by_other_writers_are_expected_on_a_shared_log() -> None:
    rows = [replace(r, writer="me" if r.seq <= 2 else "other", sig="s") for r in _chain(5)]
    rep = verify_chain(rows, ChainHead(2, rows[1].hash), signed_from=1,
                       signature_problem=lambda r: None, own_writer="me")
    assert rep.ok
    assert rep.notes == ["3 row(s) after this workstation's last record were written by the "
                         "log's other registered writers."]
    # one of them by this writer: an interrupted write of its own, noted as before
    rows[3] = replace(rows[3], writer="me")
    rep = verify_chain(rows, ChainHead(2, rows[1].hash), signed_from=1,
                       signature_problem=lambda r: None, own_writer="me")
    assert rep.ok and any("1 row(s) after the recorded head, signed by this" in n
                          for n in rep.notes) and any("2 row(s) after this" in n
                                                      for n in rep.notes)
