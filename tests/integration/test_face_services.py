"""The service entry points the faces now share (issue 10, item 3), each through the service and
through the CLI: the audit log (records, verify, acknowledge-loss), the officer form PDF, the
token keys list, the environment switch record, and the Organisation CSR made straight into a
file (output checked before the key is used). Real keyring, SQLite, SoftHSM2 and PDF."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError, Refusal
from smki_desktop.core.keys import KeyUsage
from smki_desktop.core.party import OfficerProfile, OfficerRole
from smki_desktop.services import (
    audit_log,
    environment_switch,
    file_lint,
    officer_forms,
    party,
    welcome,
)
from smki_desktop.services import csr as csr_service
from smki_desktop.services import token as token_service
from smki_desktop.services.context import open_context
from smki_desktop.services.keys import generate_key
from tests.integration.test_officer_cli import nominate
from tests.support.softhsm import MODULE, PIN, FixedPin, softhsm_token

EUI = "90-B3-D5-1F-30-01-00-00"


def _details(entry) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """An audit record's details without the version every record carries."""
    return {k: v for k, v in entry.details.items() if k != "app_version"}


def test_audit_records_and_verify_are_the_same_through_service_and_cli(ctx, cli_run) -> None:  # type: ignore[no-untyped-def]
    generate_key(ctx, KeyUsage.SIGNING, "one")
    generate_key(ctx, KeyUsage.KEY_AGREEMENT, "two")
    keys = audit_log.records(ctx, action_prefix="key.")
    assert [e.action for e in keys] == ["key.generate", "key.generate"]
    assert keys[0].seq > keys[1].seq  # newest first
    assert keys[0].details["label"] == "two"
    assert [e.seq for e in audit_log.records(ctx, limit=1)] == [keys[0].seq]

    listed = cli_run("--json", "audit", "list", "--action", "key.")
    assert listed.code == 0, listed.err
    assert [e["seq"] for e in listed.json()["entries"]] == [e.seq for e in keys]

    report = audit_log.verify(ctx)
    assert report.ok and report.rows == len(audit_log.records(ctx))
    verified = cli_run("--json", "audit", "verify")
    assert verified.code == 0 and verified.json()["ok"] is True
    assert verified.json()["rows"] == report.rows


def test_acknowledge_loss_refused_when_nothing_was_lost(ctx, cli_run) -> None:  # type: ignore[no-untyped-def]
    generate_key(ctx, KeyUsage.SIGNING, "k")
    before = len(audit_log.records(ctx))
    with pytest.raises(Refusal, match="Nothing to acknowledge"):
        audit_log.acknowledge_loss(ctx, "started again")
    with pytest.raises(InputError, match="Reason"):
        audit_log.acknowledge_loss(ctx, "  ")
    res = cli_run("audit", "acknowledge-loss", "--reason", "started again")
    assert res.code == 1 and "Nothing to acknowledge" in res.err
    assert len(audit_log.records(ctx)) == before


