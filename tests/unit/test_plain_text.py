"""The one-line plain text rule shared by every field an officer types."""

from __future__ import annotations

import pytest

from smki_desktop.core.errors import InputError
from smki_desktop.core.plain_text import bad_char, check_plain


@pytest.mark.parametrize(("text", "found"), [
    ("Ada Lovelace", None), ("Zoë O'Brien-Ünal", None), ("a\nb", "U+000A"),
    ("\u202eevil", "U+202E"), ("x\u200b", "U+200B"), ("bell\x07", "U+0007"),
    ("sep\u2028", "U+2028"), ("bad\udcff", "U+DCFF"),
])
def test_bad_char_names_the_first_refused_character(text: str, found: str | None) -> None:
    assert bad_char(text) == found


def test_check_plain_names_the_field_and_a_byte_that_is_not_utf8() -> None:
    assert check_plain("  Ada  ", "Label") == "Ada"
    with pytest.raises(InputError, match=r"^Label: holds the control or format character "
                                         r"U\+000A; one line of plain text only\.$"):
        check_plain("a\nb", "Label")
    with pytest.raises(InputError, match=r"^CN: holds a byte that is not UTF-8"):
        check_plain("Org\udcff", "CN")
