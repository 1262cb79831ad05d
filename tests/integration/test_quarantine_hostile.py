"""Hostile and careless runs of `smki quarantine action` and `smki adt sign`, through the real
CLI entry point with the real OS keyring: a default that earlier runs must not override, an
output named like an input, a bad Service Request reference given with a signed file in place,
and a signing that fails after the Action file was written. Each ends in a clear message with
the files as they were."""

from __future__ import annotations

import hashlib
from pathlib import Path

from smki_desktop.services import quarantine as q_service
from tests.integration.adt_support import make_aro
from tests.integration.test_adt_cli import _report


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _actions(out: Path) -> list[bytes]:
    return [ln.rsplit(b",", 1)[1] for ln in out.read_bytes().split(b"\r\n")[1:] if ln]


def test_a_new_default_is_not_overridden_by_an_earlier_run(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The first run's default filled every row with PROCESS; a second run with --default
    delete used to write PROCESS again (the first run's rows had been kept as decisions)."""
    aro = make_aro(ctx, tmp_path)
    report = tmp_path / "report.csv"
    ids = _report(ctx, report, 3)
    r = cli_run("quarantine", "action", "--report", str(report), "--default", "process",
                "--out", str(tmp_path / "a1.csv"), "--key", aro.key.key_id, "--json")
    assert r.code == 0, r.err
    assert r.json()["by_default"] == 3 and r.json()["from_saved"] == 0
    r = cli_run("quarantine", "action", "--report", str(report), "--default", "delete",
                "--out", str(tmp_path / "a2.csv"))
    assert r.code == 0, r.err
    assert _actions(tmp_path / "a2.csv") == [b"DELETE"] * 3
    assert "3 decided by --default (DELETE)" in r.out and "came from those saved" not in r.out

    # decisions the officer made (the Quarantine page's drafts) are kept and named as such
    q_service.save_decisions(ctx, q_service.import_report(ctx, report).report_id,
                             {ids[1]: "PROCESS"})
    r = cli_run("quarantine", "action", "--report", str(report), "--default", "delete",
                "--out", str(tmp_path / "a3.csv"))
    assert r.code == 0, r.err
    assert _actions(tmp_path / "a3.csv") == [b"DELETE", b"PROCESS", b"DELETE"]
    assert "1 decision(s) came from those saved for this Report earlier" in r.out
    assert "--ignore-saved" in r.out
    r = cli_run("quarantine", "action", "--report", str(report), "--default", "delete",
                "--ignore-saved", "--out", str(tmp_path / "a4.csv"), "--json")
    assert r.code == 0, r.err
    assert _actions(tmp_path / "a4.csv") == [b"DELETE"] * 3
    assert r.json()["from_saved"] == 0 and r.json()["by_default"] == 3
    # ignoring the drafts once does not erase them
    assert q_service.decisions(ctx, q_service.import_report(ctx, report).report_id)[ids[1]] \
        == "PROCESS"


def test_an_output_named_like_an_input_is_refused(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`--out` equal to the file being signed, or to another file of the signature set, or an
    Action file over its own Report: refused before the key is used, nothing written or
    recorded (it destroyed the ADT file, or reported success for a set that cannot verify)."""
    aro = make_aro(ctx, tmp_path)
    f = tmp_path / "adt.csv"
    assert cli_run("adt", "template", "--out", str(f)).code == 0
    before, seq = _sha(f), ctx.audit.entries(limit=1)[0].seq
    for out, overwrite in ((f, True), (Path(f"{f}.manifest.json"), False),
                           (Path(f"{f}.manifest.json"), True),
                           (Path(f"{f}.manifest.json.p7s"), True)):
        r = cli_run("adt", "sign", str(f), "--key", aro.key.key_id, "--out", str(out),
                    *(["--overwrite"] if overwrite else []))
        assert r.code != 0, (out, r.out)
        assert "would be written over" in r.err and "Nothing was written" in r.err, r.err
    assert _sha(f) == before
    assert not list(tmp_path.glob("adt.csv.*"))
    # nothing recorded: neither a signing nor the validation made before the refusal
    assert ctx.audit.entries(limit=1)[0].seq == seq
    # a link to the file is the file
    link = tmp_path / "link.p7s"
    link.symlink_to(f)
    r = cli_run("adt", "sign", str(f), "--key", aro.key.key_id, "--out", str(link),
                "--overwrite")
    assert r.code != 0 and "the file being signed" in r.err and _sha(f) == before

    report = tmp_path / "report.csv"
    _report(ctx, report, 2)
    report_sha = _sha(report)
    r = cli_run("quarantine", "action", "--report", str(report), "--default", "delete",
                "--out", str(report), "--overwrite", "--key", aro.key.key_id)
    assert r.code == 2 and "over the Report" in r.err, r.err
    decisions = tmp_path / "d.csv"
    decisions.write_text("Quarantine ID,Action\n")
    r = cli_run("quarantine", "action", "--report", str(report), "--decisions",
                str(decisions), "--default", "delete", "--out", str(decisions), "--overwrite")
    assert r.code == 2 and "over the decisions file" in r.err, r.err
    assert _sha(report) == report_sha and decisions.read_text() == "Quarantine ID,Action\n"


def test_a_bad_reference_leaves_the_signed_action_file_alone(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """A bad --smsr was found only while signing, after the Action file had been replaced:
    the signed file was deleted (its signature left behind) and the action recorded."""
    aro = make_aro(ctx, tmp_path)
    report = tmp_path / "report.csv"
    _report(ctx, report, 3)
    out = tmp_path / "a1.csv"
    r = cli_run("quarantine", "action", "--report", str(report), "--default", "process",
                "--out", str(out), "--key", aro.key.key_id)
    assert r.code == 0, r.err
    shas = {p.name: _sha(p) for p in tmp_path.glob("a1.csv*")}
    assert len(shas) == 4
    seq = ctx.audit.entries(limit=1)[0].seq
    r = cli_run("quarantine", "action", "--report", str(report), "--default", "delete",
                "--out", str(out), "--key", aro.key.key_id, "--smsr", "bad!ref", "--overwrite")
    assert r.code == 2 and "Service Request reference" in r.err, r.err
    assert {p.name: _sha(p) for p in tmp_path.glob("a1.csv*")} == shas
    assert ctx.audit.entries(limit=1)[0].seq == seq
    assert cli_run("adt", "verify", str(out)).code == 0


class _TokenPulled:
    """The signing key's token taken out as the signing starts (a fault that cannot be made
    for real here): entering the signer fails."""

    def __enter__(self) -> None:
        raise OSError("the token was removed")

    def __exit__(self, *exc: object) -> None:
        return None


def test_a_failed_signing_puts_the_earlier_action_file_back(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    aro = make_aro(ctx, tmp_path)
    report = tmp_path / "report.csv"
    _report(ctx, report, 3)
    out = tmp_path / "a1.csv"
    q_service.build_action_file(ctx, report, out, default="process", key_ref=aro.key.key_id)
    shas = {p.name: _sha(p) for p in tmp_path.glob("a1.csv*")}
    try:
        q_service.build_action_file(ctx, report, out, default="delete",
                                    key_ref=aro.key.key_id, overwrite=True,
                                    signer=_TokenPulled())  # type: ignore[arg-type]
    except OSError as exc:
        assert "token was removed" in str(exc)
    else:
        raise AssertionError("the signing did not fail")
    # the earlier, signed Action file is back beside its own signature set
    assert {p.name: _sha(p) for p in tmp_path.glob("a1.csv*")} == shas
    withdrawn = ctx.audit.entries(limit=1)[0]
    assert withdrawn.action == "quarantine.action-withdrawn"
    assert withdrawn.details["restored"] is True
    # a first Action file whose signing fails is not left behind unsigned
    fresh = tmp_path / "fresh.csv"
    try:
        q_service.build_action_file(ctx, report, fresh, default="delete",
                                    key_ref=aro.key.key_id, signer=_TokenPulled())  # type: ignore[arg-type]
    except OSError:
        pass
    assert not fresh.exists()
