"""`party_problems` / `OfficerProfile.problems`: every broken rule of a profile form at once,
by the same rules that refuse the profile (it is empty exactly when the profile saves)."""

from __future__ import annotations

import pytest

from smki_desktop.core.errors import InputError
from smki_desktop.core.eui import EuiRange
from smki_desktop.core.party import (
    OfficerProfile,
    OfficerRole,
    PartyProfile,
    PartyType,
    party_problems,
)

RANGE = "90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF"
INSIDE = "90-B3-D5-1F-30-01-00-10..90-B3-D5-1F-30-01-00-FF"


def test_every_field_is_named_at_once() -> None:
    found = party_problems("", "ab", ["zz", RANGE], "-bad-")
    assert [m.split(" ")[0] for m in found] == ["Organisation", "Party", "Signifier", "EUI-64"]
    assert "line 1" in found[3] and "'zz'" in found[3]


@pytest.mark.parametrize("name,party_id,lines,signifier", [
    ("Acme", "ABCD", [RANGE], ""),
    ("Acme", "ABCD", [RANGE], "ACME"),
    ("Acme", "ABCD", [RANGE, INSIDE], ""),
    ("Acme", "ABCD", [], ""),
    ("A" * 65, "ABCD", [RANGE], ""),
    ("Acme", "ABCD1234X", [RANGE], ""),
    ("Acme", "ABCD", [RANGE], "a" * 33),
    ("", "", [], ""),
])
def test_no_problems_exactly_when_the_profile_saves(name: str, party_id: str,
                                                    lines: list[str], signifier: str) -> None:
    found = party_problems(name, party_id, lines, signifier)
    try:
        PartyProfile(name, party_id, PartyType.OTHER_USER,
                     tuple(EuiRange.parse(ln) for ln in lines), signifier).check_new()
    except InputError as exc:
        assert exc.message in found, (exc.message, found)
    else:
        assert found == []


def test_the_officer_name_and_email_together() -> None:
    assert OfficerProfile.problems("", "x@") == [
        "Officer name: required.", "Email 'x@' is not an email address."]
    assert OfficerProfile.problems("Ann", "ann@acme.example") == []
    OfficerProfile("Ann", OfficerRole.ARO, "ann@acme.example")
