"""`smki ceremony qr` (attack review F7): a FIFO given as the CSR blocked the command forever
(a certificate import or key restore refuses what is not a regular file), and its "linted
first" only checked the CSR's family: a CSR that fails the profile was shown all the same."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

import smki_desktop
from tests.integration.adt_support import set_profiles


def _good_csr(ctx, cli_run, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    set_profiles(ctx)
    key = cli_run("--json", "key", "generate", "--usage", "signing", "--label", "qr").json()
    made = cli_run("csr", "org", "--key", key["key_id"][:12], "--role", "supplier", "--eui",
                   "90-B3-D5-1F-30-01-00-05", "--out", str(tmp_path / "a.csr"))
    assert made.code == 0, made.err
    return tmp_path / "a.csr"


def test_a_fifo_is_refused_not_waited_on(data_root: Path, tmp_path: Path) -> None:
    fifo = tmp_path / "csr.fifo"
    os.mkfifo(fifo)
    # a real process, so that a blocked read fails the test by its timeout, not hangs it; the
    # tree under test is the one imported here (not whatever the working folder holds)
    tree = str(Path(smki_desktop.__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([tree, os.environ.get("PYTHONPATH", "")]))
    r = subprocess.run([sys.executable, "-m", "smki_desktop.cli", "--data-dir", str(data_root),
                        "ceremony", "qr", str(fifo)], capture_output=True, text=True,
                       timeout=60, cwd=tmp_path, env=env)
    assert r.returncode == 2, r.stderr
    assert f"{fifo}: not a regular file" in r.stderr and "Traceback" not in r.stderr


def test_a_csr_that_fails_lint_is_not_shown(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    good = _good_csr(ctx, cli_run, tmp_path)
    assert cli_run("--json", "ceremony", "qr", str(good)).code == 0
    # the same subject and extensions on a P-384 key with SHA-384: an Organisation CSR by its
    # family, but not one the SMKI profile allows
    req = x509.load_pem_x509_csr(good.read_bytes())
    builder = x509.CertificateSigningRequestBuilder().subject_name(req.subject)
    for ext in req.extensions:
        builder = builder.add_extension(ext.value, ext.critical)
    bad = tmp_path / "bad.csr"
    bad.write_bytes(builder.sign(ec.generate_private_key(ec.SECP384R1()), hashes.SHA384())
                    .public_bytes(serialization.Encoding.PEM))
    r = cli_run("ceremony", "qr", str(bad), "--out", str(tmp_path / "bad.png"))
    assert r.code == 2, r.out + r.err
    assert "fails lint against the Test profile" in r.err and "Traceback" not in r.err
    assert not (tmp_path / "bad.png").exists()
