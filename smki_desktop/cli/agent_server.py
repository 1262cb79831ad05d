"""The command agent: a per-user process that keeps `smki`'s modules imported and forks a fresh
child for each `adt sign` / `adt verify` handed to it (`cli/agent_client.py` is the other side).

Why and what it holds: see the client's docstring and docs/command-agent.md. In short, the agent
holds imported code and nothing else: no key, no passphrase, no database, no keyring connection
(each child opens its own, as a `smki` process does). It forks only while it has one thread.

Who may use it: the socket is in a folder of the user's closed to everyone else, and each
caller's credentials (SO_PEERCRED) must be the agent's own user and group. What it serves: only
callers with its identity (interpreter, installation, import path, the interpreter's environment
variables) and only while the code it imported is unchanged on disk (checked at every request;
a change ends the agent, and the caller runs the command itself). It leaves after
$SMKI_AGENT_IDLE seconds (default 600) without a command, or when its socket is removed.

A child becomes its caller: the caller's standard input, output and error, working folder,
umask, arguments and environment; Ctrl+C, SIGTERM and SIGHUP of the caller are forwarded to it;
if the caller dies, the child is killed, as the caller's own process would have been.
"""

from __future__ import annotations

import errno
import fcntl
import gc
import io
import os
import select
import signal
import socket
import struct
import sys
import threading
import time

from smki_desktop.cli import agent_client as client

# imported up front: what `adt sign` / `adt verify` import before their work; the rest of their
# modules are learnt from the children (each reports what it had to import)
PRELOAD = ("smki_desktop.cli.main", "smki_desktop.cli.commands.adt", "cryptography.x509",
           "cryptography.hazmat.primitives.asymmetric.ec", "asn1crypto.cms", "sqlite3",
           "secretstorage", "smki_desktop.services.adt.sign", "smki_desktop.services.adt.verify")
# modules a child reports that the agent may import for the next ones: never the GUI's
LEARN_ROOTS = frozenset({"smki_desktop", "cryptography", "asn1crypto", "secretstorage",
                         "jeepney", "keyring", "platformdirs", "defusedxml"})
NEVER = ("smki_desktop.gui", "smki_desktop.simulator", "PySide6", "shiboken6")


