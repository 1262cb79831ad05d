"""The Keys page's "Back up…" dialog names the custodians of a shares backup: one name field
per share (following N), each required and checked as the service checks them (a name given
twice, an empty one, a control character is refused under that field, nothing written); the
names are written on the shares. M, N and the names are for shares only (disabled/hidden under
a passphrase), labelled with mnemonics, and the dialog fits 1024x700 with 16 custodians."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.gui.qt import QDialogButtonBox, Qt
from smki_desktop.services import key_backup
from tests.gui.test_dialog_field_checks import buddy_text, error_under, visible_errors


def _open_dialog(window, qtbot) -> tuple[Any, Any, str]:  # type: ignore[no-untyped-def]
    """The Keys page with a new software key selected and its Back up… dialog open."""
    ctx = window.services.ctx
    info = ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, "custodian backup")
    page = window.go_to("Keys")
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    page.refresh()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    page.table.selectRow(next(i for i, k in enumerate(page.keys) if k.key_id == info.key_id))
    page.open_backup()
    dlg = page.backup_dialog
    qtbot.waitExposed(dlg)
    return page, dlg, info.key_id


def _shares(dlg, m: int, n: int, names: list[str], out: Path) -> None:  # type: ignore[no-untyped-def]
    dlg.by_shares.setChecked(True)
    dlg.count.setValue(n)
    dlg.threshold.setValue(m)
    for field, name in zip(dlg.custodian_fields, names, strict=False):
        field.setText(name)
    dlg.path.setText(str(out))


def test_a_shares_backup_names_its_custodians(window, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    page, dlg, _key_id = _open_dialog(window, qtbot)
    out = tmp_path / "shares"
    _shares(dlg, 2, 3, ["Alice Ng", "Bob Roy", "Carol Ito"], out)
    assert [f.isVisible() for f in dlg.custodian_fields[:4]] == [True, True, True, False]
    dlg.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert not dlg.isVisible()
    qtbot.waitUntil(lambda: page.backup_button.isEnabled(), timeout=30000)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    got = [key_backup.read_share_file(out / f"share-{i}-of-3.txt")["custodian"]
           for i in (1, 2, 3)]
    assert got == ["Alice Ng", "Bob Roy", "Carol Ito"]


def test_a_name_twice_is_refused_under_it_nothing_written(window, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _page, dlg, _key_id = _open_dialog(window, qtbot)
    out = tmp_path / "shares"
    _shares(dlg, 2, 3, ["Alice Ng", "Bob Roy", "alice  ng"], out)
    accepted: list[bool] = []
    dlg.accepted.connect(lambda: accepted.append(True))
    qtbot.keyClick(dlg.path, Qt.Key.Key_Return)
    third = dlg.custodian_fields[2]
    assert dlg.isVisible() and not accepted
    message = error_under(dlg, third)
    assert "'alice  ng'" in message and "twice" in message
    assert visible_errors(dlg) == [message]
    assert dlg.focusWidget() is third and third.accessibleDescription() == message
    assert [f.text() for f in dlg.custodian_fields[:3]] == ["Alice Ng", "Bob Roy", "alice  ng"]
    assert not out.exists()
    qtbot.waitUntil(window.jobs.idle, timeout=20000)
    assert not out.exists()

    # an empty name, then a control character: each refused at its own field
    third.setText("Carol")
    dlg.custodian_fields[1].setText("  ")
    dlg.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert dlg.isVisible() and not accepted
    assert "empty" in error_under(dlg, dlg.custodian_fields[1])
    dlg.custodian_fields[1].setText("Bob\x07Roy")
    dlg.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert dlg.isVisible() and not accepted
    assert "Bob" in error_under(dlg, dlg.custodian_fields[1])
    assert not out.exists()
    dlg.reject()


def test_m_n_and_names_are_for_shares_only_and_labelled(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    _page, dlg, _key_id = _open_dialog(window, qtbot)
    assert dlg.by_passphrase.isChecked()
    assert not dlg.threshold.isEnabled() and not dlg.count.isEnabled()
    assert not any(f.isVisible() for f in dlg.custodian_fields)
    dlg.by_shares.setChecked(True)
    assert dlg.threshold.isEnabled() and dlg.count.isEnabled()
    assert sum(f.isVisible() for f in dlg.custodian_fields) == dlg.count.value() == 5
    dlg.by_passphrase.setChecked(True)
    assert not dlg.threshold.isEnabled() and not dlg.count.isEnabled()
    assert not any(f.isVisible() for f in dlg.custodian_fields)
    dlg.by_shares.setChecked(True)

    for field, label, name in ((dlg.threshold, "Shares &needed (M):", "Shares needed (M)"),
                               (dlg.count, "Shares &made (N):", "Shares made (N)"),
                               (dlg.custodian_fields[0], "Custodian &1:", "Custodian 1"),
                               (dlg.custodian_fields[8], "Custodian &9:", "Custodian 9"),
                               (dlg.custodian_fields[15], "Custodian 16:", "Custodian 16")):
        assert buddy_text(dlg, field) == label
        assert field.accessibleName() == name
    dlg.reject()


def test_sixteen_custodians_fit_1024x700(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    _page, dlg, _key_id = _open_dialog(window, qtbot)
    dlg.by_shares.setChecked(True)
    dlg.count.setValue(16)
    qtbot.waitUntil(lambda: sum(f.isVisible() for f in dlg.custodian_fields) == 16,
                    timeout=3000)
    dlg.adjustSize()
    assert dlg.width() <= 1024 and dlg.height() <= 700
    assert dlg.minimumSizeHint().height() <= 700
    # the last name can be reached (scrolled to) and typed in, the buttons still in the dialog
    last = dlg.custodian_fields[15]
    last.setFocus()
    dlg.names_scroll.ensureWidgetVisible(last)
    assert last.visibleRegion().boundingRect().height() > 0
    assert dlg.rect().contains(dlg.buttons.geometry())
    dlg.count.setValue(3)
    assert sum(f.isVisible() for f in dlg.custodian_fields) == 3
    dlg.reject()
