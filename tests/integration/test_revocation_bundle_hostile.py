"""`smki revoke import` of a tampered bundle: a request body with an unknown or missing
environment, without an id, or JSON nested thousands deep is refused naming the field or cause
(exit 2, one JSON document under --json), never a ValueError/KeyError/RecursionError traceback.
Nothing of such a bundle is signed by anyone: the shape is refused before any signature."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from smki_desktop.core.canonical import canonical_bytes
from smki_desktop.services.revocation import BUNDLE_FORMAT


def _bundle(body: object) -> str:
    raw = canonical_bytes(body) if isinstance(body, dict) else body
    assert isinstance(raw, bytes)
    return json.dumps({"format": BUNDLE_FORMAT, "version": 1,
                       "request": base64.b64encode(raw).decode(), "signatures": []})


@pytest.mark.parametrize(("text", "named"), [
    (_bundle({"environment": "staging", "id": "RV-1"}), "environment is 'staging'"),
    (_bundle({"id": "RV-1"}), "no environment field"),
    (_bundle({"environment": 7, "id": "RV-1"}), "environment is 7"),
    (_bundle({"environment": "test"}), "no id field"),
    (_bundle({"environment": "test", "id": ["RV-1"]}), "id is ['RV-1']"),
    ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ('{"format": "' + BUNDLE_FORMAT + '", "request": "", "signatures": '
     + "[" * 100_000 + "]" * 100_000 + "}", "nested too deeply"),
    (_bundle(b'{"environment":"test","id":"RV-1","x":' + b"[" * 100_000 + b"]" * 100_000
             + b"}"), "nested too deeply"),
    ('{"format": "' + BUNDLE_FORMAT + '", "signatures": []}', "field 'request' is missing"),
    ("[1, 2]", "not a revocation bundle"),
], ids=["env-staging", "env-missing", "env-number", "id-missing", "id-list", "deep-outer",
        "deep-signatures", "deep-body", "request-missing", "not-an-object"])
def test_tampered_bundle_is_refused_naming_the_field(cli_run, tmp_path: Path, text: str,
                                                     named: str) -> None:
    f = tmp_path / "bundle.json"
    f.write_text(text)
    r = cli_run("--json", "revoke", "import", str(f))
    assert r.code == 2, r.err[-800:]
    assert "Traceback" not in r.err
    doc = r.json()
    assert doc["kind"] == "InputError" and named in doc["error"], doc
