"""Hash a large file on a helper thread while the process does other work (issue 15).

`smki adt sign` and `smki adt verify` need the SHA-256 of the whole file; Python's start-up,
its imports and the key store take about as long again. `start(path)` begins hashing at once on
a helper thread (file reads and `hashlib` release the GIL, so a second core does it while the
main thread imports and opens the database); `take(path)` returns that digest when the file is
still the same one (device, inode, size, modification time and status-change time before and
after the read), else None and the caller hashes it itself. The status-change time (ctime)
matters: a same-size rewrite in place whose modification time is set back with os.utime keeps
the other four, but user space cannot set ctime back (utime itself moves it). Only
standard-library modules are imported here, so that starting costs nothing (not even `pathlib`
or `typing`: paths are typed as os.PathLike).
"""

from __future__ import annotations

import hashlib
import os
import stat
import sys
import threading

MIN_SIZE = 4 << 20  # smaller files hash faster than a thread starts paying off
AWAIT_SECONDS = 60.0  # longest wait for a digest the caller hashes (`awaiting`)
_CHUNK = 4 << 20  # fits the cache beside the importing thread: 16 MiB slowed both threads
_SWITCH = 0.001  # seconds: sys.setswitchinterval while hashing (see _Job._run)

# the `smki` commands whose FILE arguments are hashed whole (see cli/start.py)
CLI_COMMANDS: dict[str, set[str]] = {"adt": {"sign", "verify"}}

_Stamp = tuple[int, int, int, int, int]


def _stamp(st: os.stat_result) -> _Stamp:
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class _Job:
    def __init__(self, path: str, before: _Stamp | None) -> None:
        self.path = path
        self.before = before
        self.digest: bytes | None = None
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, name="digest-prefetch", daemon=True)

    def _run(self) -> None:
        # Reads and hashing release the GIL; taking it back waits for the importing thread to
        # yield it, after a switch interval (5 ms by default), twice a chunk: the digest of
        # 100 MiB came ~150 ms after the start where hashing alone takes ~75 ms. With a 1 ms
        # interval while it runs (restored after), ~130 ms.
        before = sys.getswitchinterval()
        sys.setswitchinterval(min(before, _SWITCH))
        try:
            assert self.before is not None
            self.digest = hash_file(self.path, self.before)
        finally:
            sys.setswitchinterval(before)
            self.done.set()

    def provide(self, before: _Stamp | None, digest: bytes | None) -> None:
        self.before, self.digest = before, digest
        self.done.set()


def hash_file(path: str, before: _Stamp, stop: object = None) -> bytes | None:
    """SHA-256 of the file when it is still `before` (stamp) when opened and after the last
    read; else None. `stop`, when given, is called between reads: True ends it (None)."""
    h = hashlib.sha256()
    buf = bytearray(_CHUNK)
    view = memoryview(buf)
    try:
        with open(path, "rb", buffering=0) as fh:
            if _stamp(os.fstat(fh.fileno())) != before:
                return None
            while n := fh.readinto(view):
                h.update(view[:n])
                if stop is not None and stop():  # type: ignore[operator]
                    return None
            if _stamp(os.fstat(fh.fileno())) != before:
                return None
    except OSError:
        return None
    return h.digest()


_jobs: dict[str, _Job] = {}
_awaited: dict[str, _Job] = {}  # digests the caller sends (`awaiting`, `provided`)
_lock = threading.Lock()


def _key(path: str | os.PathLike[str]) -> str:
    return os.path.realpath(path)


def start(path: str | os.PathLike[str]) -> bool:
    """Begin hashing `path` if it is a regular file of at least MIN_SIZE bytes."""
    key = _key(path)
    try:
        st = os.stat(key)
    except (OSError, ValueError):
        return False
    if not stat.S_ISREG(st.st_mode) or st.st_size < MIN_SIZE:
        return False
    with _lock:
        if key in _jobs:
            return True
        job = _jobs[key] = _Job(key, _stamp(st))
    job.thread.start()
    return True


def take(path: str | os.PathLike[str]) -> bytes | None:
    """The SHA-256 `start` computed (or `awaiting` was given) for `path`, if the file is
    unchanged since; else None."""
    with _lock:
        job = _jobs.pop(_key(path), None)
    if job is None:
        return None
    # the caller's digest (`awaiting`) comes within seconds or its connection ends, and the
    # command with it; a bound all the same: without it the command hashes the file itself
    if not job.done.wait(None if job.thread.ident is not None else AWAIT_SECONDS):
        return None
    try:
        now = _stamp(os.stat(job.path))
    except OSError:
        return None
    return job.digest if job.digest is not None and now == job.before else None


def awaiting(path: str) -> None:
    """The digest of `path` (a real path) will come from the process that handed this one its
    command (the command agent's caller, `cli/agent_client.py`), through `provided`; `start`
    then does not hash it here."""
    with _lock:
        job = _jobs.setdefault(path, _Job(path, None))
        _awaited[path] = job


def provided(path: str, before: _Stamp | None, digest: bytes | None) -> None:
    """The caller's digest of `path` and the file's stamp it hashed (None, None: it could
    not; `take` then returns None and the command hashes the file itself)."""
    with _lock:
        job = _awaited.pop(path, None)  # `take` may already have it, waiting
    if job is not None and job.thread.ident is None and not job.done.is_set():
        job.provide(before, digest)


def files_of(words: list[str], commands: dict[str, set[str]]) -> list[str]:
    """The real paths of the large regular files named on a command line such as `adt sign
    FILE ...`, when `commands` lists its command and sub-command (e.g. {"adt": {"sign",
    "verify"}})."""
    plain = [w for w in words if not w.startswith("-")]
    for i, word in enumerate(plain[:-1]):
        if plain[i + 1] in commands.get(word, set()):
            return [p for p in dict.fromkeys(_key(a) for a in plain[i + 2:]) if _large(p)]
    return []


def _large(path: str) -> bool:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return False
    return stat.S_ISREG(st.st_mode) and st.st_size >= MIN_SIZE


def start_for_argv(words: list[str], commands: dict[str, set[str]]) -> None:
    """Start hashing the large files named on a command line such as `adt sign FILE ...`,
    when `commands` lists its command and sub-command (e.g. {"adt": {"sign", "verify"}})."""
    for path in files_of(words, commands):
        start(path)


def file_digest(path: str | os.PathLike[str]) -> tuple[str, int]:
    """SHA-256 (hex) and size of the file: the digest `start` began when the file has not
    changed since, else read once here. An unreadable file is an InputError naming it. (Here,
    not in `services.adt_receipts`, so that `adt verify` does not load the receipts, the
    validator and their store.)"""
    from smki_desktop.core.errors import InputError
    from smki_desktop.crypto.cms import hash_content

    try:
        early = take(path)
        if early is not None:
            return early.hex(), os.stat(path).st_size
        with open(path, "rb", buffering=0) as fh:
            digest = hash_content(fh)
            size = os.fstat(fh.fileno()).st_size
    except OSError as exc:
        raise InputError(f"{os.fspath(path)}: cannot be read ({exc.strerror or exc}).") from None
    return digest.hex(), size
