"""Cells of CSV reports that people open in a spreadsheet: text that a hostile input put there
(a zip member name, a CSV cell) must not be read as a formula (`=cmd|' /C calc'!A0`)."""

from __future__ import annotations

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def safe_cell(value: object) -> str:
    """`value` as text on one line (a CR or LF would start a new row where the writer does not
    quote it), with a leading apostrophe when it would start a formula (OWASP's advice for CSV
    injection); other text is unchanged."""
    text = "" if value is None else str(value)
    text = text.replace("\r", " ").replace("\n", " ")
    return "'" + text if text.lstrip(" ").startswith(_FORMULA_START) else text