class Agent:
    def __init__(self, path: str, idle: float) -> None:
        self.path = path
        self.idle = idle
        self.ident = client.identity()
        self.children: dict[int, tuple[int, int, int]] = {}  # pidfd: pid, conn fd, pipe
        self.files = _code_files()
        self.stale = False
        self.listener: socket.socket | None = None
        self.ino = 0
        self.poll = select.poll()

    # --- listening -----------------------------------------------------------------------
    def bind(self) -> bool:
        """Take the socket path; False when another live agent holds it."""
        lock = os.open(self.path + ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                client.connect(self.path).close()
                return False  # one answers
            except OSError:
                pass
            try:
                os.unlink(self.path)
            except FileNotFoundError:
                pass
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            old = os.umask(0o077)
            try:
                s.bind(self.path)
            finally:
                os.umask(old)
            s.listen(16)
            self.listener = s
            self.ino = os.stat(self.path).st_ino
            return True
        finally:
            os.close(lock)

    def serve(self) -> None:
        assert self.listener is not None
        poll = self.poll
        poll.register(self.listener.fileno(), select.POLLIN)
        last = time.monotonic()
        while True:
            if self.stale and not self.children:
                break
            wait = None if self.children else max(0.0, last + self.idle - time.monotonic())
            events = poll.poll(None if wait is None else min(wait, 30.0) * 1000)
            if not events and not self.children:
                if time.monotonic() >= last + self.idle or not self._still_ours():
                    break
                continue
            for fd, _ev in events:
                if self.listener is not None and fd == self.listener.fileno():
                    self._accept()
                elif fd in self.children:
                    poll.unregister(fd)
                    self._reap(fd)
                    last = time.monotonic()
        self.close()

    def close(self) -> None:
        if self.listener is not None:
            # out of the poll first: a closed descriptor there answers at once (POLLNVAL), and
            # the loop, waiting for a child to end, would spin
            try:
                self.poll.unregister(self.listener.fileno())
            except KeyError:
                pass
            if self._still_ours():
                try:
                    os.unlink(self.path)
                except OSError:
                    pass
            self.listener.close()
            self.listener = None

    def _still_ours(self) -> bool:
        try:
            return os.stat(self.path).st_ino == self.ino
        except OSError:
            return False

    # --- one request ---------------------------------------------------------------------
    def _accept(self) -> None:
        assert self.listener is not None
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        try:
            self._handle(conn)
        except Exception:  # a malformed request: that caller runs its command itself
            _reply(conn, b"N", 0)
            conn.close()

    def _handle(self, conn: socket.socket) -> None:
        # the caller sends at once: one that does not, or sends slowly, holds the others back
        deadline = time.monotonic() + 1.0
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        peer, uid, gid = struct.unpack("3i", creds)
        if uid != os.geteuid() or gid != os.getegid():
            conn.close()  # not this user: nothing, not even a reply
            return
        # the caller's world, read from its /proc entry at once (not taken from its request),
        # and proven to be that process's after (a pid reused by another would not be)
        peer_world = _peer_world(conn, peer)
        _until(conn, deadline)
        head, fds, _flags, _addr = socket.recv_fds(conn, 4, 4)
        try:
            size = int.from_bytes(head, "big") if len(head) == 4 else -1
            if not 0 < size <= 8 << 20:
                raise ValueError("bad request size")
            payload = _recv_exact(conn, size, deadline)
            req = _parse(payload)
            if req.kind == b"S":
                _reply(conn, b"P", os.getpid())
                return
            if req.kind == b"Q":
                self.stale = True
                _reply(conn, b"P", os.getpid())
                return
            if req.ident != self.ident or len(fds) != 4 or self._changed() \
                    or peer_world is None or peer_world != client.world("self") \
                    or threading.active_count() != 1:
                _reply(conn, b"N", 0)
                return
            self._fork(conn, fds, req)
        finally:
            for fd in fds:
                os.close(fd)
            conn.close()

    def _changed(self) -> bool:
        if _code_files_changed(self.files):
            self.stale = True
            self.close()  # callers from now on start a fresh agent
            return True
        return False

    def _fork(self, conn: socket.socket, fds: list[int], req: Request) -> None:
        before = set(sys.modules)
        rd, wr = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            os.close(rd)
            _child(conn, fds, req, wr, before, self)
        os.close(wr)
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:  # cannot watch it: wait for it here
            os.waitpid(pid, 0)
            os.close(rd)
            return
        # a raw duplicate: socket.dup() would set the timeout again, and with it O_NONBLOCK on
        # the description the child shares (its watcher would then read EAGAIN as "caller gone")
        self.children[pidfd] = (pid, os.dup(conn.fileno()), rd)
        self.poll.register(pidfd, select.POLLIN)

    def _reap(self, pidfd: int) -> None:
        pid, conn, rd = self.children.pop(pidfd)
        os.close(pidfd)
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            status = 0
        if os.WIFSIGNALED(status):
            try:
                os.write(conn, b"K" + os.WTERMSIG(status).to_bytes(4, "big", signed=True))
            except OSError:
                pass
        os.close(conn)
        try:
            learnt = _read_all(rd).decode("ascii", "replace").split()
        finally:
            os.close(rd)
        # nothing is learnt into code that changed meanwhile; files already known keep the
        # state they had when first loaded (a change during the command is still seen)
        if not self.stale and not self._changed() and _learn(learnt):
            self.files = {**_code_files(), **self.files}


def _child(conn: socket.socket, fds: list[int], req: Request, report: int, before: set[str],
           agent: Agent) -> None:
    code = 1
    done = threading.Event()
    try:
        if agent.listener is not None:
            agent.listener.close()
        for pidfd, (_pid, c, rd) in agent.children.items():
            for fd in (pidfd, rd, c):
                os.close(fd)
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for number in req.ignored:  # as a process of its own started by the caller would be
            signal.signal(signal.Signals(number), signal.SIG_IGN)
        for target, fd in enumerate(fds[:3]):
            os.dup2(fd, target)
        os.fchdir(fds[3])
        for fd in fds:
            os.close(fd)
        os.umask(req.mask)
        os.environ.clear()
        for k, v in req.env.items():
            os.environb[k] = v
        sys.argv = req.argv
        _fresh_streams()
        from smki_desktop.services import digest_prefetch

        for path in req.hashed:
            digest_prefetch.awaiting(path)
        conn.settimeout(None)
        _reply(conn, b"A", os.getpid())
        threading.Thread(target=_watch, args=(conn, done, req.hashed), daemon=True).start()
        from smki_desktop.cli import start

        code = start.run_here(req.argv[1:])
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        code = _flush_out(code)
        try:
            os.set_blocking(report, False)
            os.write(report, " ".join(sorted(set(sys.modules) - before)).encode("ascii",
                                                                              "replace"))
        except OSError:
            pass
        done.set()
        _reply(conn, b"E", code)
        os._exit(code)


def _flush_out(code: int) -> int:
    """Run the exit handlers and flush standard output and error, as the interpreter's exit
    would; output that cannot be written makes the command fail (exit 120, as Python's own
    exit then does), with a message when standard error can take one."""
    import atexit

    try:
        atexit._run_exitfuncs()
    except BaseException:  # as at the interpreter's exit: reported, not fatal
        pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError) as exc:
            if stream is sys.stdout:
                try:
                    sys.stderr.write(f"smki: standard output could not be written: "
                                     f"{getattr(exc, 'strerror', None) or exc}\n")
                    sys.stderr.flush()
                except (OSError, ValueError):
                    pass
            code = code or 120
    return code


