"""The pure rules of identity and dual control: canonical serialisation, the approval rules
(no self-approval, an active SRO of the same Party and environment, expiry, states) and the
register's change rules (authority, own standing)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smki_desktop.core.approvals import (
    ApprovalRule,
    check_approver,
    check_reason,
    check_requester,
    request_state,
    rules_from_dict,
)
from smki_desktop.core.canonical import canonical_bytes, parse_canonical
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import EnvironmentMismatch, InputError, Refusal
from smki_desktop.core.identity import Signatory, check_credential_names
from smki_desktop.core.officers import OfficerRole, OfficerStatus
from smki_desktop.core.register import Standing, apply_change, change_body

T, L = Environment.TEST, Environment.LIVE
ARO = Signatory("ARO-0001", OfficerRole.ARO, OfficerStatus.ACTIVE, T, "EXEN", "Bob Aro",
                "bob@x.example")
SRO = Signatory("SRO-0001", OfficerRole.SRO, OfficerStatus.ACTIVE, T, "EXEN", "Alice Sro",
                "alice@x.example")
RULE = ApprovalRule("revocation")


def test_canonical_form_is_one_and_refuses_others() -> None:
    b = canonical_bytes({"b": 1, "a": ["é", None, True]})
    assert b == '{"a":["é",null,true],"b":1}'.encode()
    assert parse_canonical(b, "x") == {"a": ["é", None, True], "b": 1}
    with pytest.raises(InputError, match="not in canonical form"):
        parse_canonical(b'{"b": 1, "a": 2}', "x")
    with pytest.raises(InputError, match="floating-point"):
        canonical_bytes({"x": 1.5})


def test_approver_rules_each_name_their_rule() -> None:
    check_approver(RULE, T, "EXEN", ARO, SRO, T)
    with pytest.raises(Refusal, match="no self-approval"):
        check_approver(RULE, T, "EXEN", ARO, ARO, T)
    same_person = Signatory("SRO-0002", OfficerRole.SRO, OfficerStatus.ACTIVE, T, "EXEN",
                            "Bob Aro", "BOB@x.example")
    with pytest.raises(Refusal, match="no self-approval"):
        check_approver(RULE, T, "EXEN", ARO, same_person, T)
    other_aro = Signatory("ARO-0002", OfficerRole.ARO, OfficerStatus.ACTIVE, T, "EXEN", "C",
                          "c@x.example")
    with pytest.raises(Refusal, match="approved by an SRO"):
        check_approver(RULE, T, "EXEN", ARO, other_aro, T)
    suspended = Signatory("SRO-0003", OfficerRole.SRO, OfficerStatus.SUSPENDED, T, "EXEN", "D",
                          "d@x.example")
    with pytest.raises(Refusal, match="active SRO.*suspended"):
        check_approver(RULE, T, "EXEN", ARO, suspended, T)
    with pytest.raises(EnvironmentMismatch, match="Live request"):
        check_approver(RULE, L, "EXEN", ARO, SRO, L)
    with pytest.raises(Refusal, match="same Party"):
        check_approver(RULE, T, "OTHER", ARO, SRO, T)
    with pytest.raises(Refusal, match="requested by an ARO"):
        check_requester(SRO, T)
    with pytest.raises(InputError, match="Key compromise"):
        check_reason("stolen")


def test_reason_refusal_lists_the_words_shown_and_codes_stay_accepted() -> None:
    with pytest.raises(InputError) as exc:
        check_reason("stolen")
    msg = exc.value.message
    for words in ("Key compromise", "Affiliation changed", "Superseded", "Cessation of operation"):
        assert words in msg
    assert "affiliationChanged" not in msg and "cessationOfOperation" not in msg
    with pytest.raises(InputError) as exc:
        check_reason("  ")
    assert "Key compromise" in exc.value.message and "keyCompromise" not in exc.value.message
    for code in ("keyCompromise", "affiliationChanged", "superseded", "cessationOfOperation"):
        assert check_reason(code) == code
    assert check_reason("Key compromise") == "keyCompromise"  # the words shown, too
    assert check_reason("cessation of operation") == "cessationOfOperation"


def test_justification_must_say_something() -> None:
    from smki_desktop.services.revocation import check_justification

    for bad in ("x", "test", "..........", "  -- ?? --  ", "a.b.c.d.e.f.g"):
        with pytest.raises(InputError) as exc:
            check_justification(bad)
        assert exc.value.message.startswith("Justification:") and "10" in exc.value.message
    assert check_justification("  laptop stolen ") == "laptop stolen"
    assert check_justification("Key on PC-42 copied") == "Key on PC-42 copied"


def test_states_and_rules_as_data() -> None:
    now = datetime(2026, 12, 4, tzinfo=UTC)
    kw = dict(expires=now + timedelta(hours=1), now=now, needed=1, rejected=False,
              deferred=False, submitted=False, revoked=False)
    assert request_state(valid_approvals=0, **kw) == "waiting"  # type: ignore[arg-type]
    assert request_state(valid_approvals=1, **kw) == "approved"  # type: ignore[arg-type]
    kw["now"] = now + timedelta(hours=2)
    assert request_state(valid_approvals=1, **kw) == "expired"  # type: ignore[arg-type]
    rules = rules_from_dict({"org-csr": {"approvals_needed": 2,
                                         "enabled": {"test": False, "live": True}}})
    assert rules["org-csr"].approvals_needed == 2
    assert not rules["org-csr"].on(T) and rules["org-csr"].on(L)
    with pytest.raises(InputError):
        rules_from_dict({"x": {"approvals_needed": 0}})


def test_credential_must_name_the_officer() -> None:
    check_credential_names("ARO-0001", "aro-0001")
    with pytest.raises(Refusal, match="names SRO-0001, not ARO-0001"):
        check_credential_names("ARO-0001", "SRO-0001")
    with pytest.raises(Refusal, match="names none"):
        check_credential_names("ARO-0001", "")


def _reg() -> dict[str, Standing]:
    return {"SRO-0001": Standing("SRO-0001", OfficerRole.SRO, T, "EXEN", OfficerStatus.ACTIVE,
                                 True, "director"),
            "ARO-0001": Standing("ARO-0001", OfficerRole.ARO, T, "EXEN",
                                 OfficerStatus.VERIFIED, True)}


def test_register_changes_need_authority() -> None:
    reg = _reg()
    at = "2026-12-04T00:00:00+00:00"
    with pytest.raises(Refusal, match="activating an ARO needs an active SRO's signature"):
        apply_change(reg, change_body(env=T, officer_id="ARO-0001", action="activate", at=at))
    new = apply_change(reg, change_body(env=T, officer_id="ARO-0001", action="activate", at=at,
                                        signer="SRO-0001"))
    assert new.status is OfficerStatus.ACTIVE
    with pytest.raises(Refusal, match="no one changes their own standing"):
        apply_change(reg, change_body(env=T, officer_id="SRO-0001", action="suspend", at=at,
                                      signer="SRO-0001"))
    reg["ARO-0001"] = new
    with pytest.raises(Refusal, match="needs an SRO's signature; ARO-0001 is an ARO"):
        apply_change(reg, change_body(env=T, officer_id="SRO-0001", action="suspend", at=at,
                                      signer="ARO-0001"))
