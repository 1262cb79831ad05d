"""The officer profile's name and email are one line of plain text, as the Party profile's
name is; a Party or officer profile stored before that rule still opens, its control or
format characters named ("[U+202E]") wherever it is shown, and the setup list asks for it to
be saved again."""

from __future__ import annotations

import pytest

from smki_desktop.core.errors import InputError
from smki_desktop.core.party import OfficerProfile, OfficerRole
from smki_desktop.services import party as party_service
from smki_desktop.store.repos import settings as settings_repo

RANGE = "90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF"
RAW = ("\u202e", "\x1b", "\n", "\x07")


@pytest.mark.parametrize(("name", "email", "said"), [
    ("Ann \u202eeeL", "", "Officer name: holds the control or format character U+202E"),
    ("Ann\nSignature: B. Boss", "", "Officer name: holds the control or format character "
                                    "U+000A"),
    ("Ann Lee", "ann@example.com\n", "Email: holds the control or format character U+000A"),
    ("Ann Lee", "a\x1b[31m@example.com", "Email: holds the control or format character "
                                         "U+001B"),
])
def test_an_officer_name_or_email_that_is_not_plain_text_is_refused(
        ctx, name: str, email: str, said: str) -> None:  # type: ignore[no-untyped-def]
    """The name is every audit record's actor, printed by `audit list` and the Audit page."""
    with pytest.raises(InputError) as exc:
        party_service.set_officer(ctx, OfficerProfile(name, OfficerRole.ARO, email))
    assert exc.value.message.startswith(said), exc.value.message
    assert ctx.officer() is None
    assert not ctx.audit.entries(action_prefix="profile.set")
    assert any(m.startswith(said) for m in OfficerProfile.problems(name, email))


def test_the_command_line_refuses_it_naming_the_field(cli_run) -> None:  # type: ignore[no-untyped-def]
    r = cli_run("profile", "set", "--name", "Eve\u202eevE", "--role", "aro")
    assert r.code == 2 and "Officer name" in r.err and "U+202E" in r.err, r.err
    assert "\u202e" not in r.err
    assert cli_run("profile", "show").code == 1


def _store_earlier(ctx) -> None:  # type: ignore[no-untyped-def]
    """Profiles saved by a version before the rule, as they sit in the database."""
    settings_repo.save_profile(ctx.db, "party", ctx.env.value, {
        "name": "Acme \u202eygrenE", "party_id": "ACME01", "party_type": "import-supplier",
        "eui_ranges": [RANGE], "signifier": "", "device_ranges": []}, "2026-01-01T00:00:00")
    settings_repo.save_profile(ctx.local_db(create=True), "officer", ctx.env.value, {
        "name": "Ann\x1b[2J Lee", "role": "aro", "email": "ann@example.com\n",
        "register_id": ""}, "2026-01-01T00:00:00")


def test_a_profile_stored_earlier_opens_and_is_shown_with_its_characters_named(
        ctx, cli_run) -> None:  # type: ignore[no-untyped-def]
    _store_earlier(ctx)
    assert ctx.party() is not None and ctx.party().name == "Acme [U+202E]ygrenE"
    officer = ctx.officer()
    assert officer is not None and officer.name == "Ann[U+001B][2J Lee"
    assert officer.email == "ann@example.com"
    for args in (("party", "show"), ("profile", "show"), ("--json", "party", "show")):
        r = cli_run(*args)
        assert r.code == 0, r.err
        assert "[U+202E]" in r.out or "[U+001B]" in r.out, r.out
        assert not any(c in r.out for c in RAW[:2]), r.out
    # an action's record names the officer as shown, never with the raw escape
    assert cli_run("key", "generate", "--usage", "signing", "--label", "k").code == 0
    listed = cli_run("audit", "list")
    assert "Ann[U+001B][2J Lee (ARO)" in listed.out and "\x1b" not in listed.out


def test_the_setup_list_asks_for_such_a_profile_to_be_saved_again(ctx) -> None:  # type: ignore[no-untyped-def]
    _store_earlier(ctx)
    steps = {s.hint: s.text for s in party_service.missing_setup_steps(ctx)}
    assert "the organisation name holds the control or format character U+202E" \
        in steps["party.set"], steps
    assert "the name holds the control or format character U+001B" in steps["profile.set"]
    assert "the email holds the control or format character U+000A" in steps["profile.set"]
    assert not any(c in text for text in steps.values() for c in RAW)
    # saved again (the shown text, or a corrected one): plain, and no longer listed
    party = ctx.party()
    assert party is not None
    party_service.set_party(ctx, party)
    party_service.set_officer(ctx, OfficerProfile("Ann Lee", OfficerRole.ARO))
    assert not [s for s in party_service.missing_setup_steps(ctx)
                if "plain text" in s.text]
