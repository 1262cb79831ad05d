"""A nomination record kept in the store (issue 16 with services/form_record.py): on a team store
a workstation other than the one that made a nomination has no record file in its officers
folder, yet reprints the colleague's form and shows no warning, because the record's bytes are
in the store, checked against the SHA-256 anchored in the register log. A store user who
rewrites those bytes (or the stored values) is still refused there; a nomination made before
the store kept records is copied into it from the file of the workstation that has it, and a
workstation moved into a team store (`team migrate-from-local`) carries its records along."""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_officer_cli import flat, pdf_pages, write_form
from tests.integration.test_team_workstations import link
from tests.support.postgres import PostgresServer, move_local_into

# the workstations are folders this module links to a team store itself, on either run
pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)

Run = Callable[..., Any]


def _nominate(run: Run, tmp_path: Path, name: str) -> str:
    path = write_form(run, tmp_path, "sro", name)
    res = run("--json", "officer", "nominate", "--form", "sro", "--from", str(path))
    assert res.code == 0, res.err
    return str(res.json()["officer"]["officer_id"])


def _reprints(run: Run, tmp_path: Path, oid: str, name: str) -> None:
    """`run`'s workstation prints `oid`'s form again and warns of nothing."""
    out = tmp_path / "reprinted.pdf"
    out.unlink(missing_ok=True)
    res = run("officer", "pdf", oid, "--out", str(out))
    assert res.code == 0, res.err
    assert name in flat("\n".join(pdf_pages(out)))
    listed = run("--json", "officer", "list").json()
    assert not [w for w in listed["warnings"] if w["code"] == "stored-form"
                and w["officer_id"] == oid], listed["warnings"]
    assert run("--json", "officer", "show", oid).json()["stored_form_problem"] is None


def _refused(run: Run, tmp_path: Path, oid: str) -> str:
    out = tmp_path / "refused.pdf"
    res = run("officer", "pdf", oid, "--out", str(out))
    assert res.code != 0 and not out.exists(), res.out
    return flat(res.err)


def _store(server: PostgresServer, dbname: str, sql: str, params: tuple[Any, ...] = ()
           ) -> list[tuple[Any, ...]]:
    """What a store user does with their own access to the database (no app in between)."""
    with server.admin(dbname) as c:
        cur = c.execute(sql, params)
        return list(cur.fetchall()) if cur.description else []


def _record_file(root: Path, oid: str) -> Path:
    return next((root / "test" / "officers").glob(f"{oid}-*.json"))


@pytest.fixture
def team(tmp_path: Path, postgres_server: PostgresServer,
         cli_run: Run) -> Iterator[tuple[str, Run, Run, Path, Path]]:
    """Two workstations (A made the store, B joined) on one team store of the Test
    environment: the store's name and each one's `smki`, and each one's data folder."""
    name = postgres_server.create_database()
    roots = (tmp_path / "ws-a" / "data", tmp_path / "ws-b" / "data")
    try:
        link(roots[0], postgres_server, name, initialise=True)
        link(roots[1], postgres_server, name, initialise=False)
        yield (name, functools.partial(cli_run, root=roots[0]),
               functools.partial(cli_run, root=roots[1]), *roots)
    finally:
        postgres_server.drop_database(name)


def test_a_colleagues_nomination_reprints_on_another_workstation_without_a_warning(
        team: tuple[str, Run, Run, Path, Path], tmp_path: Path,
        postgres_server: PostgresServer) -> None:
    name, a, b, root_a, root_b = team
    oid = _nominate(a, tmp_path, "Alice Example")
    raw = _record_file(root_a, oid).read_bytes()
    assert not list((root_b / "test").glob("officers/*.json"))  # B has no file of it
    # kept in the store with the entry, the same bytes as the file
    rows = _store(postgres_server, name, "SELECT record, sha256 FROM nomination_records "
                  "WHERE officer_id=%s", (oid,))
    assert [(bytes(rows[0][0]), rows[0][1])] == [(raw, hashlib.sha256(raw).hexdigest())]
    _reprints(b, tmp_path, oid, "Alice Example")
    _reprints(a, tmp_path, oid, "Alice Example")


