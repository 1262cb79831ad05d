"""Well-framed documents with hostile values: a valid document's keys kept (so the parser gets
past its format check) and each value swapped for a wrong type, NaN, a huge number or deep
nesting."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

WRONG: list[Any] = [None, True, 0, -1, 2**70, 1.5, float("nan"), float("inf"), "", "x" * 10_000,
                    [], {}, [None], {"": None}, "../../etc/passwd", "=cmd|' /C calc'!A0"]

wrong_value = st.one_of(
    st.sampled_from(WRONG),
    st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
                 lambda inner: st.lists(inner, max_size=3)
                 | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=8),
)


def mutated(doc: dict[str, Any], keep: tuple[str, ...] = ("format",)) -> st.SearchStrategy[bytes]:
    """Documents like `doc` with some values (not those in `keep`) replaced, serialised as JSON
    (NaN/Infinity written as Python's json does)."""
    keys = [k for k in doc if k not in keep]

    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        out = dict(doc)
        for k in draw(st.lists(st.sampled_from(keys), min_size=1, max_size=len(keys),
                               unique=True)):
            out[k] = draw(wrong_value)
        if draw(st.booleans()):
            sub = draw(st.sampled_from(keys))
            if isinstance(doc[sub], dict) and doc[sub]:
                inner = dict(doc[sub])
                inner[draw(st.sampled_from(list(inner)))] = draw(wrong_value)
                out[sub] = inner
            elif isinstance(doc[sub], list) and doc[sub] and isinstance(doc[sub][0], dict):
                inner = dict(doc[sub][0])
                inner[draw(st.sampled_from(list(inner)))] = draw(wrong_value)
                out[sub] = [inner]
        return json.dumps(out).encode()

    return build()


def deep(depth: int, doc: dict[str, Any], key: str) -> bytes:
    """`doc` with `key` nested `depth` lists deep (kept under the format check)."""
    head = json.dumps({**doc, key: None}).encode()
    return head.replace(f'"{key}": null'.encode(), f'"{key}": '.encode() + b"[" * depth
                        + b"]" * depth)
