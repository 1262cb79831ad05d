"""Where the DCC's web services are and how to reach them: the endpoint's addresses and pinned
trust anchor, and the mutual-TLS material. Plain data with no network library behind it, so
that what only reads the endpoint's record (the file-signing trust anchors of `adt sign` and
`adt verify`) does not load the HTTP stack."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ClientTls:
    """Mutual-TLS material: the client certificate (PEM file) and the encrypted key file."""

    cert_path: Path
    key_path: Path
    password: str


@dataclass(frozen=True)
class Endpoint:
    """`portal_url` and `repository_url` are bases: the interfaces' paths are appended."""

    portal_url: str
    repository_url: str
    trust_anchor_pem: bytes
