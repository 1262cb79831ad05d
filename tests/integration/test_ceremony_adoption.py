"""What a ceremony step adopts after an interruption (attack review): only what that step
made before the interruption. A CSR made outside the ceremony for the ceremony's key (another
EUI, a CN the plan does not name) was taken as the ceremony's CSR even without an
interruption; a key of another usage that was given the ceremony's label was adopted by the
key step. `ceremony verify` now checks every CSR's subject and every key's store against the
plan, so such a transcript no longer verifies."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from smki_desktop.core.errors import Refusal
from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.crypto.fields import extract_fields
from smki_desktop.services import ceremony as ceremony_service
from smki_desktop.services import ceremony_verify
from smki_desktop.services.csr import create_org_csr
from smki_desktop.services.keys import KeyRecord, generate_key
from tests.integration.ceremony_support import prepare
from tests.integration.test_ceremony_service import Answers, _fake_net

W = ["Wendy Witness"]
TOML = '''format = "smki-ceremony/1"
ceremony_id = "adopt-test"
environment = "test"
purpose = "adoption probe"
output_dir = "out"
[roles]
administrator = "Ada Aro"
witnesses = ["Wendy Witness"]
[[keys]]
name = "supplier-ds"
role = "supplier"
usage = "signing"
eui = "90-B3-D5-1F-30-01-00-01"
store = "keystore"
backup = "none"
'''
LABEL = "ceremony test adopt-test supplier-ds"


def _open(ctx, tmp_path: Path) -> ceremony_service.CeremonyRun:  # type: ignore[no-untyped-def]
    path = tmp_path / "media" / "ceremony.toml"
    if not path.exists():
        path.parent.mkdir(parents=True)
        path.write_text(TOML)
    run = ceremony_service.CeremonyRun(ctx, path, Answers())
    net = tmp_path / "net"
    run.sys_net = net if net.exists() else _fake_net(net, up=False)
    return run


def _step(run: ceremony_service.CeremonyRun, step_id: str) -> ceremony_service.Step:
    return next(s for s in run.remaining() if s.step_id == step_id)


def _do(run: ceremony_service.CeremonyRun, step_id: str) -> ceremony_service.StepResult:
    return ceremony_service.confirm_and_perform(run, _step(run, step_id), W)


def _interrupt(run: ceremony_service.CeremonyRun, step_id: str) -> None:
    """The step is confirmed and starts, then the process dies (a kill, a wrong PIN)."""
    run.acknowledge(_step(run, step_id), W)
    run._append(step_id, "started", {"resuming": False})
    run.close()


def _up_to_the_key(ctx, tmp_path: Path) -> tuple[ceremony_service.CeremonyRun, str]:  # type: ignore[no-untyped-def]
    prepare(ctx, tmp_path)
    run = _open(ctx, tmp_path)
    for s in ("facts", "rehearsal"):
        _do(run, s)
    return run, str(_do(run, "key:supplier-ds").data["key_id"])


def _finish_and_verify(run: ceremony_service.CeremonyRun, ctx,  # type: ignore[no-untyped-def]
                       tmp_path: Path) -> ceremony_verify.VerifyReport:
    for step in run.remaining():
        ceremony_service.confirm_and_perform(run, step, W)
    run.close()
    return ceremony_verify.verify_transcript(ctx, tmp_path / "media" / "out")


# -- the CSR step ------------------------------------------------------------------------------

def test_a_csr_made_outside_the_ceremony_is_not_adopted(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run, key_id = _up_to_the_key(ctx, tmp_path)
    run.close()
    create_org_csr(ctx, key_id, "supplier", "90-B3-D5-1F-30-01-99-99", "NOT-IN-PLAN")
    run = _open(ctx, tmp_path)
    with pytest.raises(Refusal, match="this step did not make"):
        _do(run, "csr:supplier-ds")
    run.close()
    assert "csr:supplier-ds" not in run.journal.done()
    assert not (tmp_path / "media" / "out" / "csr").exists()


def test_a_plan_matching_csr_made_before_the_step_started_is_not_adopted(ctx,  # type: ignore[no-untyped-def]
                                                                         tmp_path: Path) -> None:
    """Even with the plan's subject: the step never made it (it is older than the step)."""
    run, key_id = _up_to_the_key(ctx, tmp_path)
    run.close()
    create_org_csr(ctx, key_id, "supplier", "90-B3-D5-1F-30-01-00-01")
    run = _open(ctx, tmp_path)
    _interrupt(run, "csr:supplier-ds")
    run = _open(ctx, tmp_path)
    with pytest.raises(Refusal, match="this step did not make"):
        _do(run, "csr:supplier-ds")
    run.close()


