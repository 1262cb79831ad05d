"""Every DCC web-service message parser (`core.ws_xml`): XML with entities, DTDs, odd
encodings, depth and size, and schema-shaped trees with hostile values, end in an
`XmlMessageError` (an `InputError`), never a traceback or a hang."""

from __future__ import annotations

import base64
from xml.sax.saxutils import escape, quoteattr

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smki_desktop.core import ws_xml as W
from tests.fuzz.corpus import HOSTILE_TEXT, XML_LABELS, seeds, xml_case
from tests.fuzz.harness import FUZZ, clean_end

MESSAGES = {name: obj for name, obj in sorted(vars(W).items())
            if isinstance(obj, type) and obj.__module__ == W.__name__
            and not issubclass(obj, Exception) and callable(getattr(obj, "parse", None))}
"""Every message type with a parser (found, not listed: the set grows with the DCC's)."""

_CERT = base64.b64encode(b"\x30\x03\x02\x01\x01").decode()
_SEED_B64 = [base64.b64encode(
    b"".join(ln for ln in s.splitlines() if not ln.startswith(b"-----"))).decode()
    for s in seeds().values()]
leaf_text = st.one_of(
    st.sampled_from(["1", "0", "-1", "99999999999999999999999999", "COMPLETED", "PENDING",
                     "ISSUED", "REJECTED", "IN_PROGRESS", "E1:Bad", "XX:" + "x" * 40, _CERT,
                     "not base64!", "====", *_SEED_B64]),
    st.sampled_from([t for t in HOSTILE_TEXT if "\0" not in t and "\udc80" not in t
                     and len(t) < 1000 and "\r" not in t and "\t" not in t]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]),
            max_size=30),
)


@st.composite
def tree(draw: st.DrawFn, tag: str, depth: int = 0) -> str:
    """A tree shaped like the schema (counts sometimes out of bounds), with hostile text."""
    attrs, children = W._SCHEMA.get(tag, (W._LEAF_ATTRS.get(tag, ()), []))
    attr_text = "".join(f" {a}={quoteattr(draw(leaf_text))}" for a in attrs
                        if draw(st.integers(0, 9)) > 0)
    if not children or depth > 3:
        return f"<{tag}{attr_text}>{escape(draw(leaf_text))}</{tag}>"
    parts = []
    for name, lo, hi in children:
        n = draw(st.integers(max(0, lo - 1), min(hi, 2) + 1))
        parts += [draw(tree(name, depth + 1)) for _ in range(n)]
    if draw(st.integers(0, 9)) == 0:
        parts.append(draw(tree(draw(st.sampled_from(list(W._SCHEMA))), depth + 1)))
    order = draw(st.permutations(parts)) if draw(st.integers(0, 4)) == 0 else parts
    return f"<{tag}{attr_text}>{''.join(order)}</{tag}>"


@pytest.mark.parametrize("label", XML_LABELS)
def test_xml_corpus(label: str) -> None:
    for name, msg in MESSAGES.items():
        data = xml_case(label, name)
        clean_end(f"portal XML ({name})", msg.parse, data, input_error=True)


@pytest.mark.parametrize("name", MESSAGES)
@FUZZ
@given(data=st.data())
def test_xml_schema_shaped_property(name: str, data: st.DataObject) -> None:
    root = name if name in W._SCHEMA else data.draw(st.sampled_from(sorted(W._SCHEMA)))
    xml = data.draw(tree(root))
    enc = data.draw(st.sampled_from(["utf-8", "utf-16"]))
    body = (f'<?xml version="1.0" encoding="{enc.upper()}"?>' + xml).encode(enc)
    clean_end(f"portal XML ({name})", MESSAGES[name].parse, body, input_error=True)


@FUZZ
@given(data=st.binary(max_size=512))
def test_xml_bytes_property(data: bytes) -> None:
    clean_end("portal XML (CSRBatchResult)", W.CSRBatchResult.parse, b"<CSRBatchResult>" + data,
              input_error=True)
