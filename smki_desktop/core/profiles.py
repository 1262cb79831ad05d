"""The SMKI Organisation and Device CSR/certificate profiles, as data.

The fixed parts of the profiles (subject layout, P-256, one keyUsage bit, ...) are rules in
`crypto/lint.py`; the values that differ per environment or are unknown for Live (policy OIDs,
hwType OIDs, CA names, which roles and usages a party type may request, where a CN is allowed)
come from a versioned JSON document under `resources/profiles/<env>.json`. This module only
parses and validates that document (no disk access): `smki_desktop.profile_data` loads it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import EnvironmentMismatch, InputError
from smki_desktop.core.keys import KeyUsage
from smki_desktop.core.roles import RemotePartyRole

PROFILE_FORMAT = 1

SMKI_USAGES = (KeyUsage.SIGNING, KeyUsage.KEY_AGREEMENT)

# The DCC's published Test certificate policies (Organisation, Device): a certificate or CSR
# carrying one is Test's whatever a profile override says, and no Live profile may list one.
# (The Test hwType 1.2.826.0.1.8641679.1.2.2.1 is not here: Live's hwType is unpublished and
# may be the same.)
DCC_TEST_POLICY_OIDS = frozenset({"1.2.826.0.1.8641679.1.2.1.4", "1.2.826.0.1.1800000.1.2.1.4"})


@dataclass(frozen=True)
class PartyTypeRules:
    """Which Remote Party Roles, and which usages per role, a party type may request."""

    name: str
    label: str
    roles: dict[RemotePartyRole, frozenset[KeyUsage]]

    def usages_for(self, role: RemotePartyRole) -> frozenset[KeyUsage]:
        return self.roles.get(role, frozenset())


@dataclass(frozen=True)
class SmkiProfile:
    """One environment's profile values."""

    environment: Environment
    version: str
    source: str
    org_policy_oids: frozenset[str]
    org_ca_names: tuple[str, ...]
    cn_allowed_roles: frozenset[RemotePartyRole]
    cn_max_length: int
    device_policy_oids: frozenset[str]
    device_ca_names: tuple[str, ...]
    hw_type_oids: frozenset[str]
    accept_with_warning: frozenset[str]
    party_types: dict[str, PartyTypeRules] = field(default_factory=dict)

    def cn_allowed(self, role: RemotePartyRole) -> bool:
        return role in self.cn_allowed_roles

    def policy_oids(self, family: str) -> frozenset[str]:
        return self.org_policy_oids if family == "organisation" else self.device_policy_oids

    def ca_names(self, family: str) -> tuple[str, ...]:
        return self.org_ca_names if family == "organisation" else self.device_ca_names

    def party_type(self, name: str) -> PartyTypeRules:
        key = normalise_party_type(name)
        if key not in self.party_types:
            known = ", ".join(sorted(self.party_types))
            raise InputError(f"Party type {name!r} is not in the profile; known: {known}.")
        return self.party_types[key]

    def allowed_roles(self, party_type: str | None) -> list[RemotePartyRole]:
        """Roles a party type may request (every role in any party type when unknown)."""
        if party_type:
            try:
                rules = [self.party_type(party_type)]
            except InputError:
                rules = list(self.party_types.values())
        else:
            rules = list(self.party_types.values())
        roles = {r for pt in rules for r in pt.roles}
        return sorted(roles, key=lambda r: r.value)

    def allowed_usages(self, party_type: str | None, role: RemotePartyRole) -> list[KeyUsage]:
        if party_type:
            try:
                usages = set(self.party_type(party_type).usages_for(role))
            except InputError:
                usages = set()
        else:
            usages = {u for pt in self.party_types.values() for u in pt.usages_for(role)}
        return [u for u in SMKI_USAGES if u in usages]

    def to_json(self) -> dict[str, Any]:
        """The document form (what `parse_profile` reads)."""
        return {
            "format": PROFILE_FORMAT,
            "environment": self.environment.value,
            "version": self.version,
            "source": self.source,
            "organisation": {
                "policy_oids": sorted(self.org_policy_oids),
                "ca_names": list(self.org_ca_names),
                "cn_allowed_roles": [r.ou for r in sorted(self.cn_allowed_roles,
                                                          key=lambda r: r.value)],
                "cn_max_length": self.cn_max_length,
            },
            "device": {
                "policy_oids": sorted(self.device_policy_oids),
                "ca_names": list(self.device_ca_names),
                "hw_type_oids": sorted(self.hw_type_oids),
            },
            "accept_with_warning": sorted(self.accept_with_warning),
            "party_types": {
                name: {
                    "label": pt.label,
                    "roles": {r.ou: [u.value for u in SMKI_USAGES if u in us]
                              for r, us in pt.roles.items()},
                }
                for name, pt in self.party_types.items()
            },
        }


