"""Hostile nomination input ends in an InputError (exit 2) naming the field or line, never a
traceback; future dates and another Party's ID are refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.test_officer_cli import nominate, write_form


def _run(cli_run, path: Path, form: str = "sro"):  # type: ignore[no-untyped-def]
    return cli_run("officer", "nominate", "--form", form, "--from", str(path))


def _template(cli_run) -> dict:  # type: ignore[type-arg]
    return json.loads(cli_run("officer", "template", "--form", "sro").out)


@pytest.mark.parametrize("version", [[1], "one", {"v": 1}, 1.5, True])
def test_version_of_the_wrong_type(cli_run, tmp_path: Path, version: object) -> None:
    doc = _template(cli_run)
    doc["version"] = version
    p = tmp_path / "in.json"
    p.write_text(json.dumps(doc))
    r = _run(cli_run, p)
    assert r.code == 2 and "version" in r.err and "Traceback" not in r.err, r.err


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1" * 5000, "1e99999"])
def test_nan_infinity_and_huge_numbers(cli_run, tmp_path: Path, literal: str) -> None:
    text = json.dumps(_template(cli_run))
    assert '"version": 1' in text
    p = tmp_path / "in.json"
    p.write_text(text.replace('"version": 1', f'"version": {literal}'))
    r = _run(cli_run, p)
    assert r.code == 2 and str(p) in r.err and "Traceback" not in r.err, r.err[-500:]


def test_huge_number_in_a_field(cli_run, tmp_path: Path) -> None:
    doc = _template(cli_run)
    assert '"Example Energy Ltd"' in json.dumps(doc)
    text = json.dumps(doc).replace('"Example Energy Ltd"', "9" * 5000)
    p = tmp_path / "in.json"
    p.write_text(text)
    r = _run(cli_run, p)
    assert r.code == 2 and "5000 digits" in r.err


def test_json_nested_50000_deep(cli_run, tmp_path: Path) -> None:
    p = tmp_path / "deep.json"
    p.write_text('{"nominee": ' + "[" * 50_000 + "]" * 50_000 + "}")
    r = _run(cli_run, p)
    assert r.code == 2 and "nested more than" in r.err and "line 1" in r.err


def test_toml_nested_deep(cli_run, tmp_path: Path) -> None:
    p = tmp_path / "deep.toml"
    p.write_text("form = 'sro'\nx = " + "[" * 5000 + "]" * 5000 + "\n")
    r = _run(cli_run, p)
    assert r.code == 2 and "nested more than" in r.err and "line 2" in r.err


def test_future_nomination_date_refused(cli_run, tmp_path: Path) -> None:
    r = nominate(cli_run, tmp_path, "sro", "Fay Future", nominator__date="2999-01-01")
    assert r.code == 2 and "nominator.date" in r.err and "future" in r.err


def test_future_screening_date_refused(cli_run, tmp_path: Path) -> None:
    p = write_form(cli_run, tmp_path, "sro", "Sid Screen")
    doc = json.loads(p.read_text())
    if "screening" not in doc:
        p = write_form(cli_run, tmp_path, "aro", "Sid Screen")
        doc = json.loads(p.read_text())
    doc["screening"]["date"] = "2999-06-01"
    p.write_text(json.dumps(doc))
    r = cli_run("officer", "nominate", "--form", doc["form"], "--from", str(p))
    assert r.code == 2 and "screening.date" in r.err and "future" in r.err


def test_nominee_party_compared_with_the_party_profile(cli_run, tmp_path: Path) -> None:
    assert cli_run("party", "set", "--name", "Acme Energy", "--party-id", "ACME",
                   "--party-type", "import-supplier", "--eui-range",
                   "90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF").code == 0
    r = nominate(cli_run, tmp_path, "sro", "Otto Other", nominee__party_id="EXEN")
    assert r.code == 1 and "nominee.party_id" in r.err and "ACME" in r.err
    ok = nominate(cli_run, tmp_path, "sro", "Anna Acme", nominee__party_id="ACME")
    assert ok.code == 0, ok.err


@pytest.mark.parametrize("party_id", ["ac", "TOOLONGPARTYID", "acme"])
def test_bad_party_ids_refused(cli_run, party_id: str) -> None:
    r = cli_run("party", "set", "--name", "Acme Energy", "--party-id", party_id,
                "--party-type", "import-supplier", "--eui-range",
                "90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF")
    assert r.code == 2 and "Party ID" in r.err and party_id in r.err


def test_bad_signifier_and_overlapping_ranges_refused(cli_run) -> None:
    base = ["party", "set", "--name", "Acme Energy", "--party-id", "ACME",
            "--party-type", "import-supplier"]
    r = cli_run(*base, "--eui-range", "90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF",
                "--signifier", "!!not a signifier!!")
    assert r.code == 2 and "Signifier" in r.err
    r = cli_run(*base, "--eui-range", "90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF",
                "--eui-range", "90-B3-D5-1F-30-01-80-00..90-B3-D5-1F-30-02-00-00")
    assert r.code == 2 and "overlap" in r.err
    assert cli_run("party", "show").code == 1  # nothing was saved


def test_dates_are_judged_by_the_injected_clock(cli_run, tmp_path: Path,
                                                data_root: Path) -> None:
    from datetime import UTC, datetime

    from smki_desktop.core.environment import Environment
    from smki_desktop.core.errors import InputError
    from smki_desktop.core.ports import FixedClock
    from smki_desktop.services import nomination as nom
    from smki_desktop.services.context import open_context

    p = write_form(cli_run, tmp_path, "sro", "Cleo Clock", nominator__date="2026-11-21")
    schema, values = nom.read_input(p, "sro")
    ctx = open_context(Environment.TEST, data_root,
                       clock=FixedClock(datetime(2026, 11, 20, 12, tzinfo=UTC)))
    try:
        with pytest.raises(InputError, match=r"nominator.date: 2026-11-21 is in the future "
                                             r"\(today is 2026-11-20\)"):
            nom.check_nomination(ctx, schema, values)
        ctx.clock = FixedClock(datetime(2026, 11, 21, 9, tzinfo=UTC))
        nom.check_nomination(ctx, schema, values)  # the same day is fine
    finally:
        ctx.close()


def test_an_organisation_name_that_cannot_fit_a_certificate_is_refused(cli_run) -> None:
    r = cli_run("party", "set", "--name", "A" * 100_000, "--party-id", "ACME", "--party-type",
                "import-supplier", "--eui-range",
                "90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF")
    assert r.code == 2 and "Organisation name" in r.err and "64" in r.err, r.err[-300:]
    assert cli_run("party", "show").code == 1  # nothing was saved
