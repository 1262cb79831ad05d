"""Readiness checklists per certificate type agree with officers and recorded milestones."""

from __future__ import annotations

from smki_desktop.core.environment import Environment
from smki_desktop.core.officers import Credential, Officer, OfficerRole, OfficerStatus
from smki_desktop.core.readiness import CertType, Milestone, ReadinessFacts, all_checklists


def mk(oid, role, status=OfficerStatus.ACTIVE, creds=()):
    return Officer(oid, role, Environment.TEST, status, oid, f"{oid}@x.example", "Org", "EXEN",
                   credentials=creds)


CRED = (Credential("aa" * 32, "key", "k", "2026-11-01T00:00:00+00:00"),)


def by_code(cl):
    return {i.code: i for i in cl.items}


def test_nothing_recorded_everything_missing_with_next_steps():
    cls = all_checklists(Environment.TEST, ReadinessFacts(None, {}), [])
    assert [c.cert_type for c in cls] == [CertType.ORGANISATION, CertType.DEVICE]
    for c in cls:
        assert not c.ready
        for item in c.items:
            assert not item.ok and item.next_step
    assert by_code(cls[0])["org-verified"].hint == "readiness.org-verified"
    assert all(item.hint for c in cls for item in c.items)  # each face says where


def test_ready_when_all_in_place_per_type():
    facts = ReadinessFacts(Milestone("2026-10-01", "ORG-1"),
                           {CertType.ORGANISATION: Milestone("2026-11-01", "SREPT-9")})
    officers = [mk("S1", OfficerRole.SRO, creds=CRED), mk("A1", OfficerRole.ARO, creds=CRED)]
    org, dev = all_checklists(Environment.TEST, facts, officers)
    assert org.ready, [i for i in org.items if not i.ok]
    assert not dev.ready and [i.code for i in dev.items if not i.ok] == ["srept"]
    assert "SREPT-9" in by_code(org)["srept"].detail


def test_suspended_or_credentialless_officers_do_not_count():
    facts = ReadinessFacts(Milestone("2026-10-01"), {})
    officers = [mk("S1", OfficerRole.SRO, OfficerStatus.SUSPENDED, CRED),
                mk("A1", OfficerRole.ARO)]
    org = by_code(all_checklists(Environment.TEST, facts, officers)[0])
    assert not org["sro-active"].ok and org["aro-active"].ok
    assert not org["test-officers"].ok and "test SRO and test ARO" in org["test-officers"].detail


def test_live_has_no_test_officer_item():
    cl = all_checklists(Environment.LIVE, ReadinessFacts(None, {}), [])[0]
    assert "test-officers" not in by_code(cl)


def test_next_steps_name_the_environment_in_live():
    """Following a Live hint must record into Live: `smki` defaults to Test. The checklist is
    face-neutral; the CLI names its command for each item's hint."""
    from smki_desktop.cli.commands.readiness import _command

    none = ReadinessFacts(None, {})
    live = [_command(i, c) for c in all_checklists(Environment.LIVE, none, []) for i in c.items]
    test = [_command(i, c) for c in all_checklists(Environment.TEST, none, []) for i in c.items]
    assert not any("smki" in i.next_step for c in all_checklists(Environment.LIVE, none, [])
                   for i in c.items)
    commands = [s for s in live if "smki " in s]
    assert len(commands) >= 4
    for s in commands:
        assert "smki --env live " in s and "smki readiness" not in s \
            and "smki officer" not in s, s
    assert any("smki --env live readiness set --org-verified" in s for s in live)
    assert any("smki --env live readiness set --type device" in s for s in live)
    assert any("smki --env live officer nominate --form sro" in s for s in live)
    assert any("smki --env live officer nominate --form aro" in s for s in live)
    assert not any("--env" in s for s in test)
    assert any("smki readiness set --org-verified" in s for s in test)
    assert any("smki officer link-key" in s for s in test)


def test_an_officer_already_on_the_register_is_the_next_step_not_a_new_nomination():
    """After the Test walkthrough the officer's own ARO entry is verified, not active: the
    checklist said "An active SRO nominates an ARO", which the officer had already done."""
    facts = ReadinessFacts(None, {})
    officers = [mk("SRO-0001", OfficerRole.SRO, creds=CRED),
                mk("ARO-0001", OfficerRole.ARO, OfficerStatus.VERIFIED, CRED),
                mk("ARO-0002", OfficerRole.ARO, OfficerStatus.NOMINATED)]
    aro = by_code(all_checklists(Environment.TEST, facts, officers)[0])["aro-active"]
    assert not aro.ok and aro.detail == "no active ARO"
    assert aro.next_step == ("ARO-0001 (ARO-0001): verified, not yet active — activate them by "
                             "an active SRO, signed with the SRO's file-signing credential.")
    assert aro.hint == "officer.activate"
    nominated = [mk("SRO-0002", OfficerRole.SRO, OfficerStatus.NOMINATED)]
    sro = by_code(all_checklists(Environment.TEST, facts, nominated)[0])["sro-active"]
    assert sro.next_step.startswith("SRO-0002 (SRO-0002): nominated — hold the verification")
    assert sro.hint == "officer.verify"
    verified = [mk("SRO-0003", OfficerRole.SRO, OfficerStatus.VERIFIED)]
    sro = by_code(all_checklists(Environment.TEST, facts, verified)[0])["sro-active"]
    assert "on their verification record" in sro.next_step and sro.hint == "officer.activate"
    live = [mk("ARO-0009", OfficerRole.ARO, OfficerStatus.VERIFIED)]  # Test entries only
    aro = by_code(all_checklists(Environment.LIVE, facts, live)[0])["aro-active"]
    assert aro.hint == "officer.nominate.aro"


def test_a_verified_officer_asked_to_sign_is_told_what_unblocks_it():
    import pytest

    from smki_desktop.core.errors import Refusal
    from smki_desktop.core.identity import Signatory, check_may_act

    aro = Signatory.of(mk("ARO-0001", OfficerRole.ARO, OfficerStatus.VERIFIED))
    with pytest.raises(Refusal) as got:
        check_may_act(aro, Environment.TEST, tuple(OfficerRole), what="a register activation")
    assert got.value.message.endswith(
        "ARO-0001 (ARO-0001) is verified in the register. An active SRO activates the entry "
        "first, signed with the SRO's own credential; then sign again.")
    assert got.value.hint == "officer.activate"
    sro = Signatory.of(mk("SRO-0001", OfficerRole.SRO, OfficerStatus.VERIFIED))
    with pytest.raises(Refusal) as got:
        check_may_act(sro, Environment.TEST, tuple(OfficerRole), what="an approval")
    assert "an SRO's first activation rests on the verification record" in got.value.message
    suspended = Signatory.of(mk("ARO-0002", OfficerRole.ARO, OfficerStatus.SUSPENDED))
    with pytest.raises(Refusal) as got:
        check_may_act(suspended, Environment.TEST, tuple(OfficerRole), what="an approval")
    assert got.value.message.endswith("is suspended in the register.") and not got.value.hint
