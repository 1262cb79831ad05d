"""Malformed offline answer and request bundles end in an InputError (exit 2) naming the
manifest and the entry, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smki_desktop.core.errors import InputError
from smki_desktop.portal.offline import ANSWER_FORMAT

GOOD = {"format": ANSWER_FORMAT, "environment": "test", "created": "2026-12-01T00:00:00"}
R1 = "O" + "0" * 29 + "1"  # a reference of the outbox's format

CASES: list[tuple[str, object]] = [
    ("answers-not-a-list", {**GOOD, "answers": {"ref": "x"}}),
    ("answer-not-an-object", {**GOOD, "answers": ["x"]}),
    ("answer-without-ref", {**GOOD, "answers": [{"state": "done"}]}),
    ("answer-ref-a-number", {**GOOD, "answers": [{"ref": 7, "state": "done"}]}),
    ("unknown-state", {**GOOD, "answers": [{"ref": R1, "state": "pwned"}]}),
    ("result-file-missing", {**GOOD, "answers": [{"ref": R1, "state": "done",
                                                   "file": f"{R1}.result", "sha256": "0" * 64}]}),
    ("server-id-a-list", {**GOOD, "answers": [{"ref": R1, "state": "done",
                                                "server_id": [1]}]}),
    ("ref-not-an-outbox-reference", {**GOOD, "answers": [{"ref": "r1", "state": "done"}]}),
    ("ref-leaving-the-folder", {**GOOD, "answers": [{"ref": "../../x", "state": "done"}]}),
    ("result-named-otherwise", {**GOOD, "answers": [{"ref": R1, "state": "done",
                                                      "file": "manifest.json",
                                                      "sha256": "0" * 64}]}),
    ("environment-a-list", {**GOOD, "environment": ["test"], "answers": []}),
    ("environment-missing", {"format": ANSWER_FORMAT, "answers": []}),
    ("nan", None),
    ("deep", None),
]


def _write(folder: Path, name: str, doc: object) -> Path:
    b = folder / name
    b.mkdir()
    if name == "nan":
        (b / "manifest.json").write_text(json.dumps({**GOOD, "answers": []})[:-1]
                                         + ', "x": NaN}')
    elif name == "deep":
        (b / "manifest.json").write_text('{"format": "' + ANSWER_FORMAT + '", "answers": '
                                         + "[" * 100_000 + "]" * 100_000 + "}")
    else:
        (b / "manifest.json").write_text(json.dumps(doc))
    return b


@pytest.mark.parametrize(("name", "doc"), CASES, ids=[c[0] for c in CASES])
def test_malformed_answer_bundle_is_bad_input(cli_run, tmp_path: Path, name: str,
                                             doc: object) -> None:
    b = _write(tmp_path, name, doc)
    r = cli_run("portal", "offline-import", str(b))
    assert r.code == 2, (r.code, r.err[-800:])
    assert "manifest.json" in r.err or R1 in r.err
    assert "Traceback" not in r.err


def test_entries_checked_by_name() -> None:
    from smki_desktop.portal.offline import _entries

    with pytest.raises(InputError, match="entry 2 must be an object"):
        _entries(Path("/b"), {"answers": [{}, 3]}, "answers")


@pytest.mark.parametrize("requests", [[5], {"ref": "x"}, [{"ref": R1, "kind": "evil"}],
                                      [{"kind": "org-csr"}]])
def test_signed_request_bundle_with_malformed_entries(tmp_path: Path, requests: object) -> None:
    from datetime import UTC, datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    from smki_desktop.core.environment import Environment
    from smki_desktop.crypto.cms import sign_detached
    from smki_desktop.crypto.memory_signer import MemorySigner
    from smki_desktop.portal.offline import REQUEST_FORMAT, read_request_bundle

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Ann ARO")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(9).not_valid_before(now)
            .not_valid_after(now.replace(year=now.year + 1)).sign(key, hashes.SHA256()))
    b = tmp_path / "req"
    b.mkdir()
    manifest = json.dumps({"format": REQUEST_FORMAT, "environment": "test",
                           "requests": requests}).encode()
    (b / "manifest.json").write_bytes(manifest)
    (b / "manifest.json.p7s").write_bytes(sign_detached(manifest, MemorySigner(key), cert, now))
    with pytest.raises(InputError, match="manifest.json"):
        read_request_bundle(b, Environment.TEST)


def test_unsigned_answers_are_refused(cli_run, tmp_path: Path) -> None:
    """An answers bundle with no signature (anyone can write one: it was how another
    installation's, or a forged, answers came in) is refused, saying so, and changes nothing.
    Answers signed by an ARO but for requests this installation never exported:
    tests/integration/test_offline_attacks.py."""
    from datetime import UTC, datetime

    from smki_desktop.core.environment import Environment
    from smki_desktop.portal.offline import Answer, write_answer_bundle

    ref = "O0123456789abcdef0123456789abcd"
    b = write_answer_bundle(tmp_path, Environment.TEST,
                            [Answer(ref, "submitted", "S-1", "PENDING", None, None)],
                            datetime.now(UTC), request_sha256="0" * 64, refs=[ref])
    r = cli_run("portal", "offline-import", str(b))
    assert r.code == 1, (r.code, r.out, r.err)
    assert "not signed" in r.err and "manifest.json.p7s" in r.err, r.err
