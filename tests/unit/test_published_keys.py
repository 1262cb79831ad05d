"""The bundled list of the DCC's published test keys (resources/keys/) holds the key id of
every published test private key in tests/fixtures/dcc-test-pki/, and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import Refusal
from smki_desktop.core.keys import key_id_for_spki
from smki_desktop.services.published_keys import published_test_keys, refuse_published_test_key

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dcc-test-pki"


def _key_ids() -> dict[str, str]:
    out: dict[str, str] = {}
    for p in sorted(FIXTURES.rglob("*.key")):
        spki = serialization.load_pem_private_key(p.read_bytes(), None).public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        out.setdefault(key_id_for_spki(spki), str(p.relative_to(FIXTURES)))
    return out


def test_every_published_test_key_is_listed() -> None:
    expected = _key_ids()
    assert len(expected) >= 15  # 16 files, one key published twice
    assert set(published_test_keys()) == set(expected)


def test_only_live_refuses() -> None:
    key_id = next(iter(published_test_keys()))
    refuse_published_test_key(Environment.TEST, key_id, "Restore")  # Test: where they belong
    with pytest.raises(Refusal, match="published test keys"):
        refuse_published_test_key(Environment.LIVE, key_id, "Restore")
    refuse_published_test_key(Environment.LIVE, "0" * 64, "Restore")  # any other key: no
