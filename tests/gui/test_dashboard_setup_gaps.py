"""The Dashboard's set-up summary claims no readiness it lacks: in Live with a Party profile,
an officer profile and two keys, but no register entry, no file-signing credential and no
portal endpoint, it said "Everything basic is in place. 2 key(s)". It now lists what is
missing, each with where to set it up."""

from __future__ import annotations

from smki_desktop.core.eui import EuiRange
from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.core.party import OfficerProfile, PartyProfile, PartyType
from smki_desktop.core.party import OfficerRole as ProfileRole
from smki_desktop.gui.pages.dashboard import Page
from smki_desktop.services.party import set_officer, set_party


def test_live_dashboard_lists_what_is_missing_beyond_profiles_and_keys(  # type: ignore[no-untyped-def]
        live_window, qtbot) -> None:
    ctx = live_window.services.ctx
    set_party(ctx, PartyProfile("Acme Energy Ltd", "ACME", PartyType.IMPORT_SUPPLIER, (
        EuiRange.parse("90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF"),)))
    set_officer(ctx, OfficerProfile("Alice Officer", ProfileRole.ARO))
    for label in ("live one", "live two"):
        ctx.keystore.generate(KeyType.EC_P256, KeyUsage.SIGNING, label)
    page = live_window.go_to("Dashboard")
    assert isinstance(page, Page)
    qtbot.waitUntil(live_window.jobs.idle, timeout=20000)
    page.refresh()
    qtbot.waitUntil(live_window.jobs.idle, timeout=20000)
    text = page.todo_label.text()
    assert "Everything basic is in place" not in text, text
    assert page.todo_box.title() == "Not set up yet"
    assert "not linked to an entry in the officer register" in text
    assert "file-signing credential" in text and "Settings → Portal" in text
    assert "No DCC portal endpoint is set for the Live environment" in text
