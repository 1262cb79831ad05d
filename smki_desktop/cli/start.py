"""The `smki` program's first module: it starts hashing the file of `adt sign` / `adt verify`
on a helper thread before anything heavy is imported, then runs the command line.

Python's start and the imports of `cli.main`, `cryptography` and the services take longer than
hashing 100 MiB; begun here, the digest is ready when the command needs it (issue 15). Only
standard-library modules are loaded before `cli.main`.
"""

from __future__ import annotations

import sys


def main() -> int:
    from smki_desktop.services import digest_prefetch

    digest_prefetch.start_for_argv(sys.argv[1:], digest_prefetch.CLI_COMMANDS)
    from smki_desktop.cli.main import main as run

    return run()