def normalise_party_type(name: str) -> str:
    return name.strip().lower().replace("_", "-").replace(" ", "-")


def _oid(text: object, where: str) -> str:
    if not isinstance(text, str) or not text or not all(
        p.isdigit() for p in text.split(".")
    ) or text.count(".") < 1:
        raise InputError(f"Profile {where}: {text!r} is not a dotted OID.")
    return text


def _list(obj: dict[str, Any], key: str, where: str) -> list[Any]:
    value = obj.get(key, [])
    if not isinstance(value, list):
        raise InputError(f"Profile {where}.{key}: expected a list.")
    return value


def _obj(obj: dict[str, Any], key: str, where: str) -> dict[str, Any]:
    value = obj.get(key)
    if not isinstance(value, dict):
        raise InputError(f"Profile {where}{key}: expected an object.")
    return value


def parse_profile(text: str | bytes, expected: Environment | None = None) -> SmkiProfile:
    """Parse and validate a profile document; errors name the field."""
    try:
        doc = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"Profile: not valid JSON ({exc}).") from None
    except RecursionError:
        raise InputError("Profile: not valid JSON (nested too deeply).") from None
    if not isinstance(doc, dict):
        raise InputError("Profile: expected a JSON object.")
    if doc.get("format") != PROFILE_FORMAT:
        raise InputError(f"Profile format: {doc.get('format')!r} is not {PROFILE_FORMAT}.")
    env = Environment.parse(str(doc.get("environment", "")))
    if expected is not None and env is not expected:
        raise InputError(
            f"Profile environment: this profile is for {env.label}, not {expected.label}."
        )
    org = _obj(doc, "organisation", "")
    dev = _obj(doc, "device", "")
    cn_roles = frozenset(
        RemotePartyRole.from_ou(str(x)) for x in _list(org, "cn_allowed_roles", "organisation")
    )
    party_types: dict[str, PartyTypeRules] = {}
    for name, body in _obj(doc, "party_types", "").items():
        where = f"party_types.{name}"
        if not isinstance(body, dict) or not isinstance(body.get("roles"), dict):
            raise InputError(f"Profile {where}: expected an object with 'roles'.")
        roles: dict[RemotePartyRole, frozenset[KeyUsage]] = {}
        for ou, usages in body["roles"].items():
            try:
                role = RemotePartyRole.from_ou(ou)
            except InputError:
                raise InputError(f"Profile {where}.roles: {ou!r} is not a role OU code.") from None
            if not isinstance(usages, list):
                raise InputError(f"Profile {where}.roles.{ou}: expected a list of usages.")
            parsed = frozenset(KeyUsage.parse(u) for u in usages)
            if not parsed <= set(SMKI_USAGES):
                raise InputError(f"Profile {where}.roles.{ou}: only signing/key-agreement.")
            roles[role] = parsed
        party_types[normalise_party_type(name)] = PartyTypeRules(
            normalise_party_type(name), str(body.get("label", name)), roles
        )
    max_len = org.get("cn_max_length", 64)
    if not isinstance(max_len, int) or not 1 <= max_len <= 64:
        raise InputError("Profile organisation.cn_max_length: expected 1..64.")
    prof = SmkiProfile(
        environment=env,
        version=str(doc.get("version", "")),
        source=str(doc.get("source", "")),
        org_policy_oids=frozenset(
            _oid(x, "organisation.policy_oids") for x in _list(org, "policy_oids", "organisation")
        ),
        org_ca_names=tuple(str(x) for x in _list(org, "ca_names", "organisation")),
        cn_allowed_roles=cn_roles,
        cn_max_length=max_len,
        device_policy_oids=frozenset(
            _oid(x, "device.policy_oids") for x in _list(dev, "policy_oids", "device")
        ),
        device_ca_names=tuple(str(x) for x in _list(dev, "ca_names", "device")),
        hw_type_oids=frozenset(
            _oid(x, "device.hw_type_oids") for x in _list(dev, "hw_type_oids", "device")
        ),
        accept_with_warning=frozenset(str(x) for x in _list(doc, "accept_with_warning", "")),
        party_types=party_types,
    )
    _refuse_test_policies_in_live(prof)
    return prof


def _refuse_test_policies_in_live(prof: SmkiProfile) -> None:
    """A Live profile listing one of the DCC's Test policies would let Test certificates pass
    in Live: refused, naming both environments."""
    if prof.environment is not Environment.LIVE:
        return
    listed = sorted((prof.org_policy_oids | prof.device_policy_oids) & DCC_TEST_POLICY_OIDS)
    if listed:
        raise EnvironmentMismatch(
            f"Profile policy_oids: {', '.join(listed)} is the DCC's Test certificate policy; "
            "this profile is for the Live environment. A Live profile never lists a Test "
            "policy (Test certificates would pass in Live): remove it.")
