"""The CLI's command map agrees with the command modules, and a command loads only its own."""

import importlib
import pkgutil
import subprocess
import sys

import smki_desktop.cli.commands as pkg
from smki_desktop.cli.main import _Parser, build_parser, requested_command


def test_command_map_matches_the_modules() -> None:
    found: dict[str, str] = {}
    for info in pkgutil.iter_modules(pkg.__path__):
        mod = importlib.import_module(f"{pkg.__name__}.{info.name}")
        parser = _Parser(prog="smki", _is_sub=False)
        sub = parser.add_subparsers(dest="command")
        mod.register(sub)
        for name in sub.choices:
            found[name] = info.name
    assert found == pkg.COMMANDS


def test_requested_command_skips_global_options() -> None:
    assert requested_command(["--env", "live", "--data-dir", "/x", "--json", "key", "list"]) \
        == "key"
    assert requested_command(["--json"]) is None
    assert set(build_parser(None)._subparsers._group_actions[0].choices) == set(pkg.COMMANDS)  # type: ignore[union-attr]


def test_a_command_does_not_import_other_workflows() -> None:
    code = ("import sys; from smki_desktop.cli.main import build_parser; build_parser('key'); "
            "print(','.join(m for m in sys.modules if m.startswith('smki_desktop.services.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert "smki_desktop.services.adt" not in out and "smki_desktop.services.devices" not in out


def test_adt_sign_and_verify_load_no_module_they_do_not_use() -> None:
    """What `smki adt sign` and `smki adt verify` load at import (their command module, the
    services they call, the store and key store) leaves out what only other work needs: the
    platform folders (the data folder is given), the terminal passphrase prompt, the
    simulator control and party services, and the CSR lint (`adt verify` names the signer
    with `crypto.describe`, which reads the certificate's fields only) (issue 15: lean
    start)."""
    code = ("import sys; from smki_desktop.cli.main import build_parser; build_parser('adt'); "
            "import smki_desktop.services.adt.sign, smki_desktop.services.adt.verify, "
            "smki_desktop.services.adt.identity, smki_desktop.services.audit, "
            "smki_desktop.crypto.describe; print(','.join(sys.modules))")
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stdout.strip().split(","))
    assert "smki_desktop.services.officers" in loaded  # the register check: kept
    unused = {"platformdirs", "getpass", "smki_desktop.services.simulator_control",
              "smki_desktop.services.party", "smki_desktop.crypto.lint",
              "smki_desktop.core.lint_rules"}
    assert loaded & unused == set()


def test_adt_verify_loads_neither_the_receipts_nor_the_validator() -> None:
    """`smki adt verify` hashes the file (`digest_prefetch.file_digest`) and checks signatures:
    the validation receipts, the row validator, the profiles (the parser's kinds are in
    `core.adt`) and the signing identity are signing's (issue 15: each module is start-up time
    of every verification)."""
    code = ("import sys; from smki_desktop.cli.main import build_parser; build_parser('adt'); "
            "import smki_desktop.services.adt.verify, smki_desktop.crypto.describe; "
            "print(','.join(sys.modules))")
    loaded = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                check=True).stdout.strip().split(","))
    assert "smki_desktop.services.adt.signer_check" in loaded  # the signer check: kept
    assert loaded & {"smki_desktop.services.adt_receipts", "smki_desktop.core.adt.validate",
                     "smki_desktop.core.adt.profile", "smki_desktop.store.repos.adt_receipts",
                     "smki_desktop.services.adt.identity"} == set()
