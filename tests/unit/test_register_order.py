"""A register change counts once and in order (`core.register.check_order`): a copy of a change
already applied, or a change dated before the officer's last applied one, is refused."""

from __future__ import annotations

import hashlib

import pytest

from smki_desktop.core.canonical import canonical_bytes
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import Refusal
from smki_desktop.core.register import LogOrder, change_body, check_order

T = Environment.TEST


def _change(action: str, at: str, nonce: str = "") -> tuple[dict, str]:  # type: ignore[type-arg]
    c = change_body(env=T, officer_id="ARO-0001", action=action, at=at, signer="SRO-0001",
                    nonce=nonce)
    return c, hashlib.sha256(canonical_bytes(c)).hexdigest()


def test_a_copy_of_an_applied_change_is_refused() -> None:
    order = LogOrder()
    act, d = _change("activate", "2026-12-01T10:00:00+00:00")
    check_order(order, act, d)
    order.note(act, d, 3)
    sus, d2 = _change("suspend", "2026-12-02T10:00:00+00:00")
    order.note(sus, d2, 4)
    with pytest.raises(Refusal, match="repeats register log entry 3"):
        check_order(order, act, d)


def test_a_change_older_than_the_officers_last_is_refused() -> None:
    order = LogOrder()
    sus, d = _change("suspend", "2026-12-02T10:00:00+00:00")
    order.note(sus, d, 4)
    old, d_old = _change("activate", "2026-12-01T10:00:00+00:00")
    with pytest.raises(Refusal, match="before ARO-0001's last applied change"):
        check_order(order, old, d_old)
    # the same second (a nomination carries microseconds, a signed change whole seconds) is
    # not earlier
    same, d_same = _change("activate", "2026-12-02T10:00:00.500000+00:00")
    check_order(order, same, d_same)


def test_a_nonce_keeps_two_alike_changes_in_one_second_apart() -> None:
    a, da = _change("suspend", "2026-12-02T10:00:00+00:00", nonce="aa")
    b, db = _change("suspend", "2026-12-02T10:00:00+00:00", nonce="bb")
    assert da != db and a["nonce"] == "aa" and b["nonce"] == "bb"
    # without one the body is as it always was (older logs verify unchanged)
    plain, _ = _change("suspend", "2026-12-02T10:00:00+00:00")
    assert "nonce" not in plain


def test_a_change_without_a_time_zone_is_refused() -> None:
    c, d = _change("suspend", "2026-12-02T10:00:00")
    with pytest.raises(Refusal, match="names no time zone"):
        check_order(LogOrder(), c, d)
