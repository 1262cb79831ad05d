"""Entry script of the bundle's `smki` program (the command line).

Also the bundle's way to run the app's own child processes (PDF layout, the Test simulator):
`smki --smki-run-module MODULE ...`, see smki_desktop/child_process.py.
"""

import multiprocessing
import sys

from smki_desktop.child_process import run_child_module_if_asked

if __name__ == "__main__":
    multiprocessing.freeze_support()  # device-batch workers are spawned from the bundle too
    code = run_child_module_if_asked(sys.argv)
    if code is None:
        from smki_desktop.cli.start import main

        code = main()
    raise SystemExit(code)
