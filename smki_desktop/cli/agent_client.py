"""The `smki` side of the command agent: hand `adt sign` / `adt verify` to a warm agent.

Python's start and the imports of `cryptography`, `asn1crypto`, the Secret Service client and
the services take twice what `openssl cms` takes for a whole signing (issue 15). The agent
(`cli/agent_server.py`, as `gpg-agent` serves `gpg`) keeps those modules imported and forks a
fresh child for each command: the child is this process in all that the command sees (its
arguments, environment, working folder, umask, standard input, output and error, signals) and
nothing of one command reaches another. When no agent answers, or anything is not as expected,
`smki` runs the command itself, as before; and it then starts an agent for the next command.

Kept small and standard-library only: this module is imported on every `smki` start.
`SMKI_AGENT=off` (or `0`, `no`) turns the agent off; so does a frozen bundle.
"""

from __future__ import annotations

import os
import stat
import sys

# commands the agent serves: long files, no prompts in the usual case (a PIN is asked on the
# caller's terminal all the same: standard input is the caller's)
SERVED: dict[str, set[str]] = {"adt": {"sign", "verify"}}
GLOBAL_WITH_VALUE = ("--env", "--data-dir")  # the global options that take a value
# what changes how the interpreter, its libraries or the C library load, decode or behave:
# part of the agent's identity (a child keeps the agent's process image and time zone)
INTERPRETER_VARS = ("PYTHONPATH", "PYTHONHOME", "PYTHONSAFEPATH", "PYTHONNOUSERSITE",
                    "PYTHONUSERBASE", "PYTHONWARNINGS", "PYTHONIOENCODING", "PYTHONUTF8",
                    "PYTHONDEVMODE", "PYTHONMALLOC", "PYTHONOPTIMIZE", "PYTHONHASHSEED",
                    "PYTHONDONTWRITEBYTECODE", "PYTHONPYCACHEPREFIX", "PYTHONPLATLIBDIR",
                    "PYTHONINTMAXSTRDIGITS", "PYTHONUNBUFFERED", "LC_ALL", "LC_CTYPE", "LANG",
                    "LANGUAGE", "LC_MESSAGES", "TZ", "PYSIDE6_OPTION_LAZY", "LD_PRELOAD",
                    "LD_LIBRARY_PATH", "LD_AUDIT", "GLIBC_TUNABLES", "OPENSSL_CONF",
                    "OPENSSL_MODULES", "OPENSSL_ia32cap", "SSL_CERT_FILE", "SSL_CERT_DIR")
MAGIC = b"SMKIAGENT2"
IDLE_DEFAULT = 600.0  # seconds an agent waits for a command before it leaves


def enabled() -> bool:
    if getattr(sys, "frozen", False):
        return False
    return os.environ.get("SMKI_AGENT", "on").strip().lower() not in ("off", "0", "no", "false")


def command_words(argv: list[str], count: int) -> list[str]:
    """The first `count` words of the command line that are not options, skipping the global
    options and their values (`--env X`, `--data-dir X`): e.g. ["adt", "sign"]."""
    words: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in GLOBAL_WITH_VALUE:
            skip = True
        elif not arg.startswith("-"):
            words.append(arg)
            if len(words) == count:
                break
    return words


def served(argv: list[str]) -> bool:
    """Whether the command line is one the agent serves (`adt sign ...`, `adt verify ...`)."""
    if any(arg in ("-h", "--help", "--version", "--") for arg in argv):
        return False
    words = command_words(argv, 2)
    return len(words) == 2 and words[1] in SERVED.get(words[0], set())


def _flags() -> bool:
    """Whether the interpreter runs with default flags (an agent is started only so)."""
    f = sys.flags
    return not (f.isolated or f.no_site or f.ignore_environment or f.optimize or f.safe_path
                or f.dev_mode or f.no_user_site or f.verbose or f.inspect or f.interactive)


_IDENTITY: list[str] = []


def identity() -> str:
    """This process's `_identity()`, made once."""
    if not _IDENTITY:
        _IDENTITY.append(_identity())
    return _IDENTITY[0]


