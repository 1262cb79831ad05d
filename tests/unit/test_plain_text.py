"""The one-line plain text rule shared by every field an officer types."""

from __future__ import annotations

import pytest

from smki_desktop.core.errors import InputError
from smki_desktop.core.plain_text import bad_char, check_plain, visible


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


@pytest.mark.parametrize(("text", "shown"), [
    ("Ada Lovelace", "Ada Lovelace"), ("Zoë", "Zoë"), ("Eve\u202eyek", "Eve[U+202E]yek"),
    ("k\x1b[2J", "k[U+001B][2J"), ("a\nb\r", "a[U+000A]b[U+000D]"), ("x\udcff", "x[U+DCFF]"),
])
def test_visible_names_each_refused_character_and_keeps_the_rest(text: str, shown: str) -> None:
    """Text written by someone else is shown with its refused characters named, never raw."""
    assert visible(text) == shown
    assert bad_char(visible(text)) is None
