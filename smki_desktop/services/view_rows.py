"""The shape of a details view, free of any parsing: sections of labelled rows. The pages'
`DetailsTree` shows them; `services.cert_view` fills them from a certificate. Kept apart from
`cert_view` so that the first window (the Dashboard's details and expiry table) does not load
X.509 and ASN.1 parsing at start (issue 15)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Row:
    label: str
    value: str
    problem: bool = False  # shown as a finding to act on


@dataclass(frozen=True)
class Section:
    title: str
    rows: tuple[Row, ...] = field(default=())