def _identity() -> str:
    """This interpreter, installation, import path and process world, as text: an agent
    serves only callers that would import exactly what it imported and run as it runs
    (compared whole by the agent, and the world again from the caller's /proc entry)."""
    import smki_desktop

    parts = [sys.executable, os.path.dirname(os.path.abspath(smki_desktop.__file__)),
             smki_desktop.__version__, "\n".join(sys.path), str(sys.flags.utf8_mode),
             repr(sys.warnoptions), repr(sorted(sys._xoptions.items())),
             *(f"{k}={os.environ.get(k, '')}" for k in INTERPRETER_VARS), world("self") or "?"]
    return "\x1f".join(parts)  # no NUL: requests are NUL-separated


# what a forked child keeps of the agent and a `smki` process of its own would have had of the
# caller: namespaces, root folder, capabilities, groups, no-new-privileges, seccomp, resource
# limits, control group and security label
_NAMESPACES = ("mnt", "user", "pid", "net", "uts", "ipc", "cgroup", "time")
# Threads: a setting made in one thread only (no-new-privileges, seccomp) is not in the main
# thread's lines: the caller is single-threaded when it connects, and so must its peer be
_STATUS = ("Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:", "CapBnd:", "CapAmb:",
           "NoNewPrivs:", "Seccomp:", "Seccomp_filters:", "Cpus_allowed_list:",
           "Mems_allowed_list:", "Threads:")


def world(pid: str) -> str | None:
    """The process's world as text (`pid` a number or "self"); None when it cannot be read."""
    base = f"/proc/{pid}"
    try:
        out = [f"{n}:{os.stat(f'{base}/ns/{n}').st_ino}" for n in _NAMESPACES
               if os.path.exists(f"/proc/self/ns/{n}")]
        root = os.stat(f"{base}/root")
        out.append(f"root:{root.st_dev}:{root.st_ino}")
        with open(f"{base}/status", encoding="ascii", errors="replace") as f:
            out += [line.strip() for line in f if line.startswith(_STATUS)]
        for name in ("limits", "cgroup", "oom_score_adj"):
            with open(f"{base}/{name}", encoding="ascii", errors="replace") as f:
                out.append(f.read())
        with open(f"{base}/stat", encoding="ascii", errors="replace") as f:
            stat_fields = f.read().rpartition(")")[2].split()
        out.append("sched:" + ":".join(stat_fields[i] for i in (16, 37, 38)))  # nice, rt, policy
    except OSError:
        return None
    try:
        with open(f"{base}/attr/current", encoding="ascii", errors="replace") as f:
            out.append(f.read())
    except OSError:  # no security module: nothing to compare
        pass
    return "|".join(out)


def _short(ident: str) -> str:
    """A name for the socket from the identity (two CRC-32s: not a security check, the agent
    compares the identity whole; `zlib` loads in a fraction of `hashlib`'s time)."""
    import zlib

    data = ident.encode("utf-8", "surrogateescape")
    return f"{zlib.crc32(data):08x}{zlib.crc32(data[::-1]):08x}"


def folder(create: bool = True) -> str | None:
    """The agent's private folder ($XDG_RUNTIME_DIR/smki-desktop, else /tmp/smki-desktop-UID):
    a folder of this user's, not a link, closed to everyone else; None when it is not so."""
    uid = os.geteuid()
    base = os.environ.get("XDG_RUNTIME_DIR", "")
    path = (os.path.join(base, "smki-desktop") if base and os.path.isabs(base)
            else f"/tmp/smki-desktop-{uid}")
    try:
        if create:
            try:
                os.mkdir(path, 0o700)
            except FileExistsError:
                pass
        st = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != uid or st.st_mode & 0o077:
        return None
    return path


def socket_path(create: bool = True) -> str | None:
    where = folder(create)
    if where is None:
        return None
    path = os.path.join(where, f"agent-{_short(identity())}.sock")
    return path if len(os.fsencode(path)) < 100 else None  # sun_path holds 108 bytes


