"""The helper-thread digest: the same SHA-256 as hashlib over the file; nothing when the file
changed after hashing began, is small, or is not a regular file; argv parsing picks the files
of `adt sign|verify` only."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from smki_desktop.services import digest_prefetch


def _big(path: Path, fill: bytes = b"x") -> Path:
    path.write_bytes(fill * (digest_prefetch.MIN_SIZE + 12345))
    return path


def test_prefetched_digest_is_the_files(tmp_path: Path) -> None:
    f = _big(tmp_path / "a.csv")
    assert digest_prefetch.start(f)
    assert digest_prefetch.take(f) == hashlib.sha256(f.read_bytes()).digest()
    assert digest_prefetch.take(f) is None  # taken once


def test_changed_file_gives_no_digest(tmp_path: Path) -> None:
    f = _big(tmp_path / "a.csv")
    assert digest_prefetch.start(f)
    f.write_bytes(f.read_bytes()[:-1] + b"y")  # same size, new content and time
    os.utime(f, ns=(1, 1))
    assert digest_prefetch.take(f) is None


def test_same_size_rewrite_in_place_with_the_time_set_back_gives_no_digest(
        tmp_path: Path) -> None:
    """The file rewritten in place after it was hashed, same size and inode, its modification
    time put back with os.utime: the status-change time (which user space cannot set) still
    tells, so the old digest is not handed out."""
    import time

    f = _big(tmp_path / "a.csv")
    assert digest_prefetch.start(f)
    digest_prefetch._jobs[os.path.realpath(f)].thread.join()  # hashed: the old bytes
    st = os.stat(f)
    time.sleep(0.05)  # past the file system's timestamp granularity
    with open(f, "r+b") as fh:
        fh.seek(1000)
        fh.write(b"9")
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    after = os.stat(f)
    assert (after.st_ino, after.st_size, after.st_mtime_ns) == (st.st_ino, st.st_size,
                                                                st.st_mtime_ns)
    assert digest_prefetch.take(f) is None


def test_small_or_missing_or_folder_not_started(tmp_path: Path) -> None:
    small = tmp_path / "s.csv"
    small.write_bytes(b"a,b\r\n")
    assert not digest_prefetch.start(small)
    assert not digest_prefetch.start(tmp_path / "missing.csv")
    assert not digest_prefetch.start(tmp_path)
    assert digest_prefetch.take(small) is None


def test_argv_names_the_sign_and_verify_files_only(tmp_path: Path) -> None:
    f = _big(tmp_path / "a.csv")
    other = _big(tmp_path / "b.csv", b"z")
    commands = {"adt": {"sign", "verify"}}
    digest_prefetch.start_for_argv(["--env", "test", "adt", "validate", str(other)], commands)
    assert digest_prefetch.take(other) is None
    digest_prefetch.start_for_argv(["--data-dir", str(tmp_path), "adt", "sign", str(f),
                                    "--key", "abc"], commands)
    assert digest_prefetch.take(f) == hashlib.sha256(f.read_bytes()).digest()


def test_the_smki_program_starts_hashing_before_it_imports_the_command_line(
        tmp_path: Path) -> None:
    """`cli.start` (the `smki` script, `python -m smki_desktop.cli`, the bundle's entry) begins
    the digest before `cli.main` and its imports (cryptography among them) are loaded."""
    import subprocess
    import sys
    import tomllib

    f = _big(tmp_path / "a.csv")
    probe = f"""
import sys
from smki_desktop.services import digest_prefetch

class Watch:
    def find_spec(self, name, path=None, target=None):
        if name == "smki_desktop.cli.main":
            heavy = sorted(m for m in sys.modules
                           if m.split(".")[0] in ("cryptography", "asn1crypto", "sqlite3"))
            print("JOBS", len(digest_prefetch._jobs), "HEAVY", heavy)
            raise SystemExit(0)
        return None

sys.meta_path.insert(0, Watch())
sys.argv = ["smki", "--data-dir", {str(tmp_path / "data")!r}, "adt", "verify", {str(f)!r}]
from smki_desktop.cli.start import main
main()
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True, cwd=tmp_path).stdout
    assert out.strip() == "JOBS 1 HEAVY []"
    root = Path(__file__).resolve().parents[2]
    scripts = tomllib.loads((root / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["smki"] == "smki_desktop.cli.start:main"
    assert "from smki_desktop.cli.start import main" in (
        root / "smki_desktop" / "cli" / "__main__.py").read_text()
    assert "from smki_desktop.cli.start import main" in (
        root / "packaging" / "entry" / "cli.py").read_text()


def test_the_helper_imports_nothing_that_delays_the_hashing(tmp_path: Path) -> None:
    """Everything imported before the helper thread starts delays the digest: `pathlib`
    (~5 ms) and `typing` (~2 ms) were, though the module needs neither."""
    import subprocess
    import sys

    probe = ("import sys\n"
             "from smki_desktop.services import digest_prefetch\n"
             "print(sorted(m for m in ('pathlib', 'typing', 'fnmatch', 're') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-S", "-c", probe], capture_output=True, text=True,
                         check=True, cwd=tmp_path,
                         env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])})
    assert out.stdout.strip() == "[]"


def test_hashing_lowers_the_switch_interval_only_while_it_runs(tmp_path: Path) -> None:
    """While the helper hashes, the interpreter hands the GIL over every millisecond (so the
    helper is not kept waiting 5 ms twice a chunk by the importing thread); after, the
    interval is the one it found."""
    import sys

    seen: list[float] = []
    real_hash = digest_prefetch.hash_file

    def watching(*a: object, **kw: object) -> bytes | None:
        seen.append(sys.getswitchinterval())
        return real_hash(*a, **kw)  # type: ignore[arg-type]

    before = sys.getswitchinterval()
    f = _big(tmp_path / "a.csv")
    digest_prefetch.hash_file = watching  # type: ignore[assignment]
    try:
        assert digest_prefetch.start(f)
        assert digest_prefetch.take(f) == hashlib.sha256(f.read_bytes()).digest()
    finally:
        digest_prefetch.hash_file = real_hash
    assert seen == [min(before, digest_prefetch._SWITCH)] and seen[0] <= 0.001
    assert sys.getswitchinterval() == before
