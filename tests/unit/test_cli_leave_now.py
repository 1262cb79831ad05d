"""The `smki` program leaves without the interpreter's teardown once a command is done
(`cli.start.leave_now`), and keeps what that teardown would have done that matters: the exit
code, `atexit` handlers, everything written to standard output and error (a pipe included);
it does not cut short a non-daemon thread that still runs."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path


def _run(body: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    script = textwrap.dedent("""
        import atexit, sys, threading, time
        from smki_desktop.cli.start import leave_now
    """) + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60)


def test_leaves_with_the_code_after_atexit_handlers_and_flushed_output(tmp_path: Path
                                                                        ) -> None:
    mark = tmp_path / "atexit-ran"
    res = _run(f"""
        atexit.register(lambda: open({str(mark)!r}, "w").write("yes"))
        sys.stdout.write("x" * 200000)   # more than any buffer: flushed by leave_now
        sys.stderr.write("warned")
        leave_now(3)
        print("NOT REACHED")
    """, tmp_path)
    assert res.returncode == 3
    assert res.stdout == "x" * 200000
    assert res.stderr == "warned"
    assert mark.read_text() == "yes"


def test_skips_the_interpreter_teardown(tmp_path: Path) -> None:
    """What only the teardown runs (a module-level object's __del__) does not run: the proof
    that the process left at once rather than through the normal exit."""
    res = _run("""
        class Late:
            def __del__(self):
                sys.stdout.write("TEARDOWN")
        keep = Late()
        leave_now(0)
    """, tmp_path)
    assert res.returncode == 0
    assert "TEARDOWN" not in res.stdout
    normal = _run("""
        class Late:
            def __del__(self):
                sys.stdout.write("TEARDOWN")
        keep = Late()
    """, tmp_path)
    assert "TEARDOWN" in normal.stdout


def test_waits_as_python_does_for_a_non_daemon_thread(tmp_path: Path) -> None:
    res = _run("""
        def work():
            time.sleep(0.3)
            sys.stdout.write("THREAD DONE")
        threading.Thread(target=work).start()
        leave_now(0)
        sys.stdout.write("NORMAL EXIT ")
        raise SystemExit(5)
    """, tmp_path)
    assert res.stdout == "NORMAL EXIT THREAD DONE"
    assert res.returncode == 5


def test_a_closed_pipe_falls_back_to_the_normal_exit(tmp_path: Path) -> None:
    """Standard output closed by its reader (`smki ... | head -c0`) before the flush: the flush
    fails, leave_now returns, and Python ends the process as it always did (it reports the
    broken pipe its way) rather than os._exit hiding the lost output."""
    script = textwrap.dedent("""
        import sys, time
        from smki_desktop.cli.start import leave_now
        import io
        # output held in a buffer until the flush, as a long command's output can be
        sys.stdout = io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False),
                                                        1 << 16))
        sys.stdout.write("y" * 100)
        sys.stderr.write("READY\\n"); sys.stderr.flush()
        time.sleep(0.5)               # the reader closes the pipe meanwhile
        leave_now(0)
        sys.stderr.write("FELL BACK\\n")
    """)
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, cwd=tmp_path)
    assert p.stdout is not None and p.stderr is not None
    assert p.stderr.readline() == b"READY\n"
    p.stdout.close()
    err = p.stderr.read().decode()
    p.wait(timeout=60)
    assert "FELL BACK" in err  # leave_now returned: the normal exit ran


def test_the_smki_program_leaves_through_it(tmp_path: Path) -> None:
    """`python -m smki_desktop.cli` (and the `smki` script, the bundle's entry: all call
    `cli.start.main`) ends a finished command with leave_now: its output and code are kept."""
    res = subprocess.run([sys.executable, "-X", "importtime", "-m", "smki_desktop.cli",
                          "--version"], capture_output=True, text=True, cwd=tmp_path,
                         timeout=60)
    assert res.returncode == 0
    assert res.stdout.startswith("smki ")
    probe = textwrap.dedent("""
        import os, sys
        import smki_desktop.cli.start as start
        left = []
        real = os._exit
        os._exit = lambda code: (left.append(code), sys.stdout.flush(), real(40 + code))
        sys.argv = ["smki", "--version"]
        start.main()
    """)
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         cwd=tmp_path, timeout=60)
    assert res.returncode == 40
    assert res.stdout.startswith("smki ")
