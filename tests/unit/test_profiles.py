"""Profile documents: bundled Test/Live data, validation errors naming the field."""

from __future__ import annotations

import json

import pytest

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError
from smki_desktop.core.keys import KeyUsage
from smki_desktop.core.party import PartyType
from smki_desktop.core.profiles import parse_profile
from smki_desktop.core.roles import RemotePartyRole
from smki_desktop.profile_data import bundled_profile_path, load_profile


def test_bundled_profiles_load() -> None:
    test = load_profile(Environment.TEST)
    live = load_profile(Environment.LIVE)
    assert "1.2.826.0.1.8641679.1.2.1.4" in test.org_policy_oids
    assert "1.2.826.0.1.8641679.1.2.2.1" in test.hw_type_oids
    assert live.org_policy_oids == frozenset()  # Live values are unknown: never guessed
    assert not (test.org_policy_oids & live.org_policy_oids)


def test_every_party_type_has_rules() -> None:
    test = load_profile(Environment.TEST)
    for pt in PartyType:
        assert test.allowed_roles(pt.value), pt
    assert test.allowed_roles("import-supplier") == [RemotePartyRole.SUPPLIER,
                                                     RemotePartyRole.XML_SIGN]
    assert test.allowed_usages("import-supplier", RemotePartyRole.XML_SIGN) == [KeyUsage.SIGNING]


def test_round_trip() -> None:
    test = load_profile(Environment.TEST)
    again = parse_profile(json.dumps(test.to_json()), Environment.TEST)
    assert again == test


def test_errors_name_the_field() -> None:
    doc = json.loads(bundled_profile_path(Environment.TEST).read_text())
    doc["organisation"]["policy_oids"] = ["not an oid"]
    with pytest.raises(InputError, match=r"organisation.policy_oids"):
        parse_profile(json.dumps(doc))
    doc = json.loads(bundled_profile_path(Environment.TEST).read_text())
    doc["party_types"]["gas-supplier"]["roles"]["2"] = ["signing"]
    with pytest.raises(InputError, match=r"party_types.gas-supplier"):
        parse_profile(json.dumps(doc))
    with pytest.raises(InputError, match=r"for Test, not Live"):
        parse_profile(bundled_profile_path(Environment.TEST).read_bytes(), Environment.LIVE)
