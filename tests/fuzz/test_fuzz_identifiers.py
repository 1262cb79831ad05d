"""EUI-64, EUI ranges, roles, CSR and certificate PEM/DER/Base64: hostile text and bytes end
in a clear `SmkiError` (an `InputError` where the user typed it), never a traceback or a hang."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from smki_desktop.core.batch_formats import decode_base64_text
from smki_desktop.core.environment import Environment
from smki_desktop.core.eui import Eui64, EuiRange
from smki_desktop.core.roles import RemotePartyRole
from smki_desktop.crypto.certs import load_certificates
from smki_desktop.crypto.der import to_der
from smki_desktop.crypto.device_csr import check_device_csr
from smki_desktop.crypto.fields import extract_fields
from smki_desktop.crypto.lint import lint_bytes
from smki_desktop.profile_data import load_profile
from tests.fuzz.corpus import HOSTILE_TEXT, der_cases
from tests.fuzz.harness import FUZZ, clean_end

DER = der_cases()
PROFILE = load_profile(Environment.TEST)
TEXT_PARSERS = {
    "eui": Eui64.parse,
    "eui-range": EuiRange.parse,
    "role": RemotePartyRole.parse,
    "role-ou": RemotePartyRole.from_ou,
}
BYTE_PARSERS = {
    "der.to_der": to_der,
    "certs.load_certificates": load_certificates,
    "fields.extract_fields": extract_fields,
    "lint.lint_bytes": lambda b: lint_bytes(b, PROFILE),
    "batch.decode_base64_text": decode_base64_text,
    "device_csr.check_device_csr": lambda b: check_device_csr(b, ["ESME"]),
}


@pytest.mark.parametrize("name", TEXT_PARSERS)
@pytest.mark.parametrize("text", HOSTILE_TEXT, ids=range(len(HOSTILE_TEXT)))
def test_typed_identifiers_hostile_text(name: str, text: str) -> None:
    clean_end(name, TEXT_PARSERS[name], text, input_error=True)


@pytest.mark.parametrize("name", TEXT_PARSERS)
@FUZZ
@given(text=st.text(alphabet=st.characters(codec="utf-8"), max_size=64)
       | st.from_regex(r"[0-9A-Fa-f:\- .]{0,30}", fullmatch=True)
       | st.from_regex(r"[0-9A-Fa-f]{2}([-:][0-9A-Fa-f]{2}){0,9}(\.\..*)?", fullmatch=True))
def test_typed_identifiers_property(name: str, text: str) -> None:
    clean_end(name, TEXT_PARSERS[name], text, input_error=True)


def test_eui_round_trip_property() -> None:
    @FUZZ
    @given(st.binary(min_size=8, max_size=8), st.sampled_from(["-", ":", ""]))
    def prop(octets: bytes, sep: str) -> None:
        e = Eui64(octets)
        assert Eui64.parse(sep.join(f"{b:02x}" for b in octets)) == e
        assert Eui64.parse(str(e)) == e

    prop()


@pytest.mark.parametrize("name", BYTE_PARSERS)
def test_der_corpus(name: str) -> None:
    for _label, data in DER:
        clean_end(name, BYTE_PARSERS[name], data)


@pytest.mark.parametrize("name", BYTE_PARSERS)
@FUZZ
@given(data=st.binary(max_size=2048)
       | st.sampled_from([d for _l, d in DER]).flatmap(
           lambda d: st.tuples(st.just(d), st.integers(0, max(0, len(d) - 1)),
                               st.binary(min_size=1, max_size=4)).map(
               lambda t: t[0][:t[1]] + t[2] + t[0][t[1] + len(t[2]):])))
def test_der_property(name: str, data: bytes) -> None:
    clean_end(name, BYTE_PARSERS[name], data)