def request_bytes(kind: bytes, argv: list[str], ident: str, hashed: list[str] | None = None,
                  ignored: list[int] | None = None) -> bytes:
    """A request: MAGIC, kind (R run, S status, Q quit), identity, umask, argv, the files this
    caller hashes for the command, the signals it ignores, environment; NUL-separated bytes
    (none can hold a NUL)."""
    mask = os.umask(0)
    os.umask(mask)
    env = [k + b"=" + v for k, v in os.environb.items()]
    hashed = hashed or []
    fields = [MAGIC, kind, ident.encode("utf-8", "surrogateescape"), str(mask).encode(),
              str(len(argv)).encode(), *(os.fsencode(a) for a in argv),
              str(len(hashed)).encode(), *(os.fsencode(p) for p in hashed),
              ",".join(str(n) for n in ignored or []).encode(), *env]
    return b"\0".join(fields)


def ignored_signals() -> list[int]:
    """The signals this process ignores as it was started (`nohup`, a background job of a
    script): a process of its own keeps them ignored, so must the agent's child."""
    import signal

    return [int(n) for n in MIRRORED
            if signal.getsignal(n) == signal.SIG_IGN]  # type: ignore[comparison-overlap]


# the signals whose "ignored" a child takes from its caller (SIGPIPE and SIGXFSZ Python itself
# ignores in every process)
MIRRORED = (1, 2, 3, 10, 12, 14, 15, 20, 21, 22)  # HUP INT QUIT USR1 USR2 ALRM TERM TSTP TTIN TTOU


def connect(path: str):  # type: ignore[no-untyped-def]
    """A connected Unix socket (`_socket`: `socket` would load `selectors` and build its enums,
    ~7 ms of every `smki` start)."""
    import _socket

    s = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        s.connect(path)
        creds = s.getsockopt(_socket.SOL_SOCKET, _socket.SO_PEERCRED, 12)  # pid, uid, gid
        if int.from_bytes(creds[4:8], sys.byteorder) != os.geteuid():
            raise PermissionError(f"{path}: not served by this user")  # the environment's
            # secrets (D-Bus address, …) go to no one else
    except OSError:
        s.close()
        raise
    return s


def send_request(s, payload: bytes, fds: list[int]) -> None:  # type: ignore[no-untyped-def]
    import _socket

    head = len(payload).to_bytes(4, "big")
    ints = b"".join(fd.to_bytes(4, sys.byteorder, signed=True) for fd in fds)  # C ints
    anc = [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, ints)] if fds else []
    s.sendmsg([head], anc)
    s.sendall(payload)


def read_reply(s) -> tuple[bytes, int]:  # type: ignore[no-untyped-def]
    """One reply: a tag byte and a signed 4-byte number; (b"", 0) when the agent closed."""
    data = b""
    while len(data) < 5:
        chunk = s.recv(5 - len(data))
        if not chunk:
            return b"", 0
        data += chunk
    return data[:1], int.from_bytes(data[1:], "big", signed=True)


def _standard_fds_open() -> bool:
    """Whether standard input, output and error are open: a closed one would give the agent's
    socket its number, and the child would read or write the socket as that stream."""
    try:
        for fd in (0, 1, 2):
            os.fstat(fd)
    except OSError:
        return False
    return True


def _connected(create: bool):  # type: ignore[no-untyped-def]
    """A connection to this installation's agent, or None when none answers."""
    path = socket_path(create)
    if path is None:
        return None
    try:
        return connect(path)
    except OSError:
        return None


def run(argv: list[str]) -> int | None:
    """Run the command through a warm agent: its exit code, or None when no agent took it
    (the caller then runs it itself)."""
    if not (enabled() and _flags() and served(argv)) or not _standard_fds_open():
        return None
    s = _connected(True)
    if s is None:
        return None
    try:
        return _run_on(s, argv)
    finally:
        s.close()


