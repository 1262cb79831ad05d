"""The store pin's `heads` (core/team_pin.py): the last record of each other writer this
workstation read, checked before records are vouched for. A pin written before `heads` existed
loads with none (protection starts at the next read)."""

from __future__ import annotations

from smki_desktop.core.audit import StoredRow
from smki_desktop.core.team_pin import StorePin, heads_gone, see_heads


def _row(seq: int, writer: str, h: str) -> StoredRow:
    return StoredRow(seq, "t", "test", "a", "x", "{}", "{}", "p", h, writer, "sig")


def test_an_old_pin_without_heads_loads_and_round_trips() -> None:
    pin = StorePin.from_text('{"v": 1, "installation": "i", "store_id": "s", "seq": 3, '
                             '"hash": "ab", "seen_at": "", "lost": [], "breaks": [], '
                             '"acknowledged": []}')
    assert pin.seq == 3 and pin.heads == {}
    assert see_heads(pin, [_row(5, "w1", "h5"), _row(7, "w2", "h7"), _row(4, "w1", "h4")])
    assert pin.heads == {"w1": (5, "h5"), "w2": (7, "h7")}
    assert StorePin.from_text(pin.to_text()).heads == pin.heads
    assert not see_heads(pin, [_row(5, "w1", "h5")])  # nothing newer: no keyring write


def test_a_head_gone_or_changed_is_a_break_naming_its_writer() -> None:
    pin = StorePin("i", "s", heads={"w1": (5, "h5"), "w2": (7, "h7")})
    assert heads_gone(pin, {5: "h5", 7: "h7"}, 9, {}, "now") == []
    made = heads_gone(pin, {5: "h5", 7: "other"}, 7, {"w2": "inst-2"}, "now")
    assert made == [{"head_seq": 7, "head_hash": "h7", "found_seq": 7, "noticed": "now",
                     "writer": "w2", "installation": "inst-2"}]
    assert pin.breaks == made and pin.heads == {}
