"""What the desktop shows names desktop actions, never command-line commands or options.

Scans every string literal (not docstrings) of the modules whose text can reach the GUI —
`gui`, `services`, `core`, `crypto`, `keystores`, `portal`, `store`, `render` — for `smki <word>`
and `--option` patterns; plus the GUI's hint map, per-page help and shared texts at run time.
Services and core stay face-neutral: where a user must be told where to act, the error carries a
`hint` key that each face maps (`cli/hints.py`, `gui/hints.py`); every key used has both."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import smki_desktop
from smki_desktop.cli.hints import CLI_HINTS, cli_hint, with_hint
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import InputError

ROOT = Path(smki_desktop.__file__).parent
SCANNED = ("gui", "services", "core", "crypto", "keystores", "portal", "store", "render")
CLI_WORDS = re.compile(r"(?<![\w-])smki (?!Desktop)[a-z][a-z-]*|(?<![\w-])--[a-z][a-z0-9-]+")

# Strings that are not messages to the officer, each with why.
ALLOWED = {
    # the simulator child process's own command line (never shown)
    ("services/simulator_control.py", "--state"), ("services/simulator_control.py", "--port"),
    ("services/simulator_control.py", "--public-port"),
    ("services/simulator_control.py", "--idle-exit"),
    ("services/simulator_control.py", "--batch-step"),
    # an operating-system command (GNOME Keyring), not one of ours: the way to start a keyring
    ("keystores/errors.py", "--unlock"),
}


def _docstrings(tree: ast.AST) -> set[int]:
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) \
                and node.body and isinstance(node.body[0], ast.Expr) \
                and isinstance(node.body[0].value, ast.Constant):
            out.add(id(node.body[0].value))
    return out


def _argparse_args(tree: ast.AST) -> set[int]:
    """The launcher's own options (`add_argument("--env", ...)`) are not messages."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr == "add_argument":
            out.update(id(a) for a in node.args if isinstance(a, ast.Constant))
    return out


def cli_words_in_sources() -> list[str]:
    found = []
    for sub in SCANNED:
        for path in sorted((ROOT / sub).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            skip = _docstrings(tree) | _argparse_args(tree)
            rel = path.relative_to(ROOT).as_posix()
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                        and id(node) not in skip:
                    for m in CLI_WORDS.finditer(node.value):
                        if (rel, m.group(0)) not in ALLOWED:
                            found.append(f"{rel}:{node.lineno}: {m.group(0)!r} in "
                                         f"{node.value[:70]!r}")
    return found


def hint_keys_in_sources() -> set[str]:
    keys: set[str] = set()
    for sub in SCANNED:
        for path in sorted((ROOT / sub).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.keyword) and node.arg == "hint" \
                        and isinstance(node.value, ast.Constant) and node.value.value:
                    keys.add(str(node.value.value))
    return keys


def test_no_command_line_words_in_anything_the_gui_can_show() -> None:
    found = cli_words_in_sources()
    assert not found, "command-line words in GUI-reachable text:\n" + "\n".join(found)


def test_the_scan_catches_what_it_should() -> None:
    assert CLI_WORDS.search("Request one with `smki credential request --purpose x`")
    assert CLI_WORDS.search("--resubmitter: name who will resubmit")
    assert not CLI_WORDS.search("SMKI Desktop's smki Desktop window; a well-known key")
    assert not CLI_WORDS.search("2026-11-01 -- a dash")


def test_gui_texts_help_and_hints_are_face_neutral() -> None:
    from smki_desktop.gui import help_texts, texts
    from smki_desktop.gui.hints import GUI_HINTS

    shown = list(GUI_HINTS.values())
    for module, h in help_texts.PAGES.items():
        shown += [module, h.what, h.do, *(t for pair in h.terms for t in pair)]
    shown += [v for v in vars(texts).values() if isinstance(v, str)]
    shown += [texts.switch_question(Environment.TEST, Environment.LIVE)]
    bad = [s for s in shown if CLI_WORDS.search(s)]
    assert not bad, bad


@pytest.mark.parametrize("key", sorted(hint_keys_in_sources()))
def test_every_hint_key_has_words_in_both_faces(key: str) -> None:
    from smki_desktop.gui.hints import GUI_HINTS

    assert key in CLI_HINTS, f"cli/hints.py lacks {key!r}"
    assert key in GUI_HINTS, f"gui/hints.py lacks {key!r}"


def test_each_face_adds_its_own_hint() -> None:
    from smki_desktop.gui.texts import error_text

    exc = InputError("Resubmitter: name who will resubmit the ADTs.", hint="field.resubmitter")
    gui = error_text(exc)
    cli = with_hint(exc.message, exc.hint, "test")
    assert "Who resubmits" in gui and "--" not in gui
    assert "--resubmitter" in cli
    assert cli_hint("credential.request.file-signing", Environment.LIVE).startswith(
        "smki --env live credential request")
    assert cli_hint("credential.request.file-signing", "test").startswith("smki credential")