def _run_on(s, argv: list[str]) -> int | None:  # type: ignore[no-untyped-def]
    import signal

    from smki_desktop.services import digest_prefetch

    # This process would only wait: it hashes the command's file while the agent's child does
    # the rest, and hands it the digest (`digest_prefetch.provided`); the child hashes the
    # file itself when it does not come or the file changed.
    hashed = digest_prefetch.files_of(argv, digest_prefetch.CLI_COMMANDS)
    try:
        cwd = os.open(".", os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        s.settimeout(10)
        ignored = ignored_signals()
        send_request(s, request_bytes(b"R", [sys.argv[0], *argv], identity(), hashed, ignored),
                     [0, 1, 2, cwd])
        tag, value = read_reply(s)  # A: accepted (the child runs), N: not taken
    except OSError:
        return None
    finally:
        os.close(cwd)
    if tag != b"A":
        return None
    s.settimeout(None)

    tags = {int(signal.SIGINT): b"I", int(signal.SIGTERM): b"T", int(signal.SIGHUP): b"H"}

    def forward(signum: int, _frame: object) -> None:
        try:
            s.send(tags[signum])
        except OSError:
            pass

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        if int(sig) not in ignored:  # ignored here: ignored by the child too, not forwarded
            signal.signal(sig, forward)
    for index, path in enumerate(hashed):
        _send_digest(s, index, path)
    try:
        tag, value = read_reply(s)
    except OSError:
        tag, value = b"", 0
    if tag == b"E":
        return value
    if tag == b"K" and 0 < value < signal.NSIG:  # ended by a signal: end the same way
        sys.stdout.flush()
        if value not in (signal.SIGKILL, signal.SIGSTOP):
            signal.signal(value, signal.SIG_DFL)
        os.kill(os.getpid(), value)
        return 128 + value
    sys.stderr.write("smki: the command ended without an exit status (its agent process was "
                     "stopped); see the audit log for what it completed.\n")
    return 1


def _send_digest(s, index: int, path: str) -> None:  # type: ignore[no-untyped-def]
    """Hash `path` and send `D`, its index, 1 and its stamp and digest (0 and zeros when it
    could not be hashed as it was); stops early when the child has already answered."""
    import select

    from smki_desktop.services import digest_prefetch

    def answered() -> bool:
        return bool(select.select([s], [], [], 0)[0])

    stamp: tuple[int, ...] = (0, 0, 0, 0, 0)
    digest = None
    try:
        st = os.stat(path)
        stamp = digest_prefetch._stamp(st)
        digest = digest_prefetch.hash_file(path, stamp, answered)
    except OSError:
        pass
    body = b"".join(v.to_bytes(8, "big", signed=True) for v in stamp)
    message = b"D" + bytes([index % 256, digest is not None]) + body + (digest or bytes(32))
    try:
        s.sendall(message)
    except OSError:
        pass


def start_agent() -> None:
    """Start an agent for the next commands, detached, when none answers (after a command
    that ran without one). Quiet: an agent that cannot start only leaves commands slower."""
    if not (enabled() and _flags()):
        return
    path = socket_path()
    if path is None or any("\n" in p for p in sys.path):
        return
    try:
        connect(path).close()
        return  # one answers already
    except OSError:
        pass
    code = ("import sys; sys.path[:] = sys.argv[1].split('\\n'); "
            "from smki_desktop.cli.agent_server import main; main()")
    null = os.devnull
    try:
        os.posix_spawn(sys.executable, [sys.executable, "-c", code, "\n".join(sys.path)],
                       dict(os.environ), setsid=True, file_actions=[
                           (os.POSIX_SPAWN_OPEN, 0, null, os.O_RDONLY, 0),
                           (os.POSIX_SPAWN_OPEN, 1, null, os.O_WRONLY, 0),
                           (os.POSIX_SPAWN_DUP2, 1, 2)])
    except OSError:
        pass


def ask(kind: bytes) -> int | None:
    """Send a status (S) or quit (Q) request to this installation's agent: its process id, or
    None when none answers."""
    s = _connected(False)
    if s is None:
        return None
    try:
        s.settimeout(5)
        send_request(s, request_bytes(kind, [], identity()), [])
        tag, value = read_reply(s)
    except OSError:
        return None
    finally:
        s.close()
    return value if tag == b"P" else None
