"""The Party profile (who this installation acts for) and the local officer profile (who is
using it): validation and (de)serialisation, pure."""

from __future__ import annotations

import enum
import itertools
import re
from dataclasses import dataclass, field
from typing import Any

from smki_desktop.core.errors import InputError
from smki_desktop.core.eui import Eui64, EuiRange, require_in_ranges
from smki_desktop.core.plain_text import check_plain, visible


class PartyType(enum.Enum):
    IMPORT_SUPPLIER = "import-supplier"
    EXPORT_SUPPLIER = "export-supplier"
    GAS_SUPPLIER = "gas-supplier"
    ELECTRICITY_DISTRIBUTOR = "electricity-distributor"
    GAS_TRANSPORTER = "gas-transporter"
    OTHER_USER = "other-user"
    REGISTERED_SUPPLIER_AGENT = "registered-supplier-agent"

    @property
    def label(self) -> str:
        return self.value.replace("-", " ").capitalize()

    @classmethod
    def parse(cls, text: str) -> PartyType:
        norm = text.strip().lower().replace("_", "-").replace(" ", "-")
        try:
            return cls(norm)
        except ValueError:
            raise InputError(
                f"Party type {text!r} is not known; use one of: "
                + ", ".join(t.value for t in cls) + "."
            ) from None


_PARTY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _./-]{0,63}$")
# The formats SECAS uses are not published [U]: these match the nomination forms' policy data
# (resources/forms/*.json `party_id` pattern) and are checked when a profile is saved.
PARTY_ID_FORMAT = re.compile(r"^[A-Z0-9]{4,8}$")
PARTY_ID_HINT = "4 to 8 upper-case letters or digits, e.g. ABCD"
PARTY_ID_UPPER_CASE = True  # the rule is upper-case: a face may upper-case what is typed
SIGNIFIER_FORMAT = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,30}[A-Za-z0-9])?$")
SIGNIFIER_HINT = "1 to 32 letters, digits, '.', '_' or '-', starting and ending with a letter " \
    "or digit"


def party_id_problem(party_id: str) -> str | None:
    """What is wrong with a Party ID by the rule a new profile must meet (`check_new`), or
    None: one rule and one wording for every face (an empty value is "required", not quoted)."""
    if not party_id.strip():
        return "Party ID: required."
    if not PARTY_ID_FORMAT.fullmatch(party_id):
        return f"Party ID {party_id!r}: {PARTY_ID_HINT}."
    return None


def _overlaps(ranges: tuple[EuiRange, ...]) -> tuple[EuiRange, EuiRange] | None:
    ordered = sorted(ranges, key=lambda r: int(r.first))
    for a, b in itertools.pairwise(ordered):
        if int(b.first) <= int(a.last):
            return a, b
    return None
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


