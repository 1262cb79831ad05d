"""Lay a PDF out in a child process, for callers that are not on the main thread.

Qt's GUI classes (fonts, QTextDocument, QPainter) belong to the thread that owns the
application. A background job in the desktop app runs on a pool thread while the GUI thread
paints, and laying a document out there crashed the process now and then (a segfault seen on
CI, not reproducible on demand). So a pool thread hands the page to a fresh interpreter, which
has its own offscreen application and nothing else running: a crash there is an error
message, not a lost window.

Run as `python -m smki_desktop.render.isolated`: a JSON request on stdin, the PDF on stdout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from smki_desktop.child_process import module_command
from smki_desktop.core.environment import Environment
from smki_desktop.render.layout import render_here

TIMEOUT_S = 120


class RenderError(RuntimeError):
    """The child process could not produce the PDF; the message says why."""


def render_in_child(body_html: str, *, env: Environment, title: str, reference: str) -> bytes:
    request = json.dumps({"body_html": body_html, "env": env.value, "title": title,
                          "reference": reference}).encode("utf-8")
    # The child is single-threaded, so PySide's lazy type creation is safe there, and it
    # starts about 0.25 s sooner than with every type built up front.
    child_env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYSIDE6_OPTION_LAZY": "1"}
    try:
        done = subprocess.run(module_command("smki_desktop.render.isolated"),
                              input=request, capture_output=True, timeout=TIMEOUT_S,
                              env=child_env, check=False)
    except subprocess.TimeoutExpired as exc:
        raise RenderError(f"Laying out the PDF “{title}” took more than {TIMEOUT_S} s; "
                          "nothing was written.") from exc
    except OSError as exc:
        raise RenderError(f"Could not start the PDF renderer ({exc.strerror or exc}); "
                          "nothing was written.") from exc
    if done.returncode != 0 or not done.stdout.startswith(b"%PDF"):
        tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        why = " / ".join(tail) or f"exit status {done.returncode}"
        raise RenderError(f"The PDF renderer failed on “{title}”: {why}. Nothing was written.")
    return done.stdout


def main() -> int:
    req = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    pdf = render_here(req["body_html"], env=Environment(req["env"]), title=req["title"],
                       reference=req["reference"])
    sys.stdout.buffer.write(pdf)
    sys.stdout.buffer.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
