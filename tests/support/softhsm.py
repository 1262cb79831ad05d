"""A fresh SoftHSM2 token in a per-test folder, and a PassphraseProvider that answers a fixed PIN
(the PIN goes through the port, as a user's would, never on a command line)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MODULE = "/usr/lib/softhsm/libsofthsm2.so"
PIN = "1234"


class FixedPin:
    def __init__(self, pin: str = PIN) -> None:
        self.pin = pin
        self.asked: list[str] = []

    def ask(self, prompt: str, *, confirm: bool = False) -> str:
        self.asked.append(prompt)
        return self.pin


@contextmanager
def softhsm_token(folder: Path, label: str, pin: str = PIN) -> Iterator[str]:
    """Initialise a token under `folder` and point the (re-initialised) library at it; SoftHSM
    reads SOFTHSM2_CONF only when the library initialises."""
    import pkcs11

    tokdir = folder / "tokens"
    tokdir.mkdir()
    conf = folder / "softhsm2.conf"
    conf.write_text(f"directories.tokendir = {tokdir}\nobjectstore.backend = file\n")
    saved = os.environ.get("SOFTHSM2_CONF")
    os.environ["SOFTHSM2_CONF"] = str(conf)
    try:
        subprocess.run(["softhsm2-util", "--init-token", "--free", "--label", label,
                        "--pin", pin, "--so-pin", "5678"], check=True, capture_output=True)
        pkcs11.lib(MODULE).reinitialize()
        yield label
    finally:
        if saved is None:
            os.environ.pop("SOFTHSM2_CONF", None)
        else:
            os.environ["SOFTHSM2_CONF"] = saved
        pkcs11.lib(MODULE).reinitialize()
