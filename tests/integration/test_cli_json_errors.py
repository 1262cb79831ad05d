"""`--json` prints exactly one JSON document whatever ends the command (cli/main.py's contract):
a file or database error, an unexpected exception and a command-line usage error each give
`{"error": ..., "kind": ...}` as an SmkiError does, with the exit codes they always had."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from smki_desktop.cli import main as cli_main


def _one_error_document(out: str) -> dict[str, str]:
    doc = json.loads(out)  # exactly one document: json.loads refuses anything after it
    assert isinstance(doc, dict) and set(doc) == {"error", "kind"}, doc
    return doc


def test_data_folder_that_is_a_regular_file(cli_run, tmp_path: Path) -> None:
    regular = tmp_path / "not-a-folder"
    regular.write_text("")
    f = tmp_path / "a.csv"
    f.write_text("x\n")
    r = cli_run("adt", "validate", str(f), "--json", root=regular)
    assert r.code == 1, r.err
    doc = _one_error_document(r.out)
    assert doc["kind"] == "NotADirectoryError" and str(regular) in doc["error"]
    assert str(regular) in r.err  # still said on stderr too


def test_a_folder_where_a_file_is_expected(cli_run, tmp_path: Path) -> None:
    r = cli_run("adt", "history", str(tmp_path), "--json")
    assert r.code == 1, r.err
    doc = _one_error_document(r.out)
    assert doc["kind"] == "IsADirectoryError" and str(tmp_path) in doc["error"]


def test_a_database_error(cli_run, monkeypatch: pytest.MonkeyPatch) -> None:
    def locked(self: cli_main.CliApp) -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(cli_main.CliApp, "context", locked)
    r = cli_run("--json", "key", "list")
    assert r.code == 1, r.err
    doc = _one_error_document(r.out)
    assert doc == {"error": "the database could not be used: database is locked",
                   "kind": "OperationalError"}


def test_an_unexpected_exception_names_its_type(cli_run,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: cli_main.CliApp) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(cli_main.CliApp, "context", broken)
    r = cli_run("--json", "key", "list")
    assert r.code == 1
    doc = _one_error_document(r.out)
    assert doc["kind"] == "ZeroDivisionError" and "ZeroDivisionError" in doc["error"]
    assert "Traceback" not in r.out and "Traceback" in r.err
    # without --json: the same on stderr, nothing on stdout
    r = cli_run("key", "list")
    assert r.code == 1 and r.out == "" and "unexpected error ZeroDivisionError" in r.err


@pytest.mark.parametrize("argv", [("--json", "adt", "validate"),
                                  ("adt", "validate", "a.csv", "--no-such-option", "--json"),
                                  ("--json", "no-such-command")])
def test_usage_errors_under_json(cli_run, argv: tuple[str, ...]) -> None:
    r = cli_run(*argv)
    assert r.code == 2
    doc = _one_error_document(r.out)
    assert doc["kind"] == "UsageError" and doc["error"].startswith("smki")
    assert "usage:" in r.err and "error:" in r.err


def test_usage_error_without_json_prints_nothing_on_stdout(cli_run) -> None:
    r = cli_run("adt", "validate")
    assert r.code == 2 and r.out == "" and "required: file" in r.err