def _watch(conn: socket.socket, done: threading.Event, hashed: list[str]) -> None:
    """The caller's digests and signals, sent over the connection; the caller gone: end at
    once. Signals are sent to the process (SIGTERM and SIGHUP have their default action, set
    by the main thread when the child began: only it may set handlers); any failure here ends
    the child, which must not outlive its watcher."""
    try:
        while True:
            try:
                data = conn.recv(1)
            except BlockingIOError:  # not expected (the descriptor is blocking): wait, retry
                select.select([conn], [], [], 1.0)
                continue
            except OSError:
                data = b""
            if done.is_set():
                return
            if data == b"D":
                _digest(conn, hashed)
            elif data in _SIGNALS:
                os.kill(os.getpid(), _SIGNALS[data])
            elif not data:
                break
    except BaseException:  # ended below
        pass
    if not done.is_set():
        os.kill(os.getpid(), signal.SIGKILL)  # as the caller's own process would be


_SIGNALS = {b"I": signal.SIGINT, b"T": signal.SIGTERM, b"H": signal.SIGHUP}


def _digest(conn: socket.socket, hashed: list[str]) -> None:
    """One digest from the caller: index, ok, five 8-byte stamp fields, 32 bytes."""
    from smki_desktop.services import digest_prefetch

    try:
        body = _recv_exact(conn, 2 + 40 + 32)
    except OSError:
        return  # the next read sees the end and ends the child
    index, ok = body[0], body[1]
    if index >= len(hashed):
        return
    stamp = tuple(int.from_bytes(body[2 + 8 * i:10 + 8 * i], "big", signed=True)
                  for i in range(5))
    if ok == 1:
        digest_prefetch.provided(hashed[index], stamp, body[42:])  # type: ignore[arg-type]
    else:
        digest_prefetch.provided(hashed[index], None, None)


def _fresh_streams() -> None:
    """Standard streams on the caller's descriptors, made as Python makes them at start."""
    enc, err = sys.stdout.encoding, sys.stdout.errors
    sys.stdin = io.TextIOWrapper(
        io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding=enc, errors=err)
    # -u or PYTHONUNBUFFERED (part of the identity): the agent's own stdout was made unbuffered
    raw = not isinstance(getattr(sys.stdout, "buffer", None), io.BufferedWriter)

    def out(fd: int) -> io.RawIOBase | io.BufferedWriter:
        f = io.FileIO(fd, "w", closefd=False)
        return f if raw else io.BufferedWriter(f)

    sys.stdout = io.TextIOWrapper(out(1), encoding=enc, errors=err, write_through=raw,
                                  line_buffering=os.isatty(1) and not raw)
    sys.stderr = io.TextIOWrapper(out(2), encoding=enc, errors="backslashreplace",
                                  write_through=raw, line_buffering=not raw)
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = (  # type: ignore[misc]
        sys.stdin, sys.stdout, sys.stderr)


def _reply(conn: socket.socket, tag: bytes, value: int) -> None:
    try:
        conn.sendall(tag + value.to_bytes(4, "big", signed=True))
    except (OSError, OverflowError):
        pass


_SO_PEERPIDFD = 77  # Linux 6.5+; Python 3.11 has no name for it


def _peer_world(conn: socket.socket, pid: int) -> str | None:
    """The connected process's world (`agent_client.world`), or None when it cannot be shown
    to be that process's: through a pidfd of the peer (alive after the read: its pid was not
    reused), else its start time read before and after."""
    try:
        pidfd: int | None = struct.unpack("i", conn.getsockopt(
            socket.SOL_SOCKET, _SO_PEERPIDFD, 4))[0]
    except OSError:
        pidfd = None
    try:
        started = None if pidfd is not None else _start_time(pid)
        found = client.world(str(pid))
        if pidfd is not None:
            signal.pidfd_send_signal(pidfd, 0)  # raises once the process has ended
        elif started is None or _start_time(pid) != started:
            return None
    except OSError:
        return None
    finally:
        if pidfd is not None:
            os.close(pidfd)
    return found


