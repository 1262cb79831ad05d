"""The wizard's check of the nominating SRO's page against the register (the register ID an
active SRO's, the name theirs), found when the officer leaves that page instead of when the
form is produced. The real register, through the command line."""

from __future__ import annotations

from smki_desktop.services import nomination as nom
from smki_desktop.services.nomination_fields import nominator_problems, page_problems
from tests.integration.test_officer_cli import make_active_sro, nominate


def _values(ref: str, name: str) -> dict:  # type: ignore[type-arg]
    return {"nominator.capacity": "sro", "nominator.officer_id": ref, "nominator.name": name}


def test_the_nominating_sro_is_checked_against_the_register(ctx, cli_run, tmp_path) -> None:  # type: ignore[no-untyped-def]
    sro = make_active_sro(cli_run, tmp_path, "Alice Example")
    res = nominate(cli_run, tmp_path, "sro", "Nora New")
    assert res.code == 0, res.err
    pending = res.json()["officer"]["officer_id"]

    assert nominator_problems(ctx, _values(sro, "alice   example")) == {}
    assert nominator_problems(ctx, _values(sro, "Alice Other")) == {
        "nominator.name": f"'Alice Other' does not match the register entry {sro} "
                          "(Alice Example)."}
    assert nominator_problems(ctx, _values(pending, "Nora New")) == {
        "nominator.officer_id": f"Nora New ({pending}) is nominated; an ARO is nominated by "
                                "an active SRO."}
    assert nominator_problems(ctx, _values("SRO-0999", "X")) == {
        "nominator.officer_id": "SRO-0999 is not in the Test officer register."}
    # a Chair nominates without a register entry: nothing to check here
    assert nominator_problems(ctx, {**_values("SRO-0999", "X"),
                                    "nominator.capacity": "pma-chair"}) == {}

    aro = nom.load_forms()["aro"]
    (err,) = page_problems(ctx, aro, "nominator", _values(sro, "Alice Other"))
    assert err.key == "nominator.name" and err.label == "Name of nominating SRO or Chair"
    # an SRO's form names no nominating SRO of the register
    assert page_problems(ctx, nom.load_forms()["sro"], "nominator",
                         _values("SRO-0999", "X")) == []
