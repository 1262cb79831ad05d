"""The status bar says the officer's standing as the officer register gives it, in the Dashboard's
words, not as the local profile claims it: a profile linked to a register entry the register has
since suspended reads "suspended" there (it read "ARO, register entry ARO-0002" as if the role
were held). The register is read on the job runner, afresh when the register changes, when a
page is shown and when the environment is switched."""

from __future__ import annotations

from pathlib import Path

from smki_desktop.core.party import OfficerProfile, OfficerRole
from smki_desktop.services.party import set_officer
from tests.integration.adt_support import officer_signing_key, set_profiles
from tests.integration.test_officer_cli import EVIDENCE, make_active_sro, nominate


def _active_aro(window, cli_run, tmp_path: Path) -> tuple[str, str, str]:  # type: ignore[no-untyped-def]
    """An active SRO (with a signing key) and the active ARO they nominated: (sro, key, aro)."""
    ctx = window.ctx
    set_profiles(ctx)
    sro = make_active_sro(cli_run, tmp_path, "Alice Example")
    sro_key = officer_signing_key(ctx, None, sro)
    res = nominate(cli_run, tmp_path, "aro", "Ada Aro", nominator__officer_id=sro,
                   nominator__name="Alice Example", sro_key=sro_key)
    assert res.code == 0, res.err
    aro = str(res.json()["officer"]["officer_id"])
    assert cli_run("officer", "verify", aro, "--date", "2026-11-21", "--verifier", "Vera",
                   "--evidence", EVIDENCE).code == 0
    r = cli_run("officer", "activate", aro, "--as", sro, "--key", sro_key)
    assert r.code == 0, r.err
    return sro, sro_key, aro


def test_an_officer_suspended_in_the_register_is_shown_suspended_in_the_status_bar(  # type: ignore[no-untyped-def]
        qtbot, window, cli_run, tmp_path: Path) -> None:
    sro, sro_key, aro = _active_aro(window, cli_run, tmp_path)
    set_officer(window.ctx, OfficerProfile("Ada Aro", OfficerRole.ARO, "ada@example.com", aro))
    window.services.changed({"profile"})  # what the profile dialog's save says
    label = window.officer_label
    qtbot.waitUntil(lambda: f"Ada Aro (ARO, register entry {aro})" in label.text(),
                    timeout=20000)
    assert "suspended" not in label.text() and "claimed" not in label.text()
    assert label.styleSheet() == "" and label.toolTip() == ""

    # suspended in the register (the profile unchanged): the next read says so
    r = cli_run("officer", "suspend", aro, "--reason", "investigation", "--as", sro,
                "--key", sro_key)
    assert r.code == 0, r.err
    window.go_to("Keys")  # a page shown reads the register again, as the page reads its own
    qtbot.waitUntil(lambda: "suspended" in label.text(), timeout=20000)
    text = label.text()
    assert f"Ada Aro (ARO, register entry {aro} — suspended, the role grants nothing)" in text
    assert "#8A4B00" in label.styleSheet() and "Ask an SRO" in label.toolTip()  # marked
    # the Dashboard says the same standing
    dash = window.go_to("Dashboard")
    qtbot.waitUntil(lambda: "suspended" in dash.register_label.text(), timeout=20000)
    assert f"ARO, register entry {aro} — suspended" in dash.register_label.text()


def test_a_profile_naming_an_entry_the_register_lacks_is_not_shown_as_held(  # type: ignore[no-untyped-def]
        qtbot, window) -> None:
    set_profiles(window.ctx)
    set_officer(window.ctx, OfficerProfile("Ada Aro", OfficerRole.ARO, "", "ARO-0042"))
    window.services.changed({"profile"})
    label = window.officer_label
    qtbot.waitUntil(lambda: "ARO-0042 is not in the officer register" in label.text(),
                    timeout=20000)
    assert "Ada Aro (claimed ARO" in label.text(), label.text()
    # the switch reads the other environment's profile and register afresh (Live has neither)
    window.open_environment(window._other(window.env))
    qtbot.waitUntil(lambda: window.ready and "Live · " in label.text()
                    and "opening" not in label.text(), timeout=30000)
    qtbot.waitUntil(lambda: "no officer profile" in label.text(), timeout=20000)
