"""How the app starts its own Python modules as child processes, from a virtual environment or
from a frozen (PyInstaller) bundle.

In a venv a child is `python -m MODULE`. In a bundle there is no `python`: `sys.executable` is
one of the bundle's programs, so a child is `smki --smki-run-module MODULE ARGS...` (the `smki`
program beside the running one, which has a console on every platform), and the bundle's entry
scripts hand that hidden sub-entry to `run_child_module_if_asked` before anything else.
"""

from __future__ import annotations

import runpy
import sys
from collections.abc import Sequence
from pathlib import Path

RUN_MODULE_FLAG = "--smki-run-module"
# Only these modules may be run this way (a bundle is not a general Python interpreter).
CHILD_MODULES = ("smki_desktop.render.isolated", "smki_desktop.simulator")


def is_frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


def module_command(module: str) -> list[str]:
    """The command line that runs `module` as `__main__` in a fresh process."""
    if module not in CHILD_MODULES:
        raise ValueError(f"{module} is not one of the modules run as a child process")
    if not is_frozen():
        return [sys.executable, "-m", module]
    exe = Path(sys.executable)
    cli = exe.with_name("smki" + exe.suffix)
    return [str(cli if cli.is_file() else exe), RUN_MODULE_FLAG, module]


def run_child_module_if_asked(argv: Sequence[str]) -> int | None:
    """In a bundle's entry script: when argv asks for a child module, run it (it normally ends
    the process itself) and return its exit status; otherwise return None."""
    if len(argv) < 2 or argv[1] != RUN_MODULE_FLAG:
        return None
    if len(argv) < 3 or argv[2] not in CHILD_MODULES:
        sys.stderr.write(f"{RUN_MODULE_FLAG}: expected one of {', '.join(CHILD_MODULES)}\n")
        return 2
    module = argv[2]
    sys.argv = [module, *argv[3:]]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        code = exc.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        sys.stderr.write(f"{code}\n")
        return 1
    return 0
