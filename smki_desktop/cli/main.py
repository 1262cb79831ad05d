"""The `smki` entry point: global options, command discovery, output and exit codes.

Conventions: the environment is Test unless `--env live` is given; `--json` prints exactly one
JSON document on stdout; messages and errors go to stderr; exit 0 success, 1 a finding or
refusal, 2 bad input or usage.

Under `--json` a failure is the document `{"error": <message>, "kind": <kind>}`, whatever ended
the command: an `SmkiError` (kind: its class, e.g. `InputError`), a file or database error
(kind: the OSError or sqlite3 class, e.g. `IsADirectoryError`, `OperationalError`), a usage
error of the command line (kind `UsageError`, exit 2), an interruption (`KeyboardInterrupt`)
or an unexpected exception (kind: its class, exit 1; the traceback goes to stderr only).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn

from smki_desktop import __version__
from smki_desktop.cli import agent_client
from smki_desktop.cli.hints import with_hint
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError, Refusal, SmkiError
from smki_desktop.services import digest_prefetch
from smki_desktop.services.context import AppContext, open_context

# commands whose file is hashed whole on a helper thread; `cli.start` begins it before this
# module's imports, and `main` again (a no-op then) for callers that come straight here
PREFETCH = digest_prefetch.CLI_COMMANDS


class CliPassphrases:
    """PINs and passphrases from the terminal; from standard input when it is not a terminal
    (one line per question), never from the command line."""

    def ask(self, prompt: str, *, confirm: bool = False) -> str:
        if sys.stdin is not None and sys.stdin.isatty():
            import getpass  # only when a passphrase is asked for

            value = getpass.getpass(prompt + ": ")
            if confirm and getpass.getpass("Again: ") != value:
                raise InputError(f"{prompt}: the two entries differ.")
            return value
        line = sys.stdin.readline() if sys.stdin is not None else ""
        if not line:
            raise Refusal(f"{prompt}: nothing on standard input to read it from.")
        return line.rstrip("\r\n")


class CliApp:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self._ctx: AppContext | None = None

    @property
    def env(self) -> Environment:
        return Environment.parse(self.args.env)

    @property
    def json(self) -> bool:
        return bool(getattr(self.args, "json", False) or getattr(self.args, "json_global", False))

    def context(self) -> AppContext:
        if self._ctx is None:
            root = Path(self.args.data_dir) if self.args.data_dir else None
            self._ctx = open_context(self.env, root, passphrases=CliPassphrases())
        return self._ctx

    def emit(self, data: Any, text: str | None = None) -> None:
        if self.json:
            sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
        elif text is not None:
            sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")

    def warn(self, text: str) -> None:
        sys.stderr.write(text.rstrip("\n") + "\n")

    def close(self) -> None:
        if self._ctx is not None:
            self._ctx.close()


def _json_parent() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    return p


class _Parser(argparse.ArgumentParser):
    """Every sub-parser accepts `--json` after the command too."""

    def __init__(self, *a: Any, **kw: Any) -> None:
        parents = list(kw.pop("parents", []))
        if kw.pop("_is_sub", True):
            parents.append(_json_parent())
        kw["parents"] = parents
        super().__init__(*a, **kw)

    def add_subparsers(self, **kw: Any):  # type: ignore[no-untyped-def]
        kw.setdefault("parser_class", _Parser)
        return super().add_subparsers(**kw)

    def error(self, message: str) -> NoReturn:
        """As argparse's (usage and message on stderr, exit 2), keeping the message so that
        `main` can also print it as a JSON document under --json."""
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{self.prog}: error: {message}\n")
        raise _UsageExit(f"{self.prog}: {message}")


class _UsageExit(SystemExit):
    """A command-line usage error (exit code 2), with argparse's message."""

    def __init__(self, message: str) -> None:
        super().__init__(2)
        self.message = message


def requested_command(argv: Sequence[str]) -> str | None:
    """The command word in argv, skipping the global options before it."""
    words = agent_client.command_words(list(argv), 1)
    return words[0] if words else None


# parsers built ahead by the command agent (`cli/agent_server.py`) for the commands it serves;
# each of its children takes its own copy (a fork), so no parse reaches another command
_PREBUILT: dict[str, argparse.ArgumentParser] = {}


