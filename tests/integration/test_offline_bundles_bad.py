"""Malformed offline answer and request bundles end in an InputError (exit 2) naming the
manifest and the entry, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smki_desktop.core.errors import InputError
from smki_desktop.portal.offline import ANSWER_FORMAT

GOOD = {"format": ANSWER_FORMAT, "environment": "test", "created": "2026-12-01T00:00:00"}

CASES: list[tuple[str, object]] = [
    ("answers-not-a-list", {**GOOD, "answers": {"ref": "x"}}),
    ("answer-not-an-object", {**GOOD, "answers": ["x"]}),
    ("answer-without-ref", {**GOOD, "answers": [{"state": "done"}]}),
    ("answer-ref-a-number", {**GOOD, "answers": [{"ref": 7, "state": "done"}]}),
    ("unknown-state", {**GOOD, "answers": [{"ref": "r1", "state": "pwned"}]}),
    ("result-file-missing", {**GOOD, "answers": [{"ref": "r1", "state": "done",
                                                   "file": "r1.result", "sha256": "0" * 64}]}),
    ("server-id-a-list", {**GOOD, "answers": [{"ref": "r1", "state": "done",
                                                "server_id": [1]}]}),
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
    assert "manifest.json" in r.err or "r1" in r.err
    assert "Traceback" not in r.err


def test_entries_checked_by_name() -> None:
    from smki_desktop.portal.offline import _entries

    with pytest.raises(InputError, match="entry 2 must be an object"):
        _entries(Path("/b"), {"answers": [{}, 3]}, "answers")
