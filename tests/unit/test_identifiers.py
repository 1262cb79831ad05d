"""EUI-64, ranges, roles, environments: parsing and the messages users see."""

import pytest

from smki_desktop.core.environment import Environment, require_same
from smki_desktop.core.errors import EnvironmentMismatch, InputError
from smki_desktop.core.eui import Eui64, EuiRange, require_in_ranges
from smki_desktop.core.roles import RemotePartyRole


@pytest.mark.parametrize("text", ["90-B3-D5-1F-30-01-00-00", "90b3d51f30010000",
                                  "90:b3:d5:1f:30:01:00:00", " 90-b3-d5-1f-30-01-00-00 ",
                                  "90 B3 D5 1F 30 01 00 00"])
def test_eui_forms_accepted_and_shown_canonically(text: str) -> None:
    eui = Eui64.parse(text)
    assert str(eui) == "90-B3-D5-1F-30-01-00-00"
    assert eui.octets == bytes.fromhex("90B3D51F30010000")
    assert eui.hex == "90B3D51F30010000"


@pytest.mark.parametrize("text,fragment", [
    ("90-B3-D5-1F-30-01-00", "16 hexadecimal digits"),
    ("90B3D51F3001000G", "16 hexadecimal digits"),
    ("90B3-D51F-3001-0000", "8 pairs"),
    ("90B3 D51F 3001 0000", "8 pairs"),
    ("90-B3-D5-1F:30:01:00:00", "mixes the separators '-' and ':'"),
    ("90-B3-D5-1F-30-01-00 00", "mixes the separators ' ' and '-'"),
    ("90--B3-D5-1F-30-01-00-00", "8 pairs"),
    ("", "16 hexadecimal digits"),
])
def test_bad_eui_refused_naming_field(text: str, fragment: str) -> None:
    with pytest.raises(InputError) as e:
        Eui64.parse(text, "--eui")
    assert "--eui" in e.value.message and fragment in e.value.message


def test_range_membership_and_refusal_names_range() -> None:
    r = EuiRange.parse("90-B3-D5-1F-30-01-00-00..90B3D51F3001FFFF")
    assert Eui64.parse("90B3D51F30010042") in r
    assert Eui64.parse("90B3D51F30020000") not in r
    with pytest.raises(InputError) as e:
        require_in_ranges(Eui64.parse("90B3D51F30020000"), [r])
    assert "90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF" in e.value.message
    with pytest.raises(InputError, match="first EUI is after the last"):
        EuiRange.parse("90B3D51F3001FFFF..90B3D51F30010000")


@pytest.mark.parametrize("text,role", [
    ("supplier", RemotePartyRole.SUPPLIER), ("02", RemotePartyRole.SUPPLIER),
    ("networkOperator", RemotePartyRole.NETWORK_OPERATOR),
    ("network-operator", RemotePartyRole.NETWORK_OPERATOR), ("7F", RemotePartyRole.OTHER),
    ("7f", RemotePartyRole.OTHER), ("xmlSign", RemotePartyRole.XML_SIGN),
    ("89", RemotePartyRole.DSP_XML_SIGN),
])
def test_roles_by_name_or_code(text: str, role: RemotePartyRole) -> None:
    assert RemotePartyRole.parse(text) is role


def test_role_ou_is_two_upper_hex_and_strict_from_ou() -> None:
    assert RemotePartyRole.OTHER.ou == "7F"
    assert RemotePartyRole.from_ou("87") is RemotePartyRole.XML_SIGN
    with pytest.raises(InputError):
        RemotePartyRole.from_ou("7f")
    with pytest.raises(InputError, match="not a Remote Party Role"):
        RemotePartyRole.parse("plumber")
    with pytest.raises(InputError, match="not a Remote Party Role"):
        RemotePartyRole.parse("09")


def test_environment_mismatch_names_both() -> None:
    assert Environment.parse("LIVE") is Environment.LIVE
    assert Environment.TEST.keyring_service == "smki-desktop/test"
    with pytest.raises(EnvironmentMismatch) as e:
        require_same(Environment.LIVE, Environment.TEST, "Key 1234")
    assert "Test" in e.value.message and "Live" in e.value.message
    with pytest.raises(InputError):
        Environment.parse("prod")
