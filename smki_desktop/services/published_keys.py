"""The DCC's published test private keys: their key ids (resources/keys/), and the refusal
that keeps them out of the Live environment. A published private key proves nothing, so a key
among them is never restored or imported into Live, and never gets a Live CSR."""

from __future__ import annotations

from functools import cache

from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import Refusal
from smki_desktop.resources_path import resource

RESOURCE = ("keys", "dcc-published-test-keys.txt")


@cache
def published_test_keys() -> dict[str, str]:
    """Key id (SHA-256 of the SubjectPublicKeyInfo DER) -> the published file it is from."""
    out: dict[str, str] = {}
    for line in resource(*RESOURCE).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        key_id, _, source = line.partition(" ")
        out.setdefault(key_id.lower(), source.strip())
    return out


def published_test_key(key_id: str) -> str:
    """The published test key file `key_id` is, or "" when it is none of them."""
    return published_test_keys().get(key_id.lower(), "")


def refuse_published_test_key(env: Environment, key_id: str, what: str) -> None:
    """In Live, refuse a key whose private key the DCC published for testing (`what`: the
    action, e.g. "Restore"), naming the key and the published file."""
    source = published_test_key(key_id)
    if env is Environment.LIVE and source:
        raise Refusal(f"{what} refused: key {key_id[:16]} is one of the DCC's published test "
                      f"keys ({source}); its private key is public, so it proves nothing and "
                      "never enters the Live environment. Nothing was done.")
