"""`ceremony check` says, before the ceremony day, when the administrator or a witness the plan
names is not an active officer of this environment's register (the walk's "Ada Aro" was in no
register and the check said nothing)."""

from __future__ import annotations

from pathlib import Path

from tests.integration.ceremony_support import example_file, prepare
from tests.integration.test_officer_cli import make_active_sro, nominate


def _warnings(cli_run, path: Path) -> list[str]:  # type: ignore[no-untyped-def]
    res = cli_run("--json", "ceremony", "check", str(path))
    assert res.code == 0, res.err
    return [str(w) for w in res.json()["warnings"]]


def test_check_warns_of_people_not_active_in_the_register(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    prepare(ctx, tmp_path)  # the Party and a credential for Ada Aro, who is in no register
    path = example_file(tmp_path / "media")
    warnings = _warnings(cli_run, path)
    admin = [w for w in warnings if "administrator 'Ada Aro'" in w]
    assert admin and "not in the Test officer register" in admin[0]
    assert any("witness 'Wendy Witness'" in w for w in warnings)
    text = cli_run("ceremony", "check", str(path))
    assert text.code == 0 and "Ada Aro" in text.out + text.err

    # Wendy nominated, not yet active: her standing is named; Ada active: no word of her
    sro = make_active_sro(cli_run, tmp_path, "Ada Aro")
    res = nominate(cli_run, tmp_path, "aro", "Wendy Witness", nominator__officer_id=sro,
                   nominator__name="Ada Aro")
    assert res.code == 0, res.err
    wendy = res.json()["officer"]["officer_id"]
    warnings = _warnings(cli_run, path)
    assert not [w for w in warnings if "administrator 'Ada Aro'" in w and "register" in w]
    assert [w for w in warnings if "witness 'Wendy Witness'" in w
            and f"{wendy} is nominated" in w]
