"""Officer register rules: who may nominate an ARO, verification before activation,
suspension/revocation flags keys, and the register's warnings."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pytest

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError, Refusal
from smki_desktop.core.officers import (
    Credential,
    Officer,
    OfficerRole,
    OfficerStatus,
    Policy,
    Verification,
    activate,
    check_aro_nomination,
    check_not_duplicate,
    check_sro_nomination,
    organisation_warning,
    record_verification,
    register_warnings,
    revoke,
    suspend,
)

T, L = Environment.TEST, Environment.LIVE
POLICY = Policy()
TODAY = dt.date(2026, 11, 22)
GOOD = Verification("2026-11-01", "Vera Verifier",
                    ("photo-id", "photo-id-validated", "second-evidence", "face-match"),
                    "passed")


def officer(oid="SRO-0001", role=OfficerRole.SRO, env=T, status=OfficerStatus.ACTIVE, **kw):
    base = dict(name="Alice Example", email="alice@example.com", organisation="Example Energy Ltd",
                party_id="EXEN")
    base.update(kw)
    return Officer(officer_id=oid, role=role, environment=env, status=status, **base)


def aro_check(nominator, env=T, declared="test", **kw):
    args = dict(nominee_name="Bob Example", nominee_email="bob@example.com",
                nominee_org="Example Energy Ltd", nominee_party="EXEN", nominator=nominator,
                nominator_ref=nominator.officer_id if nominator else "SRO-9999",
                self_nomination_declared=False)
    args.update(kw)
    return check_aro_nomination(env, declared, **args)


def test_aro_by_active_sro_same_org_and_env_accepted():
    assert aro_check(officer()) is False


def test_aro_by_suspended_sro_refused_naming_rule():
    with pytest.raises(Refusal, match=r"Rule: an ARO is nominated by an active SRO.*suspended"):
        aro_check(officer(status=OfficerStatus.SUSPENDED))


def test_live_aro_by_test_sro_refused():
    with pytest.raises(Refusal, match=r"same environment.*Test SRO.*Live nomination"):
        aro_check(officer(env=T), env=L, declared="live")


def test_declared_environment_must_match():
    with pytest.raises(Refusal, match="Test and Live nominations are separate"):
        aro_check(officer(), env=T, declared="live")
    with pytest.raises(Refusal, match="separate records"):
        check_sro_nomination(L, "test", "director")


def test_other_refusals():
    with pytest.raises(Refusal, match="not in the Test officer register"):
        aro_check(None)
    with pytest.raises(Refusal, match="is an ARO"):
        aro_check(officer(role=OfficerRole.ARO))
    with pytest.raises(Refusal, match="same Party") as exc:
        aro_check(officer(), nominee_org="Other Power plc", nominee_party="OTHR")
    assert "EXEN" in exc.value.message and "OTHR" in exc.value.message
    with pytest.raises(Refusal, match="Director or Company Secretary"):
        check_sro_nomination(T, "test", "ceo")
    check_sro_nomination(T, "test", "company-secretary")


def test_organisation_name_of_the_same_party_is_a_warning_not_a_refusal():
    """The Party ID is the identity: "Example Energy" and "Example Energy Ltd" (same Party
    EXEN) is one organisation; the form prints the name as typed, so the officer is told of
    both spellings."""
    sro = officer(organisation="Example Energy")
    for spelling in ("Example Energy Ltd", "EXAMPLE  energy limited", "Example Energy PLC",
                     "Example-Energy Ltd.", "Other Power plc"):
        assert aro_check(sro, nominee_org=spelling) is False  # accepted
        warning = organisation_warning(spelling, sro, "Example Energy")
        assert warning and repr(spelling) in warning and "'Example Energy'" in warning
        assert "EXEN" in warning
    assert organisation_warning("Example Energy", sro, "Example Energy") == ""
    assert organisation_warning(" example  energy", sro, "Example Energy") == ""
    # a legal suffix or punctuation only: said so; another name altogether: said more strongly
    assert "same name" in organisation_warning("Example Energy Ltd", sro, "Example Energy")
    assert "not the same name" in organisation_warning("Other Power plc", sro, "Example Energy")


def test_self_nomination_must_be_recorded():
    sro = officer()
    with pytest.raises(Refusal, match="self-nomination"):
        aro_check(sro, nominee_name="Alice Example", nominee_email="ALICE@example.com")
    assert aro_check(sro, nominee_name="Alice Example", nominee_email="alice@example.com",
                     self_nomination_declared=True) is True
    with pytest.raises(Refusal, match="not the nominating SRO"):
        aro_check(sro, self_nomination_declared=True)


def test_activation_needs_completed_verification():
    o = officer("ARO-0001", OfficerRole.ARO, status=OfficerStatus.NOMINATED)
    with pytest.raises(Refusal, match="no completed verification meeting cannot be activated"):
        activate(o, "2026-11-22T00:00:00+00:00")
    failed = record_verification(o, replace(GOOD, outcome="failed"), POLICY, today=TODAY)
    assert failed.status is OfficerStatus.NOMINATED
    with pytest.raises(Refusal, match="cannot be activated"):
        activate(failed, "x")
    v = record_verification(o, GOOD, POLICY, today=TODAY)
    assert v.status is OfficerStatus.VERIFIED
    a = activate(v, "2026-11-22T00:00:00+00:00")
    assert a.status is OfficerStatus.ACTIVE


def test_verification_meeting_dated_before_nomination_or_in_future_refused():
    o = officer("ARO-0001", OfficerRole.ARO, status=OfficerStatus.NOMINATED,
                nominated_on="2026-11-10")
    with pytest.raises(Refusal) as exc:
        record_verification(o, replace(GOOD, date="2026-11-09"), POLICY, today=TODAY)
    msg = exc.value.message
    assert "verification date" in msg and "2026-11-09" in msg and "2026-11-10" in msg
    assert "nomination date" in msg
    with pytest.raises(InputError, match=r"verification date: 2026-11-23 is in the future "
                                         r"\(today is 2026-11-22\)"):
        record_verification(o, replace(GOOD, date="2026-11-23"), POLICY, today=TODAY)
    # the nomination day itself and today are both fine
    assert record_verification(o, replace(GOOD, date="2026-11-10"), POLICY,
                               today=TODAY).status is OfficerStatus.VERIFIED
    assert record_verification(o, replace(GOOD, date="2026-11-22"), POLICY,
                               today=TODAY).status is OfficerStatus.VERIFIED


def test_activation_refuses_an_entry_with_inconsistent_recorded_dates():
    """A register written before the dates were checked: a meeting recorded before the
    nomination (or after the activation's day) does not let the officer be activated."""
    o = officer("ARO-0001", OfficerRole.ARO, status=OfficerStatus.VERIFIED,
                nominated_on="2026-11-20", verification=GOOD)  # GOOD: 2026-11-01
    with pytest.raises(Refusal) as exc:
        activate(o, "2026-11-22T00:00:00+00:00")
    msg = exc.value.message
    assert "cannot be activated" in msg and "2026-11-01" in msg and "2026-11-20" in msg
    assert "Record the verification meeting again" in msg
    future = replace(o, nominated_on="2026-10-01",
                     verification=replace(GOOD, date="2026-12-01"))
    with pytest.raises(Refusal, match="in the future"):
        activate(future, "2026-11-22T00:00:00+00:00")
    good = replace(o, nominated_on="2026-10-01")
    assert activate(good, "2026-11-22T00:00:00+00:00").status is OfficerStatus.ACTIVE


def test_verification_needs_level3_evidence_and_valid_input():
    o = officer("ARO-0001", OfficerRole.ARO, status=OfficerStatus.NOMINATED)
    with pytest.raises(Refusal, match=r"GPG45 Level 3.*face-match"):
        record_verification(o, replace(GOOD, evidence=("photo-id", "photo-id-validated",
                                                       "second-evidence")), POLICY, today=TODAY)
    with pytest.raises(InputError, match="verification date"):
        record_verification(o, replace(GOOD, date="yesterday"), POLICY, today=TODAY)
    with pytest.raises(Refusal, match="revoked"):
        record_verification(replace(o, status=OfficerStatus.REVOKED), GOOD, POLICY, today=TODAY)


def test_suspend_and_revoke_flag_keys_and_need_reason():
    cred = Credential("ab" * 32, "key", "file-signing", "2026-11-01T00:00:00+00:00")
    o = officer("ARO-0001", OfficerRole.ARO, credentials=(cred,))
    with pytest.raises(InputError, match="reason"):
        suspend(o, " ", "t")
    s = suspend(o, "long-term sick leave", "t")
    assert s.status is OfficerStatus.SUSPENDED
    assert s.credentials[0].flagged == "suspended: long-term sick leave"
    back = activate(replace(s, verification=GOOD), "t1")
    assert back.status is OfficerStatus.ACTIVE and back.credentials[0].flagged == ""
    r = revoke(s, "leaver", "t2")
    assert r.status is OfficerStatus.REVOKED and r.credentials[0].flagged == "revoked: leaver"
    with pytest.raises(Refusal, match="already revoked"):
        revoke(r, "again", "t3")
    with pytest.raises(Refusal, match="cannot be activated"):
        activate(r, "t")


def test_warnings_cover_screening_dormant():
    today = dt.date(2026, 11, 22)
    old_cred = Credential("cd" * 32, "key", "ARO file key", "2026-01-01T00:00:00+00:00",
                          last_used="2026-03-01T10:00:00+00:00")
    fresh = Credential("ef" * 32, "key", "fresh", "2026-11-20T00:00:00+00:00")
    officers = [
        officer(),
        officer("ARO-0001", OfficerRole.ARO, screening_date="2022-01-01",
                credentials=(old_cred, fresh)),
        officer("ARO-0002", OfficerRole.ARO, screening_date="2026-01-01"),
        officer("ARO-0003", OfficerRole.ARO, status=OfficerStatus.NOMINATED),
        officer("SRO-L", env=L),
    ]
    ws = register_warnings(officers, T, today, POLICY)
    codes = [(w.code, w.officer_id) for w in ws]
    assert ("cover", "") in codes  # one active SRO in Test (the Live one does not count)
    assert sum(1 for w in ws if w.code == "cover") == 1  # two active AROs: enough
    assert ("screening", "ARO-0001") in codes
    assert ("screening", "ARO-0003") in codes  # none recorded
    assert ("screening", "ARO-0002") not in codes
    dormant = [w for w in ws if w.code == "dormant"]
    assert len(dormant) == 1 and "ARO file key" in dormant[0].message
    assert "Only 1 active SRO in Test" in next(w for w in ws if w.code == "cover").message


def test_duplicate_entry_refusal_reads_an_aro_an_sro():
    for role in (OfficerRole.ARO, OfficerRole.SRO):
        with pytest.raises(Refusal, match=rf"already has an {role.label} register entry"):
            check_not_duplicate([officer(role=role)], role, "ALICE@example.com")
    check_not_duplicate([officer(status=OfficerStatus.REVOKED)], OfficerRole.SRO,
                        "alice@example.com")
