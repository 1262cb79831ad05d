"""A nomination form printed again (`officer pdf`) shows only values recorded at the nomination
and the verification meeting: someone who can write the database but not use the keyring
rewrites `officers.form_values` (or the record file and the store's copy of it, or the
self-nomination flag), and the reprint is refused naming the fields, audited, and the
register view says so."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from tests.integration.test_officer_cli import EVIDENCE, flat, nominate, pdf_pages


def _values(ctx: Any, oid: str) -> dict[str, Any]:
    row = ctx.db.conn().execute("SELECT form_values FROM officers WHERE officer_id=?",
                                (oid,)).fetchone()
    return dict(json.loads(row[0]))


def _store(ctx: Any, oid: str, values: dict[str, Any]) -> None:
    with ctx.db.transaction() as c:
        c.execute("UPDATE officers SET form_values=? WHERE officer_id=?",
                  (json.dumps(values, sort_keys=True), oid))


def _audited(ctx: Any, action: str) -> list[dict[str, Any]]:
    return [dict(json.loads(r.details_json), seq=r.seq)
            for r in ctx.audit.repo.of_actions((action,))]


def _nominated(cli_run: Any, tmp_path: Path) -> str:
    res = nominate(cli_run, tmp_path, "sro", "Alice Example")
    assert res.code == 0, res.err
    return str(res.json()["officer"]["officer_id"])


def test_rewritten_form_values_are_refused_naming_the_fields(
        ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    oid = _nominated(cli_run, tmp_path)
    nominate_seq = _audited(ctx, "officer.nominate")[-1]["seq"]
    good = tmp_path / "good.pdf"
    assert cli_run("officer", "pdf", oid, "--out", str(good)).code == 0
    values = _values(ctx, oid)
    values.update({"nominator.name": "Mallory Director",
                   "nominator.email": "mallory@evil.example",
                   "nominee.address": "666 Attacker Road", "nominee.phone": "+44 7000 000000"})
    _store(ctx, oid, values)
    out = tmp_path / "reprinted.pdf"
    res = cli_run("officer", "pdf", oid, "--out", str(out))
    assert res.code != 0 and not out.exists(), res.out
    err = flat(res.err)
    assert (f"stored nomination of {oid} differs from the one recorded at its nomination "
            f"(audit record {nominate_seq})") in err, err
    for key in ("nominator.name", "nominator.email", "nominee.address", "nominee.phone"):
        assert key in err, err
    assert "nominee.name" not in err and "it is not printed" in err
    # the refusal is audited; the reprint is not
    refused = _audited(ctx, "officer.pdf.refused")
    assert refused and refused[-1]["officer"] == oid and "nominator.name" in refused[-1]["reason"]
    assert len(_audited(ctx, "officer.pdf")) == 1
    # the register view says so too
    listed = cli_run("--json", "officer", "list").json()
    assert any(w["code"] == "stored-form" and w["officer_id"] == oid
               and "nominee.phone" in w["message"] for w in listed["warnings"]), listed
    shown = cli_run("officer", "show", oid)
    assert "Warning: The stored nomination" in shown.out and "nominator.email" in shown.out


def test_rewritten_verification_values_are_refused(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    oid = _nominated(cli_run, tmp_path)
    assert cli_run("officer", "verify", oid, "--date", "2026-11-21", "--verifier", "Vera",
                   "--evidence", EVIDENCE).code == 0
    out = tmp_path / "verified.pdf"
    assert cli_run("officer", "pdf", oid, "--out", str(out)).code == 0
    assert "Vera" in flat("\n".join(pdf_pages(out)))
    values = _values(ctx, oid)
    values["verification.verifier"] = "Mallory"
    _store(ctx, oid, values)
    res = cli_run("officer", "pdf", oid, "--out", str(tmp_path / "again.pdf"))
    assert res.code != 0 and "verification.verifier" in flat(res.err), res.err
    assert "recorded verification meeting" in flat(res.err)


def test_rewriting_the_record_file_too_does_not_help(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    oid = _nominated(cli_run, tmp_path)
    record = next((ctx.paths.env_dir / "officers").glob(f"{oid}-*.json"))
    doc = json.loads(record.read_bytes())
    doc["values"]["nominator.name"] = "Mallory Director"
    new = json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False).encode() + b"\n"
    record.write_bytes(new)
    values = _values(ctx, oid)
    values["nominator.name"] = "Mallory Director"
    _store(ctx, oid, values)
    with ctx.db.transaction() as c:  # and the row's own copy of the record's hash
        c.execute("UPDATE officers SET record_sha256=? WHERE officer_id=?",
                  (hashlib.sha256(new).hexdigest(), oid))
        # and the store's copy of the record (who writes the database writes that too)
        c.execute("UPDATE nomination_records SET record=?, sha256=? WHERE officer_id=?",
                  (new, hashlib.sha256(new).hexdigest(), oid))
    res = cli_run("officer", "pdf", oid, "--out", str(tmp_path / "x.pdf"))
    assert res.code != 0 and str(record) in flat(res.err), res.err
    assert "not the one recorded at its nomination" in flat(res.err)
    record.unlink()
    res = cli_run("officer", "pdf", oid, "--out", str(tmp_path / "y.pdf"))
    assert res.code != 0 and "missing" in res.err, res.err


def test_flipped_self_nomination_flag_is_refused(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    oid = _nominated(cli_run, tmp_path)
    with ctx.db.transaction() as c:
        c.execute("UPDATE officers SET self_nominated=1 WHERE officer_id=?", (oid,))
    res = cli_run("officer", "pdf", oid, "--out", str(tmp_path / "x.pdf"))
    assert res.code != 0 and "self-nomination" in res.err, res.err


def test_an_untouched_nomination_prints_and_shows_no_warning(cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    oid = _nominated(cli_run, tmp_path)
    out = tmp_path / "ok.pdf"
    assert cli_run("officer", "pdf", oid, "--out", str(out)).code == 0
    assert "Alice Example" in flat("\n".join(pdf_pages(out)))
    listed = cli_run("--json", "officer", "list").json()
    assert not [w for w in listed["warnings"] if w["code"] == "stored-form"], listed["warnings"]
    assert cli_run("--json", "officer", "show", oid).json()["stored_form_problem"] is None


def test_a_restore_without_the_officers_folder_still_reprints_from_the_store(
        ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The record's bytes are kept in the store with the entry: the officers folder left out
    of a restore (or a colleague's workstation, which never had it) loses nothing."""
    oid = _nominated(cli_run, tmp_path)
    for made in (ctx.paths.env_dir / "officers").glob(f"{oid}-*"):
        made.unlink()
    out = tmp_path / "restored.pdf"
    res = cli_run("officer", "pdf", oid, "--out", str(out))
    assert res.code == 0, res.err
    assert "Alice Example" in flat("\n".join(pdf_pages(out)))
    assert cli_run("--json", "officer", "show", oid).json()["stored_form_problem"] is None
