"""The wizard's "Hardware token" choice, greyed out when no PKCS#11 module is configured, says
why and where to set one, in visible text and in its tooltip (it was greyed out with no
reason given)."""

from __future__ import annotations

from smki_desktop.core.eui import EuiRange
from smki_desktop.core.party import PartyProfile, PartyType
from smki_desktop.gui.qt import QLabel, Qt
from smki_desktop.services.party import set_party


def test_the_greyed_out_token_choice_says_why(window, qtbot) -> None:  # type: ignore[no-untyped-def]
    from smki_desktop.gui.wizards.org_csr import OrgCsrWizard

    own = EuiRange.parse("90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF")
    set_party(window.services.ctx, PartyProfile(name="Acme Energy", party_id="ACME",
                                                party_type=PartyType("gas-supplier"),
                                                eui_ranges=(own,)))
    dlg = OrgCsrWizard(window.services, window)
    qtbot.addWidget(dlg)
    dlg.show()
    qtbot.waitExposed(dlg)
    qtbot.keyClick(dlg, Qt.Key.Key_Return)  # supplier, signing
    qtbot.keyClick(dlg, Qt.Key.Key_Return)  # EUI from the party's range
    assert dlg.state.name == "key"
    assert not dlg.loc_token.isEnabled()

    shown = [lbl.text() for lbl in dlg.findChildren(QLabel) if lbl.isVisible()]
    reason = next((t for t in shown if "PKCS#11 module" in t), "")
    assert "Settings › Tokens" in reason, shown
    assert "PKCS#11 module" in dlg.loc_token.toolTip()
    assert "Settings › Tokens" in dlg.loc_token.toolTip()
    dlg.reject()
