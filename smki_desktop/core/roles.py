"""Remote Party Roles: the subject OU of Organisation certificates (two upper-case hex digits)."""

from __future__ import annotations

import enum

from smki_desktop.core.errors import InputError


class RemotePartyRole(enum.Enum):
    ROOT = 0x00
    RECOVERY = 0x01
    SUPPLIER = 0x02
    NETWORK_OPERATOR = 0x03
    ACCESS_CONTROL_BROKER = 0x04
    TRANSITIONAL_COS = 0x05
    WAN_PROVIDER = 0x06
    ISSUING_AUTHORITY = 0x07
    LOAD_CONTROLLER = 0x08
    OTHER = 0x7F
    XML_SIGN = 0x87
    DSP_XML_SIGN = 0x89

    @property
    def ou(self) -> str:
        """The subject OU text: two upper-case hex digits, e.g. `02`."""
        return f"{self.value:02X}"

    @property
    def name_text(self) -> str:
        """The role's name as the GBCS tables write it, e.g. `networkOperator`."""
        return _NAMES[self]

    @classmethod
    def from_ou(cls, ou: str) -> RemotePartyRole:
        """Strict: only the exact two upper-case hex digits a certificate must carry."""
        for role in cls:
            if role.ou == ou:
                return role
        raise InputError(f"OU {ou!r} is not a Remote Party Role code (two upper-case hex digits).")

    @classmethod
    def parse(cls, text: str) -> RemotePartyRole:
        """Lenient, for people: a name (`supplier`, `networkOperator`, `network-operator`) or
        an OU code (`02`, `7F`, `7f`)."""
        key = text.strip()
        norm = key.replace("-", "").replace("_", "").lower()
        for role in cls:
            if norm == role.name_text.lower() or norm == role.name.replace("_", "").lower():
                return role
        if len(key) == 2:
            try:
                value = int(key, 16)
            except ValueError:
                value = -1
            for role in cls:
                if role.value == value:
                    return role
        names = ", ".join(f"{r.name_text} ({r.ou})" for r in cls)
        raise InputError(f"Role {text!r} is not a Remote Party Role; use one of: {names}.")


_NAMES = {
    RemotePartyRole.ROOT: "root",
    RemotePartyRole.RECOVERY: "recovery",
    RemotePartyRole.SUPPLIER: "supplier",
    RemotePartyRole.NETWORK_OPERATOR: "networkOperator",
    RemotePartyRole.ACCESS_CONTROL_BROKER: "accessControlBroker",
    RemotePartyRole.TRANSITIONAL_COS: "transitionalCoS",
    RemotePartyRole.WAN_PROVIDER: "wanProvider",
    RemotePartyRole.ISSUING_AUTHORITY: "issuingAuthority",
    RemotePartyRole.LOAD_CONTROLLER: "loadController",
    RemotePartyRole.OTHER: "other",
    RemotePartyRole.XML_SIGN: "xmlSign",
    RemotePartyRole.DSP_XML_SIGN: "dspXmlSign",
}