def _start_time(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
            return f.read().rpartition(")")[2].split()[19]
    except (OSError, IndexError):
        return None


def _until(conn: socket.socket, deadline: float) -> None:
    """The socket's timeout set to what is left before `deadline` (a timeout once past)."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("request too slow")
    conn.settimeout(left)


def _recv_exact(conn: socket.socket, size: int, deadline: float | None = None) -> bytes:
    parts = []
    while size:
        if deadline is not None:
            _until(conn, deadline)
        chunk = conn.recv(min(size, 1 << 16))
        if not chunk:
            raise ConnectionError("request cut short")
        parts.append(chunk)
        size -= len(chunk)
    return b"".join(parts)


def _read_all(fd: int) -> bytes:
    out = []
    while True:
        try:
            chunk = os.read(fd, 1 << 16)
        except OSError:
            break
        if not chunk:
            break
        out.append(chunk)
    return b"".join(out)


class Request:
    def __init__(self, kind: bytes, ident: str, mask: int, argv: list[str], hashed: list[str],
                 ignored: list[int], env: dict[bytes, bytes]) -> None:
        self.kind, self.ident, self.mask, self.argv = kind, ident, mask, argv
        self.hashed, self.ignored, self.env = hashed, ignored, env


def _parse(payload: bytes) -> Request:
    fields = payload.split(b"\0")
    if fields[0] != client.MAGIC or len(fields) < 6:
        raise ValueError("not a request")
    kind, ident = fields[1], fields[2].decode("utf-8", "surrogateescape")
    mask, count = int(fields[3]), int(fields[4])
    if kind not in (b"R", b"S", b"Q") or not 0 <= mask <= 0o777 or not 0 <= count < 10_000 \
            or (kind == b"R" and count == 0):
        raise ValueError("bad request")
    argv = [os.fsdecode(a) for a in fields[5:5 + count]]
    at = 5 + count
    n_hashed = int(fields[at])
    if not 0 <= n_hashed <= 16:
        raise ValueError("bad request")
    hashed = [os.fsdecode(p) for p in fields[at + 1:at + 1 + n_hashed]]
    if len(hashed) != n_hashed or not all(os.path.isabs(p) for p in hashed):
        raise ValueError("bad request")
    at += 1 + n_hashed
    ignored = [int(n) for n in fields[at].split(b",") if n] if at < len(fields) else []
    if not all(n in client.MIRRORED for n in ignored):
        raise ValueError("bad request")
    env: dict[bytes, bytes] = {}
    for item in fields[at + 1:]:
        k, sep, v = item.partition(b"=")
        if sep and k:
            env[k] = v
    return Request(kind, ident, mask, argv, hashed, ignored, env)


def _code_files() -> dict[str, tuple[int, int, int]]:
    """Each file of the code this process runs: the loaded modules' files, the interpreter and
    the shared libraries it has mapped (an upgraded libsqlite3 or libcrypto counts too)."""
    out: dict[str, tuple[int, int, int]] = {}
    paths = [getattr(mod, "__file__", None) for mod in list(sys.modules.values())]
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="surrogateescape") as f:
            for line in f:
                parts = line.split(None, 5)
                if len(parts) == 6 and parts[5].startswith("/"):
                    paths.append(parts[5].rstrip("\n"))
    except OSError:
        pass
    for path in dict.fromkeys(paths):
        if path:
            try:
                st = os.stat(path)
            except OSError:
                continue
            out[path] = (st.st_ino, st.st_size, st.st_mtime_ns)
    try:
        st = os.stat(sys.executable)
        out[sys.executable] = (st.st_ino, st.st_size, st.st_mtime_ns)
    except OSError:
        pass
    return out


def _code_files_changed(files: dict[str, tuple[int, int, int]]) -> bool:
    for path, was in files.items():
        try:
            st = os.stat(path)
        except OSError:
            return True
        if (st.st_ino, st.st_size, st.st_mtime_ns) != was:
            return True
    return False


def _learn(names: list[str]) -> bool:
    """Import what a child had to import (within LEARN_ROOTS and the standard library, never
    the GUI); whether anything new was."""
    import importlib

    had = len(sys.modules)
    for name in names:
        if name in sys.modules or name.startswith(NEVER):
            continue
        root = name.partition(".")[0]
        if root not in LEARN_ROOTS and root not in sys.stdlib_module_names:
            continue
        try:
            importlib.import_module(name)
        except BaseException:  # a module that cannot load here is not learnt
            continue
    return len(sys.modules) != had


def main() -> None:
    os.chdir("/")
    try:
        idle = float(os.environ.get("SMKI_AGENT_IDLE", "") or client.IDLE_DEFAULT)
    except ValueError:
        idle = client.IDLE_DEFAULT
    path = client.socket_path()
    if path is None:
        return
    import importlib

    for name in PRELOAD:
        importlib.import_module(name)
    from smki_desktop.cli.main import prebuild

    for command in client.SERVED:
        prebuild(command)
    agent = Agent(path, idle)
    try:
        if not agent.bind():
            return
    except OSError as exc:
        if exc.errno not in (errno.EADDRINUSE, errno.EACCES, errno.ENOENT):
            raise
        return
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    gc.collect()
    gc.freeze()  # what the children share stays shared
    try:
        agent.serve()
    finally:
        agent.close()