@dataclass(frozen=True)
class PartyProfile:
    name: str
    party_id: str
    party_type: PartyType
    eui_ranges: tuple[EuiRange, ...]
    signifier: str = ""
    device_ranges: tuple[EuiRange, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InputError("Organisation name: required.")
        if not _PARTY_ID.match(self.party_id):
            # the looser pattern only lets older stored profiles be read; a refusal names the
            # rule a new one must meet (the stricter one matches a subset of the looser)
            raise InputError(party_id_problem(self.party_id) or "Party ID: not valid.")
        if not self.eui_ranges:
            raise InputError("EUI-64 range: give at least one allocated range (FIRST..LAST).")

    def check_new(self) -> None:
        """The stricter rules a profile must meet when it is saved (older stored profiles are
        still read): Party ID and Signifier formats, ranges that do not overlap, a name that
        fits a certificate's organisation field and is one line of plain text (no control,
        escape or format character: `party show` prints it to a terminal). Whole-value
        matches: a trailing newline is not let through by the pattern's `$`."""
        check_plain(self.name, "Organisation name")
        if len(self.name.strip()) > 64:
            raise InputError(f"Organisation name: {len(self.name.strip())} characters; at most "
                             "64 (it is the organisation field of the credentials).")
        problem = party_id_problem(self.party_id)
        if problem:
            raise InputError(problem)
        if self.signifier and not SIGNIFIER_FORMAT.fullmatch(self.signifier):
            raise InputError(f"Signifier {self.signifier!r}: {SIGNIFIER_HINT}.")
        for what, ranges in (("EUI-64 range", self.eui_ranges),
                             ("Device range", self.device_ranges)):
            both = _overlaps(ranges)
            if both:
                raise InputError(f"{what}s {both[0]} and {both[1]} overlap: give each "
                                 "allocation once.")

    def require_own_eui(self, eui: Eui64, what: str = "EUI-64") -> None:
        require_in_ranges(eui, list(self.eui_ranges), what)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "party_id": self.party_id,
            "party_type": self.party_type.value,
            "eui_ranges": [str(r) for r in self.eui_ranges],
            "signifier": self.signifier,
            "device_ranges": [str(r) for r in self.device_ranges],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> PartyProfile:
        """A stored profile. One saved before the plain-text rule may hold control or format
        characters: read, never refused (the database must open), with them named
        (`plain_text.visible`) so that no face prints them raw."""
        return cls(
            name=visible(d["name"]), party_id=d["party_id"],
            party_type=PartyType(d["party_type"]),
            eui_ranges=tuple(EuiRange.parse(r) for r in d["eui_ranges"]),
            signifier=visible(d.get("signifier", "")),
            device_ranges=tuple(EuiRange.parse(r) for r in d.get("device_ranges", [])),
        )


class OfficerRole(enum.Enum):
    ARO = "aro"
    SRO = "sro"

    @classmethod
    def parse(cls, text: str) -> OfficerRole:
        try:
            return cls(text.strip().lower())
        except ValueError:
            raise InputError(f"Officer role {text!r}: use 'aro' or 'sro'.") from None


PARTY_FIELDS = ("name", "party_id", "signifier", "eui_ranges")


def party_field_problems(name: str, party_id: str, range_lines: list[str], signifier: str,
                         device_ranges: tuple[EuiRange, ...] = ()) -> dict[str, list[str]]:
    """Every rule a new Party profile breaks, by field (`PARTY_FIELDS`; a field that breaks
    none is left out), so that a form can show each under the field once it was visited
    (`PartyProfile` and `check_new` stop at the first: an officer who fixed the Party ID met
    the Signifier's error only then). Each field is checked by those same rules, alone, the
    other fields given values that pass."""
    passing: dict[str, Any] = {
        "name": "x", "party_id": "ABCD", "party_type": PartyType.OTHER_USER,
        "eui_ranges": (EuiRange.parse("00-00-00-00-00-00-00-00..00-00-00-00-00-00-00-00"),)}

    def alone(**field_values: Any) -> list[str]:
        try:
            PartyProfile(**{**passing, **field_values}).check_new()
        except InputError as exc:
            return [exc.message]
        return []

    found = {"name": alone(name=name), "party_id": alone(party_id=party_id),
             "signifier": alone(signifier=signifier) if signifier else [],
             "eui_ranges": []}
    ranges: list[EuiRange] = []
    for i, line in enumerate(range_lines):
        try:
            ranges.append(EuiRange.parse(line, f"EUI-64 range line {i + 1}"))
        except InputError as exc:
            found["eui_ranges"].append(exc.message)
    if len(ranges) == len(range_lines):  # overlaps (or none given) once every line reads
        found["eui_ranges"] += alone(eui_ranges=tuple(ranges), device_ranges=device_ranges)
    return {k: v for k, v in found.items() if v}


def party_problems(name: str, party_id: str, range_lines: list[str], signifier: str,
                   device_ranges: tuple[EuiRange, ...] = ()) -> list[str]:
    """Every rule a new Party profile breaks, one line each, in `PARTY_FIELDS` order."""
    by_field = party_field_problems(name, party_id, range_lines, signifier, device_ranges)
    return [m for f in PARTY_FIELDS for m in by_field.get(f, [])]


@dataclass(frozen=True)
class OfficerProfile:
    name: str
    role: OfficerRole
    email: str = ""
    register_id: str = ""  # the officer register entry this profile links to (issue 7)

    def __post_init__(self) -> None:
        if not self.name.strip():
            raise InputError("Officer name: required.")
        if self.email and not _EMAIL.match(self.email):
            raise InputError(f"Email {self.email!r} is not an email address.")

    def check_new(self) -> None:
        """The stricter rules a profile meets when it is saved (one stored earlier is still
        read): name and email one line of plain text (the name is in every audit record's
        actor, printed to terminals and tables), the email matched whole."""
        check_plain(self.name, "Officer name")
        check_plain(self.email, "Email")
        if self.email and not _EMAIL.fullmatch(self.email):
            raise InputError(f"Email {self.email!r} is not an email address.")

    @staticmethod
    def problems(name: str, email: str) -> list[str]:
        """Every rule the name and email break (the constructor stops at the first)."""
        found = []
        checks: tuple[dict[str, Any], ...] = ({"name": name}, {"email": email})
        for field_values in checks:
            try:
                OfficerProfile(**{"name": "x", "role": OfficerRole.ARO,
                                  **field_values}).check_new()
            except InputError as exc:
                found.append(exc.message)
        return found

    @property
    def actor(self) -> str:
        return f"{self.name} ({self.role.value.upper()})"

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "role": self.role.value, "email": self.email,
                "register_id": self.register_id}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> OfficerProfile:
        """A stored profile, its name and email shown as `PartyProfile.from_dict` shows a
        name saved before the plain-text rule (the email's trailing newline, which the old
        pattern let through, dropped)."""
        return cls(name=visible(d["name"]), role=OfficerRole(d["role"]),
                   email=visible(d.get("email", "").strip()),
                   register_id=d.get("register_id", ""))
