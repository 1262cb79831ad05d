"""The overwrite rule in the CLI face (issue 10): `smki adt sign` refuses to replace existing
outputs without --overwrite (nothing written, nothing audited) and replaces them with it; the
quarantine Action file checks every output (the file and its signature set) before anything is
written or the key used."""

from __future__ import annotations

from pathlib import Path

from smki_desktop.services import adt as adt_service
from tests.integration.adt_support import assert_openssl_ok, make_aro
from tests.integration.test_adt_cli import _report


def _outputs(f: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in adt_service.default_paths(f)}


def test_cli_sign_refuses_existing_outputs_without_overwrite(ctx, cli_run,  # type: ignore[no-untyped-def]
                                                             tmp_path: Path) -> None:
    aro = make_aro(ctx, tmp_path)
    f = tmp_path / "adt.csv"
    assert cli_run("adt", "template", "--out", str(f)).code == 0
    assert cli_run("adt", "sign", str(f), "--key", aro.key.key_id).code == 0
    kept = _outputs(f)
    r = cli_run("adt", "sign", str(f), "--key", aro.key.key_id)
    assert r.code == 1, r.out
    assert "already exists" in r.err and f"{f.name}.p7s" in r.err and "Nothing was written" \
        in r.err, r.err
    assert _outputs(f) == kept
    assert len(adt_service.signed_files(ctx)) == 1
    assert len(ctx.audit.entries(action_prefix="adt.sign")) == 1
    r = cli_run("adt", "sign", str(f), "--key", aro.key.key_id, "--overwrite", "--json")
    assert r.code == 0, r.err
    assert _outputs(f) != kept and len(adt_service.signed_files(ctx)) == 2
    assert_openssl_ok(f, Path(r.json()["signature"]), aro.root_pem)


def test_cli_quarantine_action_checks_outputs_before_writing(ctx, cli_run,  # type: ignore[no-untyped-def]
                                                             tmp_path: Path) -> None:
    aro = make_aro(ctx, tmp_path)
    report = tmp_path / "report.csv"
    _report(ctx, report, 3)
    out = tmp_path / "action.csv"
    stray = tmp_path / "action.csv.p7s"  # a signature the new Action file would replace
    stray.write_bytes(b"not ours")
    r = cli_run("quarantine", "action", "--report", str(report), "--default", "delete",
                "--out", str(out), "--key", aro.key.key_id)
    assert r.code == 1 and "already exists" in r.err and stray.name in r.err, r.err
    assert not out.exists() and stray.read_bytes() == b"not ours"
    # refused before the Action file was written or recorded
    assert ctx.audit.entries(action_prefix="quarantine.action") == []
    r = cli_run("quarantine", "action", "--report", str(report), "--default", "delete",
                "--out", str(out), "--key", aro.key.key_id, "--overwrite", "--json")
    assert r.code == 0, r.err
    assert_openssl_ok(out, stray, aro.root_pem)
