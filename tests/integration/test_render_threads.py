"""PDF rendering off the main thread: a background job gets the same pages from a child
process (Qt's GUI classes stay on the main thread), and every way the child can fail is an
error that names the document, never a crash or a half PDF."""

from __future__ import annotations

import subprocess
import sys
import threading
from typing import Any

import pytest

from smki_desktop.core.environment import Environment
from smki_desktop.render import isolated
from smki_desktop.render.pdf import render_pages

BODY = "<h1>Nomination</h1>" + "".join(f"<p>Field {i}: value {i}</p>" for i in range(120))


def text_of(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, check=True,
                          capture_output=True).stdout.decode("utf-8")


def in_thread(fn: Any, *args: Any, **kwargs: Any) -> Any:
    out: dict[str, Any] = {}

    def run() -> None:
        try:
            out["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # handed back to the test thread
            out["error"] = exc

    t = threading.Thread(target=run)
    t.start()
    t.join(180)
    if "error" in out:
        raise out["error"]
    return out["value"]


def test_off_main_thread_the_child_lays_out_the_same_pages() -> None:
    here = render_pages(BODY, env=Environment.LIVE, title="Form T", reference="Register ID X")
    there = in_thread(render_pages, BODY, env=Environment.LIVE, title="Form T",
                      reference="Register ID X")
    assert there.startswith(b"%PDF")
    pages_here, pages_there = text_of(here).split("\f"), text_of(there).split("\f")
    assert len(pages_there) == len(pages_here) > 2
    assert [" ".join(p.split()) for p in pages_there] == [" ".join(p.split())
                                                          for p in pages_here]
    assert "LIVE ENVIRONMENT" in pages_there[1]
    assert "Field 119: value 119" in text_of(there)


@pytest.mark.parametrize("fault, expected", [
    ("missing", "Could not start the PDF renderer"),
    ("fails", "The PDF renderer failed on “Form T”: exit status 1"),
    ("slow", "took more than"),
])
def test_child_failures_are_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Any, fault: str,
                                  expected: str) -> None:
    if fault == "missing":
        monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    elif fault == "fails":
        monkeypatch.setattr(sys, "executable", "/bin/false")
    else:
        monkeypatch.setattr(isolated, "TIMEOUT_S", 0.05)
    with pytest.raises(isolated.RenderError) as err:
        in_thread(render_pages, BODY, env=Environment.TEST, title="Form T")
    assert expected in str(err.value)
    assert "Nothing was written" in str(err.value) or "nothing was written" in str(err.value)


def test_child_stderr_is_the_reason(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\ncat >/dev/null\necho 'Traceback (most recent call last):' >&2\n"
                    "echo 'OSError: no fonts found' >&2\nexit 3\n")
    fake.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(fake))
    with pytest.raises(isolated.RenderError) as err:
        in_thread(render_pages, BODY, env=Environment.TEST, title="Form T")
    assert "OSError: no fonts found" in str(err.value)
