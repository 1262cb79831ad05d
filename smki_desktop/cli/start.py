"""The `smki` program's first module: it hands `adt sign` / `adt verify` to a warm command
agent when one answers (`cli/agent_client.py`); otherwise it starts hashing their file on a
helper thread before anything heavy is imported, runs the command line, and leaves without the
interpreter's teardown once the command is finished.

Python's start and the imports of `cli.main`, `cryptography` and the services take longer than
hashing 100 MiB; begun here, the digest is ready when the command needs it (issue 15). Only
standard-library modules are loaded before `cli.main`.
"""

from __future__ import annotations

import sys


def main() -> int:
    from smki_desktop.cli import agent_client

    words = sys.argv[1:]
    code = agent_client.run(words)  # a warm agent's child runs it (cli/agent_server.py)
    if code is None:
        code = run_here(words)
        if agent_client.served(words):
            agent_client.start_agent()  # for the next command
    leave_now(code)
    return code


def run_here(words: list[str]) -> int:
    """Run the command line in this process (or in an agent's child, which has become the
    caller)."""
    from smki_desktop.services import digest_prefetch

    digest_prefetch.start_for_argv(words, digest_prefetch.CLI_COMMANDS)
    from smki_desktop.cli.main import main as run

    return run(words)


def leave_now(code: int) -> None:
    """End the process with `code` at once when nothing of it is left to finish.

    After a command, the interpreter's own teardown (freeing the ~300 modules and their
    objects one by one) took ~30 ms of every `smki` process here (issue 15: a third of what
    `openssl cms` takes for a whole signing). The command has closed its database, key store
    and files by now (`CliApp.close`); what the teardown would still do is kept: the `atexit`
    handlers run (logging's flush, `weakref.finalize` clean-ups) and standard output and error
    are flushed. Returns without leaving (the normal exit follows) when another non-daemon
    thread still runs — the interpreter would wait for it — or when the flush fails (a closed
    pipe is then reported as Python reports it)."""
    import atexit
    import os
    import threading

    me = threading.current_thread()
    if any(t is not me and not t.daemon and t.is_alive() for t in threading.enumerate()):
        return
    atexit._run_exitfuncs()
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:  # None: started with the descriptor closed
                stream.flush()
    except (OSError, ValueError):
        return
    os._exit(code)
