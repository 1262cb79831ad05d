"""A key ceremony never takes the other environment's key from a PKCS#11 token both use (review
finding): a Test rehearsal with the same ceremony id made its key on the token, a Live run of
the same ceremony was interrupted after its key step started, and the resumed Live step adopted
the Test key (same label, no environment in it), recorded it as Live and signed a Live CSR for
it. Ceremony key labels now name the environment, and a key the other environment made or holds
is refused before it is recorded, naming both environments. A Live step's own key, made on the
token before the interruption, is still adopted, and the Live transcript verifies."""

from __future__ import annotations

from pathlib import Path

import pytest

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import EnvironmentMismatch
from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.keystores.pkcs11_store import Pkcs11KeyStore
from smki_desktop.services import ceremony as cs
from smki_desktop.services import ceremony_verify
from smki_desktop.services.keys import KeyRecord
from tests.integration.ceremony_support import prepare
from tests.integration.test_ceremony_service import _fake_net
from tests.support.softhsm import MODULE, PIN, FixedPin, softhsm_token

W = ["Wendy Witness"]
TOML = '''format = "smki-ceremony/1"
ceremony_id = "supplier-2026"
environment = "{env}"
purpose = "token sharing probe"
output_dir = "out"
[roles]
administrator = "Ada Aro"
witnesses = ["Wendy Witness"]
[token]
module = "{module}"
label = "ceremony"
[[keys]]
name = "supplier-ds"
role = "supplier"
usage = "signing"
eui = "90-B3-D5-1F-30-01-00-01"
store = "token"
backup = "none"
'''
OLD_LABEL = "ceremony supplier-2026 supplier-ds"  # what earlier versions wrote, in both


class Answers:
    def ask(self, prompt: str, *, confirm: bool = False) -> str:
        return PIN if "PIN" in prompt else "correct horse battery staple"


def _open(ctx, media: Path, env: str) -> cs.CeremonyRun:  # type: ignore[no-untyped-def]
    path = media / "ceremony.toml"
    if not path.exists():
        media.mkdir(parents=True)
        path.write_text(TOML.format(env=env, module=MODULE))
    run = cs.CeremonyRun(ctx, path, Answers())
    net = media.parent / f"net-{env}"
    run.sys_net = net if net.exists() else _fake_net(net, up=False)
    return run


def _do(run: cs.CeremonyRun, sid: str) -> cs.StepResult:
    step = next(s for s in run.remaining() if s.step_id == sid)
    return cs.confirm_and_perform(run, step, W)


def _live_interrupted_at_the_key(live_ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The Live run: facts and rehearsal done, the key step confirmed and started, then the
    process dies before the step says `done`."""
    prepare(live_ctx, tmp_path / "l")
    run = _open(live_ctx, tmp_path / "media-live", "live")
    for s in ("facts", "rehearsal"):
        _do(run, s)
    step = next(s for s in run.remaining() if s.step_id == "key:supplier-ds")
    run.acknowledge(step, W)
    run._append("key:supplier-ds", "started", {"resuming": False})
    run.close()


def _labels(ctx) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """key id -> label of the ceremony keys this environment's database records."""
    return {r[0]: r[1] for r in ctx.db.conn().execute(
        "SELECT key_id, label FROM keys WHERE label LIKE 'ceremony %'")}


def _test_rehearsal_key(ctx, tmp_path: Path) -> str:  # type: ignore[no-untyped-def]
    prepare(ctx, tmp_path / "t")
    run = _open(ctx, tmp_path / "media-test", "test")
    try:
        for s in ("facts", "rehearsal"):
            _do(run, s)
        return str(_do(run, "key:supplier-ds").data["key_id"])
    finally:
        run.close()


def test_a_live_ceremony_never_adopts_the_test_rehearsals_token_key(ctx, live_ctx,  # type: ignore[no-untyped-def]
                                                                     tmp_path: Path) -> None:
    with softhsm_token(tmp_path, "ceremony"):
        test_key = _test_rehearsal_key(ctx, tmp_path)
        _live_interrupted_at_the_key(live_ctx, tmp_path)
        run = _open(live_ctx, tmp_path / "media-live", "live")
        try:
            res = _do(run, "key:supplier-ds")
            assert res.data["key_id"] != test_key
            assert res.data["adopted_after_interruption"] is False
            live_keys = _labels(live_ctx)
            assert test_key not in live_keys
            assert live_keys[res.data["key_id"]] == "ceremony live supplier-2026 supplier-ds"
            assert _labels(ctx) == {test_key: "ceremony test supplier-2026 supplier-ds"}
            for step in run.remaining():
                cs.confirm_and_perform(run, step, W)
        finally:
            run.close()
        report = ceremony_verify.verify_transcript(live_ctx, tmp_path / "media-live" / "out")
        assert report.ok, report.as_dict()


@pytest.mark.parametrize("kept", ["row", "audit record only"])
def test_a_token_key_the_other_environment_made_is_refused_naming_both(  # type: ignore[no-untyped-def]
        ctx, live_ctx, tmp_path: Path, kept: str) -> None:
    """Even under this environment's label (relabelled on the token, or a Test database that
    made it): the other environment's records refuse it before anything is recorded here."""
    with softhsm_token(tmp_path, "ceremony"):
        _live_interrupted_at_the_key(live_ctx, tmp_path)
        store = Pkcs11KeyStore(Environment.TEST, MODULE, "ceremony", ctx.db, ctx.clock,
                               FixedPin())
        made = store.generate(KeyType.EC_P256, KeyUsage.SIGNING,
                              "ceremony live supplier-2026 supplier-ds",
                              recorded=KeyRecord(ctx, {"ceremony": "supplier-2026"}))
        if kept != "row":
            with ctx.db.transaction() as c:
                c.execute("DELETE FROM keys WHERE key_id=?", (made.key_id,))
        run = _open(live_ctx, tmp_path / "media-live", "live")
        try:
            with pytest.raises(EnvironmentMismatch) as err:
                _do(run, "key:supplier-ds")
        finally:
            run.close()
        assert "Test environment" in err.value.message
        assert "Live environment" in err.value.message
        assert made.key_id not in _labels(live_ctx)


def test_a_live_steps_own_token_key_is_adopted_and_an_unmarked_one_is_not(  # type: ignore[no-untyped-def]
        ctx, live_ctx, tmp_path: Path) -> None:
    """The Live step's own key (made on the token, the crash came before its record) is
    adopted; a key with an earlier version's label, which names no environment, is left
    alone (not adopted: it may be Test's)."""
    with softhsm_token(tmp_path, "ceremony"):
        _live_interrupted_at_the_key(live_ctx, tmp_path)
        unmarked = Pkcs11KeyStore(Environment.TEST, MODULE, "ceremony", ctx.db, ctx.clock,
                                  FixedPin()).generate(KeyType.EC_P256, KeyUsage.SIGNING,
                                                       OLD_LABEL)
        store = Pkcs11KeyStore(Environment.LIVE, MODULE, "ceremony", live_ctx.db,
                               live_ctx.clock, FixedPin())
        made = store.generate(KeyType.EC_P256, KeyUsage.SIGNING,
                              "ceremony live supplier-2026 supplier-ds")
        with live_ctx.db.transaction() as c:  # the record the crash prevented
            c.execute("DELETE FROM keys WHERE key_id=?", (made.key_id,))
        run = _open(live_ctx, tmp_path / "media-live", "live")
        try:
            res = _do(run, "key:supplier-ds")
            assert res.data["key_id"] == made.key_id != unmarked.key_id
            assert res.data["adopted_after_interruption"] is True
        finally:
            run.close()