@pytest.mark.parametrize(("eui", "cn", "named"), [
    ("90-B3-D5-1F-30-01-99-99", None, "EUI"),
    ("90-B3-D5-1F-30-01-00-01", "NOT-IN-PLAN", "CN"),
])
def test_an_interrupted_steps_csr_with_another_subject_is_refused(ctx, tmp_path: Path, eui: str,  # type: ignore[no-untyped-def]
                                                                   cn: str | None,
                                                                   named: str) -> None:
    run, key_id = _up_to_the_key(ctx, tmp_path)
    _interrupt(run, "csr:supplier-ds")
    create_org_csr(ctx, key_id, "supplier", eui, cn)  # after the step started
    run = _open(ctx, tmp_path)
    with pytest.raises(Refusal, match=f"its {named} ") as err:
        _do(run, "csr:supplier-ds")
    assert "not the one the plan asks for" in err.value.message
    run.close()


def test_an_interrupted_steps_own_csr_is_adopted(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The crash came after the CSR was recorded and before its file and `done`: kept."""
    run, key_id = _up_to_the_key(ctx, tmp_path)
    _interrupt(run, "csr:supplier-ds")
    made = create_org_csr(ctx, key_id, "supplier", "90-B3-D5-1F-30-01-00-01")
    run = _open(ctx, tmp_path)
    res = _do(run, "csr:supplier-ds")
    assert res.data["adopted_after_interruption"] is True
    assert res.data["csr_sha256"] == ceremony_service._sha(made.der)
    assert _finish_and_verify(run, ctx, tmp_path).ok


def test_verify_checks_each_csrs_subject_against_the_plan(ctx, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A transcript whose CSR has another CN and EUI than the plan (here the software making
    it was changed) is signed and chain-valid, but does not verify."""
    real = ceremony_service.create_org_csr

    def other_subject(ctx_: Any, key_ref: str, role: Any, eui: Any, cn: Any = None,
                      **kw: Any) -> Any:
        return real(ctx_, key_ref, role, "90-B3-D5-1F-30-01-99-99", "NOT-IN-PLAN", **kw)

    run, _key_id = _up_to_the_key(ctx, tmp_path)
    monkeypatch.setattr(ceremony_service, "create_org_csr", other_subject)
    rep = _finish_and_verify(run, ctx, tmp_path)
    assert not rep.ok
    assert any("its EUI (90-B3-D5-1F-30-01-99-99; the plan says 90-B3-D5-1F-30-01-00-01)" in p
               for p in rep.problems), rep.problems
    assert any("its CN (NOT-IN-PLAN; the plan says none)" in p for p in rep.problems)


# -- the key step ------------------------------------------------------------------------------

def _up_to_the_key_step(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """facts and rehearsal done; the key step starts and the process dies before any key."""
    prepare(ctx, tmp_path)
    run = _open(ctx, tmp_path)
    for s in ("facts", "rehearsal"):
        _do(run, s)
    _interrupt(run, "key:supplier-ds")


def test_a_key_of_another_usage_under_the_ceremonys_label_is_not_adopted(ctx,  # type: ignore[no-untyped-def]
                                                                         tmp_path: Path) -> None:
    _up_to_the_key_step(ctx, tmp_path)
    ctx.keystore.generate(KeyType.EC_P256, KeyUsage.KEY_AGREEMENT, LABEL)
    run = _open(ctx, tmp_path)
    with pytest.raises(Refusal, match="its usage is key-agreement; the plan says signing") as e:
        _do(run, "key:supplier-ds")
    assert "is not the key this step made" in e.value.message
    assert "does not record it being made by this ceremony" in e.value.message
    assert "key:supplier-ds" not in run.journal.done()
    run.close()


def test_a_key_labelled_afterwards_is_not_adopted_even_with_the_plans_usage(ctx,  # type: ignore[no-untyped-def]
                                                                            tmp_path: Path) -> None:
    """A signing key made elsewhere (its record names no ceremony), then given the label."""
    _up_to_the_key_step(ctx, tmp_path)
    made = generate_key(ctx, KeyUsage.SIGNING, "an ordinary key").key
    ctx.db.conn().execute("UPDATE keys SET label=? WHERE key_id=?", (LABEL, made.key_id))
    ctx.db.conn().commit()
    run = _open(ctx, tmp_path)
    with pytest.raises(Refusal, match="made outside it"):
        _do(run, "key:supplier-ds")
    run.close()


def test_a_key_the_ceremony_made_before_the_step_started_is_not_adopted(ctx,  # type: ignore[no-untyped-def]
                                                                        tmp_path: Path) -> None:
    """Even a record naming this ceremony: dated before the step started, it is not this
    step's key."""
    prepare(ctx, tmp_path)
    ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, LABEL,
                          recorded=KeyRecord(ctx, {"ceremony": "adopt-test"}))
    run = _open(ctx, tmp_path)
    for s in ("facts", "rehearsal"):
        _do(run, s)
    _interrupt(run, "key:supplier-ds")
    run = _open(ctx, tmp_path)
    with pytest.raises(Refusal, match="before this step started"):
        _do(run, "key:supplier-ds")
    run.close()


def test_the_interrupted_steps_own_key_is_adopted(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The crash came after the key and its record were made, before `done`: kept."""
    _up_to_the_key_step(ctx, tmp_path)
    made = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, LABEL,
                                 recorded=KeyRecord(ctx, {"ceremony": "adopt-test"}))
    run = _open(ctx, tmp_path)
    res = _do(run, "key:supplier-ds")
    assert res.data["adopted_after_interruption"] is True and res.data["key_id"] == made.key_id
    assert _finish_and_verify(run, ctx, tmp_path).ok


def test_the_key_generate_record_names_the_ceremony(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    run, key_id = _up_to_the_key(ctx, tmp_path)
    run.close()
    rec = next(e for e in ctx.audit.entries(action_prefix="key.generate")
               if e.details.get("key_id") == key_id)
    assert rec.details["ceremony"] == "adopt-test" and rec.details["label"] == LABEL


def test_verify_checks_each_keys_store_and_usage_against_the_plan(ctx, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                  monkeypatch: pytest.MonkeyPatch
                                                                  ) -> None:
    """A transcript (signed, chain-valid) whose key step put a key-agreement key where the
    plan says a signing key in the key store, recorded as not exportable, does not verify."""
    def other_key(self: ceremony_service.CeremonyRun, step: Any, _a: dict[str, Any],
                  _interrupted: bool) -> tuple[dict[str, Any], list[str]]:
        # the plan stays as it is; the key step (changed software) makes another key
        info = self.ctx.keystore.generate(KeyType.EC_P256, KeyUsage.KEY_AGREEMENT,
                                          self._label(self.plan.keys[0]))
        return ({"key_id": info.key_id, "location": "os-keyring", "exportable": False,
                 "adopted_after_interruption": False}, [])

    monkeypatch.setattr(ceremony_service.CeremonyRun, "_do_key", other_key)
    prepare(ctx, tmp_path)
    run = _open(ctx, tmp_path)
    rep = _finish_and_verify(run, ctx, tmp_path)
    assert not rep.ok
    assert any("key supplier-ds is os-keyring (not exportable); the plan's store 'keystore' "
               "means os-keyring (exportable)" in p for p in rep.problems), rep.problems
    assert any("its usage (key-agreement; the plan says signing)" in p for p in rep.problems)
    csr = next((tmp_path / "media" / "out" / "csr").iterdir())
    assert extract_fields(csr.read_bytes()).usage is KeyUsage.KEY_AGREEMENT
