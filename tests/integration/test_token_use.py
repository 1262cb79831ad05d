"""`smki token use` goes through the token service: a missing file, a library that is not
PKCS#11, a missing SoftHSM configuration and an absent token are refused with their real
reason, and nothing is saved (real processes, real SoftHSM2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from smki_desktop.core.environment import Environment
from smki_desktop.services.context import open_context
from tests.support.softhsm import MODULE, softhsm_token


def _smki(data_root: Path, *args: str, env: dict[str, str] | None = None
          ) -> subprocess.CompletedProcess[str]:
    e = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "smki_desktop.cli", "--data-dir",
                           str(data_root), *args], capture_output=True, text=True, env=e,
                          timeout=120)


def _saved(data_root: Path) -> tuple[str | None, str | None]:
    ctx = open_context(Environment.TEST, data_root)
    try:
        return ctx.setting("pkcs11.module"), ctx.setting("pkcs11.token")
    finally:
        ctx.close()


def test_missing_module_file(data_root: Path) -> None:
    r = _smki(data_root, "token", "use", "--module", "/nowhere/libnone.so", "--token", "t")
    assert r.returncode == 2 and "no file /nowhere/libnone.so" in r.stderr
    assert _saved(data_root) == (None, None)


def test_a_library_that_is_not_pkcs11(data_root: Path, tmp_path: Path) -> None:
    fake = tmp_path / "libfake.so"
    fake.write_bytes(b"not an ELF file at all")
    r = _smki(data_root, "token", "use", "--module", str(fake), "--token", "t")
    assert r.returncode == 2 and "not a PKCS#11 module" in r.stderr, r.stderr
    libz = next(Path("/usr/lib/x86_64-linux-gnu").glob("libz.so*"), None) \
        or next(Path("/lib").rglob("libz.so*"))
    r = _smki(data_root, "token", "use", "--module", str(libz), "--token", "t")
    assert r.returncode == 2 and "not a PKCS#11 module" in r.stderr, r.stderr
    assert "C_GetFunctionList" in r.stderr
    assert _saved(data_root) == (None, None)


def test_missing_softhsm_configuration_names_the_reason(data_root: Path,
                                                        tmp_path: Path) -> None:
    missing = tmp_path / "no-such-softhsm2.conf"
    r = _smki(data_root, "token", "use", "--module", MODULE, "--token", "t",
              env={"SOFTHSM2_CONF": str(missing)})
    assert r.returncode == 2, r.stderr
    assert "configuration is missing" in r.stderr and str(missing) in r.stderr
    assert _saved(data_root) == (None, None)


def test_absent_token_refused_and_present_one_saved(data_root: Path, tmp_path: Path) -> None:
    with softhsm_token(tmp_path, "present-tok"):
        r = _smki(data_root, "token", "use", "--module", MODULE, "--token", "absent-tok")
        assert r.returncode == 1 and "No token labelled 'absent-tok'" in r.stderr, r.stderr
        assert _saved(data_root) == (None, None)
        r = _smki(data_root, "--json", "token", "use", "--module", MODULE, "--token",
                  "present-tok")
        assert r.returncode == 0, r.stderr
        assert "SoftHSM" in r.stdout
    assert _saved(data_root) == (MODULE, "present-tok")


def test_tokens_json_gives_the_serial_as_text(data_root: Path, tmp_path: Path) -> None:
    """The serial python-pkcs11 gives as bytes is shown as its text, not a Python repr."""
    with softhsm_token(tmp_path, "serial-tok"):
        r = _smki(data_root, "--json", "token", "tokens", "--module", MODULE)
        assert r.returncode == 0, r.stderr
        import json

        toks = {t["label"]: t for t in json.loads(r.stdout)["tokens"]}
        serial = toks["serial-tok"]["serial"]
        assert serial and not serial.startswith("b'"), serial
        assert all(c in "0123456789abcdefABCDEF" for c in serial), serial