def _nominated(cli_run, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    res = nominate(cli_run, tmp_path, "sro", "Alice Example")
    assert res.code == 0, res.err
    return str(res.json()["officer"]["officer_id"])


def test_officer_form_written_audited_and_never_replaced_unasked(ctx, cli_run,  # type: ignore[no-untyped-def]
                                                                  tmp_path: Path) -> None:
    oid = _nominated(cli_run, tmp_path)
    out = tmp_path / "forms" / "form.pdf"
    res = officer_forms.write_officer_form(ctx, oid, out)
    data = out.read_bytes()
    assert res.path == out and res.officer_id == oid and data.startswith(b"%PDF")
    assert res.audit.action == "officer.pdf"
    assert _details(res.audit) == {"officer": oid, "path": str(out)}
    assert res.audit.artifacts["pdf"] == hashlib.sha256(data).hexdigest()

    out.write_bytes(b"someone else's file")
    count = len(audit_log.records(ctx, action_prefix="officer.pdf"))
    with pytest.raises(Refusal, match="already exists"):
        officer_forms.write_officer_form(ctx, oid, out)
    assert out.read_bytes() == b"someone else's file"
    assert len(audit_log.records(ctx, action_prefix="officer.pdf")) == count  # nothing done
    officer_forms.write_officer_form(ctx, oid, out, overwrite=True)
    assert out.read_bytes().startswith(b"%PDF")

    # the CLI: the same rule and the same record
    cli_out = tmp_path / "cli.pdf"
    cli_out.write_bytes(b"keep me")
    refused = cli_run("officer", "pdf", oid, "--out", str(cli_out))
    assert refused.code == 1 and "already exists" in refused.err
    assert cli_out.read_bytes() == b"keep me"
    done = cli_run("--json", "officer", "pdf", oid, "--out", str(cli_out), "--overwrite")
    assert done.code == 0, done.err
    assert done.json() == {"pdf": str(cli_out)}
    newest = audit_log.records(ctx, action_prefix="officer.pdf")[0]
    assert _details(newest) == {"officer": oid, "path": str(cli_out)}
    assert newest.artifacts["pdf"] == hashlib.sha256(cli_out.read_bytes()).hexdigest()


def test_unknown_officer_form_is_not_found_and_writes_nothing(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    out = tmp_path / "none.pdf"
    with pytest.raises(Exception, match="SRO-9999|No officer|not found"):
        officer_forms.write_officer_form(ctx, "SRO-9999", out)
    assert not out.exists()


def test_token_keys_through_service_and_cli(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    with softhsm_token(tmp_path, "faces-tok"):
        token_service.use_token(ctx, MODULE, "faces-tok")
        ctx.passphrases = FixedPin(PIN)
        generate_key(ctx, KeyUsage.SIGNING, "in the keyring")  # not a token key
        info, _, _ = token_service.generate_token_key(ctx, KeyUsage.KEY_AGREEMENT, "on token")
        keys = token_service.token_keys(ctx)
        assert [k.key_id for k in keys] == [info.key_id]
        listed = cli_run("--json", "token", "list")
        assert listed.code == 0, listed.err
        assert listed.json() == {"keys": [{"key_id": info.key_id, "label": "on token",
                                           "usage": "key-agreement",
                                           "location_ref": info.location_ref}]}
        text = cli_run("token", "list")
        assert text.out.strip() == f"{info.key_id[:16]}  key-agreement  on token"


def test_no_token_keys_said_plainly(ctx, cli_run) -> None:  # type: ignore[no-untyped-def]
    generate_key(ctx, KeyUsage.SIGNING, "keyring only")
    assert token_service.token_keys(ctx) == []
    assert cli_run("token", "list").out.strip() == "No token keys."


def test_environment_switch_recorded_in_the_log_switched_to(ctx, live_ctx) -> None:  # type: ignore[no-untyped-def]
    entry = environment_switch.record_switch(live_ctx, Environment.TEST)
    assert entry.action == "environment.switch"
    assert _details(entry) == {"from": "test", "to": "live"}
    assert [e.seq for e in audit_log.records(live_ctx, action_prefix="environment.")] == [
        entry.seq]
    assert audit_log.records(ctx, action_prefix="environment.") == []
    with pytest.raises(InputError, match="already in the Test environment"):
        environment_switch.record_switch(ctx, Environment.TEST)


def test_org_csr_file_checks_the_output_before_the_key_is_used(ctx, cli_run,  # type: ignore[no-untyped-def]
                                                                tmp_path: Path) -> None:
    key = generate_key(ctx, KeyUsage.SIGNING, "for a CSR").key
    out = tmp_path / "org.csr"
    out.write_bytes(b"an earlier CSR")
    with pytest.raises(Refusal, match="already exists"):
        csr_service.create_org_csr_file(ctx, key.key_id, "02", EUI, None, out)
    # the key was not burned: no CSR recorded, it may still get one
    assert csr_service.list_csrs(ctx) == []
    assert key.key_id in [k.key_id for k in csr_service.keys_available_for_csr(ctx)]
    refused = cli_run("csr", "org", "--key", key.key_id[:12], "--role", "02", "--eui", EUI,
                      "--out", str(out))
    assert refused.code == 1 and "already exists" in refused.err
    assert csr_service.list_csrs(ctx) == [] and out.read_bytes() == b"an earlier CSR"

    res = csr_service.create_org_csr_file(ctx, key.key_id, "02", EUI, None, out, "der",
                                          overwrite=True)
    assert out.read_bytes() == res.made.der
    assert res.audit.action == "csr.org.export" and res.audit.details["csr_id"] == \
        res.made.csr_id
    assert csr_service.csr_text(res.made.der, "pem").startswith(
        b"-----BEGIN CERTIFICATE REQUEST-----")
    assert set(csr_service.CSR_FORMATS) >= {"pem", "der"}


FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_file_lint_service_and_cli_agree(cli_run, data_root: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    clean = sorted((FIXTURES / "dcc-test-pki" / "organisation").glob("*.pem"))[0]
    finding = FIXTURES / "lint" / "subject.uid-encoding.csr.pem"
    missing = tmp_path / "nowhere.pem"
    names = [str(clean), str(finding), str(missing)]
    profile, outcomes = file_lint.lint_files(Environment.TEST, data_root, names)
    assert [o.exit_code for o in outcomes] == [0, 1, 2]
    assert outcomes[0].report is not None and outcomes[0].report.ok
    assert outcomes[2].unreadable and outcomes[2].error_text.startswith(f"{missing}: cannot read")

    res = cli_run("--json", "lint", *names)
    assert res.code == 2  # the worst outcome
    doc = res.json()
    assert doc["profile"] == profile.version
    assert [f.get("ok") for f in doc["files"][:2]] == [True, False]
    assert doc["files"][2] == {"file": str(missing), "error": outcomes[2].error}
    text = cli_run("lint", *names[:2])
    assert text.code == 1
    assert f"{clean}: ok (" in text.out and f"{finding}: error: subject.uid-encoding" in text.out


def test_welcome_is_due_once_and_never_with_profiles(ctx, live_ctx) -> None:  # type: ignore[no-untyped-def]
    assert welcome.take_welcome(ctx) is True
    assert welcome.take_welcome(ctx) is False  # noted as shown
    assert welcome.take_welcome(live_ctx) is True  # per environment
    fresh = open_context(Environment.TEST, ctx.paths.root / "other")
    try:
        party.set_officer(fresh, OfficerProfile("Alice Example", OfficerRole.ARO,
                                                "a@example.com"))
        assert welcome.take_welcome(fresh) is False
    finally:
        fresh.close()
