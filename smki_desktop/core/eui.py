"""EUI-64 identifiers: parsing, canonical display, octets, and allocated ranges."""

from __future__ import annotations

import re
from dataclasses import dataclass

from smki_desktop.core.errors import InputError

_HEX16 = re.compile(r"^[0-9A-Fa-f]{16}$")
_PAIRS = re.compile(r"[0-9A-Fa-f]{2}(?P<sep>[-: ])[0-9A-Fa-f]{2}(?:(?P=sep)[0-9A-Fa-f]{2}){6}")


@dataclass(frozen=True, order=True)
class Eui64:
    """An EUI-64 held as its 8 octets; shown as upper-case hyphenated hex."""

    octets: bytes

    def __post_init__(self) -> None:
        if len(self.octets) != 8:
            raise InputError(f"An EUI-64 has 8 octets, not {len(self.octets)}.")

    @classmethod
    def parse(cls, text: str, field: str = "EUI-64") -> Eui64:
        """Accept `90-B3-D5-1F-30-01-00-00`, `90b3d51f30010000`, `90:b3:...`, `90 B3 ...`,
        either case. One separator throughout: `90-B3:D5...` is refused, as the ADT file
        rules refuse it, since a mixed form is more often a mistyped or pasted-together value
        than a way of writing one EUI."""
        raw = text.strip()
        compact = raw.replace("-", "").replace(":", "").replace(" ", "")
        if not _HEX16.match(compact):
            raise InputError(
                f"{field}: {text!r} is not an EUI-64; expected 16 hexadecimal digits such as "
                "90-B3-D5-1F-30-01-00-00."
            )
        if compact != raw and not _PAIRS.fullmatch(raw):
            seps = sorted({c for c in raw if c in "-: "})
            cause = ("mixes the separators " + " and ".join(repr(c) for c in seps)
                     if len(seps) > 1 else "separators must split it into 8 pairs of "
                     "hexadecimal digits")
            raise InputError(
                f"{field}: {text!r} is not an EUI-64; {cause}: write it as "
                "90-B3-D5-1F-30-01-00-00 (one separator throughout, 8 pairs) or "
                "90B3D51F30010000."
            )
        return cls(bytes.fromhex(compact))

    @classmethod
    def from_int(cls, value: int) -> Eui64:
        return cls(value.to_bytes(8, "big"))

    def __int__(self) -> int:
        return int.from_bytes(self.octets, "big")

    @property
    def hex(self) -> str:
        """Compact upper-case hex, as used in file names: `90B3D51F30010000`."""
        return self.octets.hex().upper()

    def __str__(self) -> str:
        return "-".join(f"{b:02X}" for b in self.octets)


@dataclass(frozen=True)
class EuiRange:
    """An inclusive range of EUI-64s (a Party's allocation, or allowed device IDs)."""

    first: Eui64
    last: Eui64

    def __post_init__(self) -> None:
        if int(self.first) > int(self.last):
            raise InputError(f"EUI-64 range {self}: the first EUI is after the last.")

    @classmethod
    def parse(cls, text: str, field: str = "EUI-64 range") -> EuiRange:
        """Accept `FIRST..LAST` (either EUI form)."""
        parts = text.split("..")
        if len(parts) != 2:
            raise InputError(f"{field}: {text!r} is not a range; write FIRST..LAST.")
        return cls(Eui64.parse(parts[0], field), Eui64.parse(parts[1], field))

    def __contains__(self, eui: object) -> bool:
        return isinstance(eui, Eui64) and int(self.first) <= int(eui) <= int(self.last)

    def __str__(self) -> str:
        return f"{self.first}..{self.last}"


def require_in_ranges(eui: Eui64, ranges: list[EuiRange], what: str = "EUI-64") -> None:
    """Refuse an EUI outside every range, naming the ranges."""
    if not ranges:
        return
    if any(eui in r for r in ranges):
        return
    listed = ", ".join(str(r) for r in ranges)
    raise InputError(f"{what} {eui} is outside the allocated range {listed}.")