def test_a_store_user_who_rewrites_the_kept_record_or_the_values_is_refused_on_the_other(
        team: tuple[str, Run, Run, Path, Path], tmp_path: Path,
        postgres_server: PostgresServer) -> None:
    name, a, b, _root_a, _root_b = team
    oid = _nominate(a, tmp_path, "Alice Example")
    (kept,) = _store(postgres_server, name, "SELECT record FROM nomination_records "
                     "WHERE officer_id=%s", (oid,))
    original = bytes(kept[0])
    (values_row,) = _store(postgres_server, name, "SELECT form_values FROM officers "
                           "WHERE officer_id=%s", (oid,))
    original_values = str(values_row[0])
    # the values rewritten: refused on B, naming the field
    values = json.loads(original_values)
    values["nominee.phone"] = "+44 7000 000000"
    _store(postgres_server, name, "UPDATE officers SET form_values=%s WHERE officer_id=%s",
           (json.dumps(values, sort_keys=True), oid))
    err = _refused(b, tmp_path, oid)
    assert "differs from the one recorded at its nomination" in err and "nominee.phone" in err
    # the kept record rewritten to match (its sha256 column too): B has nothing else to go by
    doc = json.loads(original)
    doc["values"]["nominee.phone"] = "+44 7000 000000"
    forged = json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False).encode() + b"\n"
    _store(postgres_server, name, "UPDATE nomination_records SET record=%s, sha256=%s "
           "WHERE officer_id=%s", (forged, hashlib.sha256(forged).hexdigest(), oid))
    err = _refused(b, tmp_path, oid)
    assert "nomination record in the store is not the one recorded at its nomination" in err, err
    listed = b("--json", "officer", "list").json()
    assert any(w["code"] == "stored-form" and w["officer_id"] == oid
               for w in listed["warnings"]), listed
    # A goes by its own file, which the forged values do not match either
    err = _refused(a, tmp_path, oid)
    assert "differs from the one recorded at its nomination" in err and "nominee.phone" in err
    # a forged copy is not replaced by A's file behind anyone's back
    (still,) = _store(postgres_server, name, "SELECT record FROM nomination_records "
                      "WHERE officer_id=%s", (oid,))
    assert bytes(still[0]) == forged


def test_an_older_nomination_with_only_its_file_is_kept_in_the_store_then_reprints_on_b(
        team: tuple[str, Run, Run, Path, Path], tmp_path: Path,
        postgres_server: PostgresServer) -> None:
    name, a, b, root_a, _root_b = team
    oid = _nominate(a, tmp_path, "Alice Example")
    # as made before the store kept records: only A's officers folder has it
    _store(postgres_server, name, "DELETE FROM nomination_records WHERE officer_id=%s", (oid,))
    err = _refused(b, tmp_path, oid)
    assert "not in the store" in err and "missing" in err, err
    # A checks it (its register view): the file is the recorded one, so it goes into the store
    assert a("--json", "officer", "show", oid).json()["stored_form_problem"] is None
    raw = _record_file(root_a, oid).read_bytes()
    rows = _store(postgres_server, name, "SELECT record FROM nomination_records "
                  "WHERE officer_id=%s", (oid,))
    assert [bytes(r[0]) for r in rows] == [raw]
    _reprints(b, tmp_path, oid, "Alice Example")


def test_a_file_that_is_not_the_recorded_one_is_not_kept_in_the_store(
        team: tuple[str, Run, Run, Path, Path], tmp_path: Path,
        postgres_server: PostgresServer) -> None:
    name, a, _b, root_a, _root_b = team
    oid = _nominate(a, tmp_path, "Alice Example")
    _store(postgres_server, name, "DELETE FROM nomination_records WHERE officer_id=%s", (oid,))
    path = _record_file(root_a, oid)
    path.write_bytes(path.read_bytes().replace(b"Alice Example", b"Mallory Example"))
    err = _refused(a, tmp_path, oid)
    assert str(path) in err and "not the one recorded at its nomination" in err, err
    assert _store(postgres_server, name, "SELECT 1 FROM nomination_records") == []


def test_moving_a_workstation_into_a_team_store_carries_its_records(
        cli_run: Run, data_root: Path, tmp_path: Path,
        postgres_server: PostgresServer) -> None:
    """One nomination kept in the local database travels with `team migrate-from-local`; one
    made before the store kept records (only its file) is kept in the team store once the
    workstation that has the file checks it. A colleague then reprints both."""
    kept = _nominate(cli_run, tmp_path, "Alice Example")
    older = _nominate(cli_run, tmp_path, "Bob Example")
    from smki_desktop.store.db import Database

    local = Database(data_root / "test" / "smki.sqlite3")
    try:
        with local.transaction() as c:
            c.execute("DELETE FROM nomination_records WHERE officer_id=?", (older,))
    finally:
        local.close()
    name = postgres_server.create_database()
    try:
        r = move_local_into(cli_run, postgres_server, name, "--json")
        assert r.json()["tables"]["nomination_records"] == 1
        colleague = tmp_path / "ws-b" / "data"
        link(colleague, postgres_server, name, initialise=False)
        b = functools.partial(cli_run, root=colleague)
        _reprints(b, tmp_path, kept, "Alice Example")
        assert "not in the store" in _refused(b, tmp_path, older)
        # the moved workstation still has the file: its check keeps it in the team store
        assert cli_run("--json", "officer", "show", older).json()["stored_form_problem"] is None
        _reprints(b, tmp_path, older, "Bob Example")
    finally:
        postgres_server.drop_database(name)
