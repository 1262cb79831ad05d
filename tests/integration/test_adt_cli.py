"""`smki adt ...` and `smki quarantine ...` through the real CLI entry point (in-process), with
the real OS keyring; OpenSSL verifies what the CLI signs."""

from __future__ import annotations

import json
from pathlib import Path

from smki_desktop.core.adt.validate import render_csv
from smki_desktop.services import adt as adt_service
from tests.integration.adt_support import active_aro, assert_openssl_ok, make_aro, make_sro

OWN = "90-B3-D5-1F-30-01-00-00"


def test_cli_template_validate_sign_verify(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    aro = make_aro(ctx, tmp_path)
    f = tmp_path / "adt.csv"
    r = cli_run("adt", "template", "--out", str(f))
    assert r.code == 0, r.err
    r = cli_run("adt", "validate", str(f), "--json")
    assert r.code == 0 and r.json()["valid"] is True and r.json()["rows"] == 3
    r = cli_run("adt", "sign", str(f), "--key", aro.key.key_id[:10], "--smsr", "SMSR-42",
                "--json")
    assert r.code == 0, r.err
    out = r.json()
    assert out["verified"] is True and out["chain_checked"] is True
    assert out["smsr_reference"] == "SMSR-42" and len(out["sha256"]) == 64
    assert_openssl_ok(f, Path(out["signature"]), aro.root_pem)
    r = cli_run("adt", "verify", str(f))
    assert r.code == 0 and "Signature valid" in r.out and "SMSR-42" in r.out
    # a changed byte: exit 1 with a clear message
    f.write_bytes(f.read_bytes().replace(b"HOUR", b"HOUr"))
    r = cli_run("adt", "verify", str(f))
    assert r.code == 1 and "changed after signing" in r.err
    # the Live environment refuses the Test signature, naming both
    f.write_bytes(f.read_bytes().replace(b"HOUr", b"HOUR"))
    r = cli_run("adt", "verify", str(f), env="live")
    assert r.code == 1 and "Test environment" in r.err and "Live environment" in r.err
    r = cli_run("adt", "history", str(f), "--json")
    assert [e["event"] for e in r.json()["events"]] == ["signed"]


def test_cli_validate_reports_lines(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    make_aro(ctx, tmp_path)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"User ID,User Role,Service Request Type,Period,User Warning Threshold,"
                    b"User Quarantine Threshold\r\n"
                    + f"{OWN},IS,ALL,DAY,300,200\r\n{OWN},IS,7.77.7,DAY,1,2\r\n".encode())
    r = cli_run("adt", "validate", str(bad))
    assert r.code == 1
    assert "line 2, column 5 (User Warning Threshold)" in r.out
    assert "[warning-above-quarantine]" in r.out
    assert "line 3, column 3 (Service Request Type)" in r.out
    r = cli_run("adt", "sign", str(bad), "--key", "00000000")
    assert r.code == 2 and "line 2" in r.err
    r = cli_run("adt", "validate", str(tmp_path / "missing.csv"))
    assert r.code == 2 and "missing.csv" in r.err


def _report(ctx, path: Path, n: int) -> list[str]:  # type: ignore[no-untyped-def]
    prof = adt_service.load_profile("quarantine-report")
    rows = [(f"Q-{i:06d}", OWN, "IS", "1.1.1", f"{OWN}:00-DB-12-34-56-78-90-01:{1000 + i}",
             f"2026-11-01T10:{i % 60:02d}:00Z", "USER" if i % 2 else "DCC", str(8000 + i))
            for i in range(n)]
    path.write_bytes(render_csv(prof, rows))
    return [r[0] for r in rows]


def test_cli_quarantine_action_signed(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    aro = make_aro(ctx, tmp_path)
    report = tmp_path / "report.csv"
    ids = _report(ctx, report, 5)
    r = cli_run("quarantine", "import", "--report", str(report), "--json")
    assert r.code == 0, r.err
    assert [i["quarantine_id"] for i in r.json()["items"]] == ids
    decisions = tmp_path / "decisions.csv"
    decisions.write_text(f"Quarantine ID,Action\n{ids[0]},process\n{ids[3]},PROCESS\n")
    out = tmp_path / "action.csv"
    # without a default two rows stay undecided: refused, nothing written
    r = cli_run("quarantine", "action", "--report", str(report), "--decisions", str(decisions),
                "--out", str(out), "--key", aro.key.key_id)
    assert r.code == 1 and "have no decision" in r.err and ids[1] in r.err
    assert not out.exists()
    r = cli_run("quarantine", "action", "--report", str(report), "--decisions", str(decisions),
                "--default", "delete", "--out", str(out), "--key", aro.key.key_id,
                "--smsr", "SMSR-Q", "--json")
    assert r.code == 0, r.err
    res = r.json()
    assert res["process"] == 2 and res["delete"] == 3
    lines = out.read_bytes().split(b"\r\n")
    assert lines[0] == b"Quarantine ID,Request ID,Action"
    assert lines[1].endswith(b",PROCESS") and lines[2].endswith(b",DELETE")
    sig = Path(res["signed"]["signature"])
    assert_openssl_ok(out, sig, aro.root_pem)
    manifest = json.loads(Path(res["signed"]["manifest"]).read_text())
    assert manifest["kind"] == "quarantine-action" and manifest["smsr_reference"] == "SMSR-Q"
    r = cli_run("adt", "verify", str(out))
    assert r.code == 0, r.err


def test_cli_quarantine_bad_decisions_name_lines(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    make_aro(ctx, tmp_path)
    report = tmp_path / "report.csv"
    ids = _report(ctx, report, 2)
    decisions = tmp_path / "d.csv"
    decisions.write_text(f"Quarantine ID,Action\n{ids[0]},maybe\n")
    r = cli_run("quarantine", "action", "--report", str(report), "--decisions",
                str(decisions), "--out", str(tmp_path / "a.csv"))
    assert r.code == 2 and "line 2" in r.err and "PROCESS or DELETE" in r.err
    decisions.write_text(f"Quarantine ID,Action\nQ-999999,DELETE\n{ids[0]},DELETE\n")
    r = cli_run("quarantine", "action", "--report", str(report), "--decisions",
                str(decisions), "--default", "process", "--out", str(tmp_path / "a.csv"))
    assert r.code == 2 and "Q-999999" in r.err
    # a malformed report is refused naming its line
    report.write_bytes(report.read_bytes().replace(b"USER", b"USR", 1))
    r = cli_run("quarantine", "import", "--report", str(report))
    assert r.code == 2 and "line 3" in r.err and "Threshold" in r.err


def test_cli_sro_confirm_anchor_and_deliver(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    aro = make_aro(ctx, tmp_path, anchor=False)
    r = cli_run("adt", "anchor", "add", str(aro.root_pem), "--json")
    assert r.code == 0, r.err
    r = cli_run("adt", "anchor", "list", "--json")
    assert aro.root.subject.rfc4514_string() in [a["subject"] for a in r.json()["anchors"]]
    f = tmp_path / "adt.csv"
    assert cli_run("adt", "template", "--out", str(f)).code == 0
    assert cli_run("adt", "template", "--out", str(f)).code == 1  # never replaced silently
    assert cli_run("adt", "sign", str(f), "--key", aro.key.key_id).code == 0
    assert_openssl_ok(f, Path(str(f) + ".p7s"), aro.root_pem)
    r = cli_run("adt", "confirm", str(f), "--key", aro.key.key_id)
    assert r.code == 1 and "not an SRO" in r.err
    sro = make_sro(ctx, tmp_path, aro)  # profile Sam Sro (SRO) and the SRO's own credential
    r = cli_run("adt", "confirm", str(f), "--key", sro.key.key_id, "--resubmitter", "Ada Aro")
    assert r.code == 2 and "decision is apply" in r.err
    garbage = tmp_path / "garbage.csv"
    garbage.write_text("not,an,ADT file\n")
    r = cli_run("adt", "confirm", str(garbage), "--key", sro.key.key_id)
    assert r.code == 2 and "not confirmed" in r.err and "line 1" in r.err, r.err
    assert not list(tmp_path.glob("garbage.csv.confirmation-*"))
    r = cli_run("adt", "confirm", str(f), "--key", sro.key.key_id, "--decision", "resubmit",
                "--resubmitter", "Ada Aro", "--json")
    assert r.code == 0, r.err
    assert "warning: The confirming SRO Sam Sro (SRO) is not in the Test officer register" \
        in r.err
    doc = Path(r.json()["document"])
    assert_openssl_ok(doc, Path(r.json()["signature"]), sro.root_pem)
    assert json.loads(doc.read_text())["resubmitter"] == "Ada Aro"
    r = cli_run("adt", "deliver", str(f), "--json")
    assert r.code == 0 and Path(r.json()["package"]).is_file()
    r = cli_run("adt", "deliver", str(f), "--out", str(tmp_path / "x.zip"), "--send")
    assert r.code != 0 and ("no endpoint" in r.err or "package was written" in r.err), r.err
    assert (tmp_path / "x.zip").is_file()
    r = cli_run("adt", "history", str(f), "--json")
    assert [e["event"] for e in r.json()["events"]][:2] == ["signed", "sro-resubmit"]
    r = cli_run("audit", "verify")
    assert r.code == 0, r.err + r.out


def test_cli_profiles_list_and_use(ctx, cli_run) -> None:  # type: ignore[no-untyped-def]
    r = cli_run("adt", "profiles", "--json")
    # version 2 (issue 15: max_rows 5,000,000) is the newest, so the active one
    assert r.code == 0 and r.json()["adt-file"] == {"versions": ["1", "2"], "active": "2"}
    r = cli_run("adt", "profiles", "--use", "adt-file", "1", "--json")
    assert r.code == 0 and ctx.setting("adt.profile.adt-file") == "1"
    r = cli_run("adt", "profiles", "--use", "adt-file", "9")
    assert r.code == 1 and "version '9' is not installed" in r.err
    r = cli_run("adt", "profiles", "--use", "nonsense", "1")
    assert r.code == 2 and "nonsense" in r.err


def test_cli_revoked_aro_key_signs_nothing_and_key_list_shows_flags(  # type: ignore[no-untyped-def]
        ctx, cli_run, tmp_path: Path) -> None:
    """The reviewer's case: `adt sign --key K` after the ARO holding K was revoked as a
    leaver; the quarantine Action file too. `key list` shows the flag."""
    from tests.integration.adt_support import officer_signing_key, set_profiles
    from tests.integration.test_officer_cli import make_active_sro

    set_profiles(ctx)
    sro_id = make_active_sro(cli_run, tmp_path, "Sam Sro")
    sro_key = officer_signing_key(ctx, cli_run, sro_id)
    aro_id = active_aro(cli_run, tmp_path, sro_id, sro_key=sro_key)
    # the ARO's key: its credential names the entry (ARO-0001), linked to it
    aro_key = officer_signing_key(ctx, cli_run, aro_id)
    f = tmp_path / "adt.csv"
    assert cli_run("adt", "template", "--out", str(f)).code == 0
    r = cli_run("adt", "sign", str(f), "--key", aro_key)
    assert r.code == 0, r.err
    r = cli_run("key", "list")
    assert r.code == 0 and "FLAGS" in r.out.splitlines()[0]
    assert "officer-" not in r.out
    assert cli_run("officer", "revoke", aro_id, "--reason", "leaver", "--as", sro_id, "--key",
                   sro_key).code == 0
    before = Path(str(f) + ".p7s").read_bytes()
    r = cli_run("adt", "sign", str(f), "--key", aro_key, "--overwrite")
    assert r.code == 1, r.out
    assert "officer-revoked" in r.err and aro_id in r.err and "Ada Aro" in r.err, r.err
    assert Path(str(f) + ".p7s").read_bytes() == before
    report = tmp_path / "report.csv"
    _report(ctx, report, 2)
    out = tmp_path / "action.csv"
    r = cli_run("quarantine", "action", "--report", str(report), "--default", "delete",
                "--out", str(out), "--key", aro_key)
    assert r.code == 1 and "officer-revoked" in r.err and aro_id in r.err, r.err
    assert not out.exists()
    line = next(ln for ln in cli_run("key", "list").out.splitlines()
                if ln.startswith(aro_key[:16]))
    assert "officer-revoked" in line
    flags = {k["key_id"]: k["flags"] for k in cli_run("--json", "key", "list").json()["keys"]}
    assert flags == {sro_key: [], aro_key: ["officer-revoked"]}
