"""The Dashboard's officer box and the status line say the officer's standing in the same
words ("ARO, register entry ARO-0001"), and "claimed" goes once the register confirms the
role (an active entry); it stays while no entry, or no active one, backs it."""

from __future__ import annotations

from smki_desktop.core.environment import Environment
from smki_desktop.core.officers import Officer, OfficerRole, OfficerStatus
from smki_desktop.core.party import OfficerProfile
from smki_desktop.core.party import OfficerRole as ProfileRole
from smki_desktop.gui.pages.dashboard import Page, officer_standing
from smki_desktop.services.dashboard import Facts
from smki_desktop.services.standing import status_words

PROFILE = OfficerProfile("Alex Officer", ProfileRole.ARO, "alex@acme.example", "ARO-0001")


def _entry(status: OfficerStatus) -> Officer:
    return Officer("ARO-0001", OfficerRole.ARO, Environment.TEST, status, "Alex Officer",
                   "alex@acme.example", "Acme", "ACME")


def test_a_linked_active_officer_is_not_claimed_and_reads_as_the_status_line(  # type: ignore[no-untyped-def]
        qtbot, window) -> None:
    page = window.go_to("Dashboard")
    assert isinstance(page, Page)
    qtbot.waitUntil(window.jobs.idle, timeout=20000)  # its reads
    page._show_facts(Facts(None, PROFILE, [], 0))
    page._show_register((officer_standing(PROFILE, _entry(OfficerStatus.ACTIVE)), "", []))
    box = page.officer_label.text() + " " + page.register_label.text()
    assert "claimed" not in box.lower(), box
    words = status_words(PROFILE, _entry(OfficerStatus.ACTIVE)).split("(", 1)[1].rstrip(")")
    assert words == "ARO, register entry ARO-0001"
    assert words in page.register_label.text(), page.register_label.text()


def test_claimed_stays_until_the_register_backs_the_role() -> None:
    assert officer_standing(None, None) == ""
    assert officer_standing(PROFILE, None).startswith("Claimed ARO — register entry ARO-0001")
    unlinked = OfficerProfile("Alex Officer", ProfileRole.ARO)
    assert officer_standing(unlinked, None).startswith("Claimed ARO — not linked")
    suspended = officer_standing(PROFILE, _entry(OfficerStatus.SUSPENDED))
    assert "ARO, register entry ARO-0001" in suspended and "suspended" in suspended
    assert "grants nothing" in suspended
    # the status bar's shorter words say the same standing
    bar = status_words(PROFILE, _entry(OfficerStatus.SUSPENDED))
    assert bar == "Alex Officer (ARO, register entry ARO-0001 — suspended, the role grants nothing)"
    assert "not yet active (nominated)" in status_words(PROFILE, _entry(OfficerStatus.NOMINATED))
    nominated = officer_standing(PROFILE, _entry(OfficerStatus.NOMINATED))
    assert "not yet active (nominated)" in nominated
    assert "revoked" in status_words(PROFILE, _entry(OfficerStatus.REVOKED))
    # a profile naming an entry the register lacks is claimed, and says which entry
    assert "ARO-0001 is not in the officer register" in status_words(PROFILE, None)
    assert "ARO-0001 is not in the officer register" in officer_standing(PROFILE, None)
