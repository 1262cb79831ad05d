"""The one canonical serialisation against the forms an attacker would try: every form that is
not the canonical one, or that another JSON reader would read differently, is bad input
(InputError, exit 2) — never a crash and never a second accepted spelling."""

from __future__ import annotations

import pytest

from smki_desktop.core.canonical import canonical_bytes, parse_canonical
from smki_desktop.core.errors import InputError


@pytest.mark.parametrize("data", [
    b'{"a":"\\ud800"}',            # a lone surrogate: no UTF-8 form at all
    b'{"a":1,"a":1}',              # duplicate keys
    b'{"a":1.0}', b'{"a":1e2}', b'{"a":NaN}', b'{"a":Infinity}',  # number forms
    b'{"a":-0}', b'{"a":01}',
    b'{"a":"\\u00e9"}',            # an escape where the character itself is canonical
    b'{ "a":1}', b'{"a":1}\n',     # whitespace
    b'\xef\xbb\xbf{"a":1}',        # a byte-order mark
    b'{"b":1,"a":2}',              # key order
    b'{"a":9007199254740993}',     # beyond the integers every JSON reader holds exactly
])
def test_non_canonical_or_ambiguous_forms_are_bad_input(data: bytes) -> None:
    with pytest.raises(InputError):
        parse_canonical(data, "signed object")


def test_writing_refuses_what_reading_would_refuse() -> None:
    with pytest.raises(InputError):
        canonical_bytes({"a": "\ud800"})
    with pytest.raises(InputError):
        canonical_bytes({"a": 2**60})
    assert parse_canonical(canonical_bytes({"a": "é", "n": 2**53}), "x") == {"a": "é",
                                                                            "n": 2**53}