def prebuild(command: str) -> None:
    """Build `command`'s parser now, for a later `build_parser(command)` (the agent, before it
    forks: ~13 ms of argparse and gettext a command no longer spends)."""
    _PREBUILT[command] = build_parser(command)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `command`, only that command's module is imported."""
    ready = _PREBUILT.pop(command, None) if command is not None else None
    if ready is not None:  # built before this process became the caller: its default now
        ready.set_defaults(env=os.environ.get("SMKI_ENV_CLI", "test"))
        return ready
    parser = _Parser(prog="smki", description="SMKI Desktop command line", _is_sub=False)
    parser.add_argument("--version", action="version", version=f"smki {__version__}")
    parser.add_argument("--env", default=os.environ.get("SMKI_ENV_CLI", "test"),
                        choices=["test", "live"],
                        help="environment (default: test; Live only when asked for)")
    parser.add_argument("--data-dir", default=None,
                        help="data root (default: $SMKI_DATA_DIR or the platform's data folder)")
    parser.add_argument("--json", dest="json_global", action="store_true",
                        help="print one JSON document on stdout")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    import smki_desktop.cli.commands as pkg

    if command in pkg.COMMANDS:
        names = [pkg.COMMANDS[command]]
    else:
        import pkgutil  # every command's module: only for help or an unknown command

        names = sorted(m.name for m in pkgutil.iter_modules(pkg.__path__))
    for name in names:
        mod = importlib.import_module(f"{pkg.__name__}.{name}")
        register = getattr(mod, "register", None)
        if register is not None:
            register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # multiprocessing.freeze_support() is called by the bundle's entry script (packaging/entry)
    words = list(sys.argv[1:] if argv is None else argv)
    command = requested_command(words)
    if command in PREFETCH:
        digest_prefetch.start_for_argv(words, PREFETCH)
    if command is None and "--version" in words:  # without importing every command
        sys.stdout.write(f"smki {__version__}\n")
        return 0
    parser = build_parser(command)
    try:
        args = parser.parse_args(argv)
    except _UsageExit as exc:  # argparse has written usage and message to stderr
        if _json_asked(words):
            _emit_error(exc.message, "UsageError")
        return 2
    app = CliApp(args)
    not_utf8 = _not_utf8_option(parser, args)
    if not_utf8 is not None:
        return _failed(app, f"{not_utf8}: holds a byte that is not UTF-8; give the text in "
                            "UTF-8.", "UsageError", 2)
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        if app.json:
            _emit_error("no command given.", "UsageError")
        return 2
    try:
        return int(handler(args, app) or 0)
    except SmkiError as exc:
        text = with_hint(exc.message, getattr(exc, "hint", ""), getattr(args, "env", "test"))
        return _failed(app, text, type(exc).__name__, exc.exit_code)
    except KeyboardInterrupt:
        return _failed(app, "interrupted", "KeyboardInterrupt", 1)
    except sqlite3.Error as exc:
        return _failed(app, f"the database could not be used: {exc}", type(exc).__name__, 1)
    except OSError as exc:
        where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
        return _failed(app, f"{exc.strerror or exc}{where}", type(exc).__name__, 1)
    except Exception as exc:  # a defect: said plainly, its traceback on stderr only
        import traceback

        traceback.print_exc(file=sys.stderr)
        return _failed(app, f"unexpected error {type(exc).__name__}: {exc} (a defect of SMKI "
                            "Desktop; its traceback is on standard error)",
                       type(exc).__name__, 1)
    finally:
        app.close()


def _has_lone_surrogate(text: str) -> bool:
    """Python keeps a command-line byte that is not UTF-8 as a lone surrogate (surrogateescape);
    such text cannot be written out as UTF-8 (a log, a CSR, the database, JSON)."""
    return any("\udc80" <= ch <= "\udcff" for ch in text)


def _not_utf8_option(parser: argparse.ArgumentParser, args: argparse.Namespace) -> str | None:
    """The first text option (or argument) holding a byte that is not UTF-8, named as on the
    command line, or None. Paths are let through: an argument of type Path, or a text one that
    names a file or folder that exists (a non-UTF-8 file name is legitimate on Linux)."""
    for dest, value in vars(args).items():
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            if isinstance(v, str) and _has_lone_surrogate(v) and not os.path.lexists(v):
                return _option_names(parser).get(dest, dest)  # walked only when needed
    return None


def _option_names(parser: argparse.ArgumentParser) -> dict[str, str]:
    """Each destination's name on the command line (its longest option string, or the
    positional argument's metavar or name), across the parser and its subcommands."""
    out: dict[str, str] = {}
    todo = [parser]
    while todo:
        p = todo.pop()
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction):
                todo.extend(action.choices.values())
                continue
            name = max(action.option_strings, key=len) if action.option_strings \
                else str(action.metavar or action.dest).upper()
            out.setdefault(action.dest, name)
    return out


def _json_asked(words: Sequence[str]) -> bool:
    """Whether `--json` is among the words before any `--` (when argparse could not read
    them)."""
    for w in words:
        if w == "--":
            return False
        if w == "--json":
            return True
    return False


def _emit_error(text: str, kind: str) -> None:
    sys.stdout.write(json.dumps({"error": text, "kind": kind}, indent=2, sort_keys=True)
                     + "\n")


def _failed(app: CliApp, text: str, kind: str, code: int) -> int:
    """Report a failure on stderr, and as the one JSON document under --json."""
    app.warn(f"smki: {text}")
    if app.json:
        app.emit({"error": text, "kind": kind})
    return code


if __name__ == "__main__":
    raise SystemExit(main())
