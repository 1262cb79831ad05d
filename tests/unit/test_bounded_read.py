"""The bounded reader of files handed to us (store/bounded_read.py): a FIFO, a device, a folder,
a link (where refused) and a file over the limit are refused at once, naming the file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from smki_desktop.core.errors import InputError
from smki_desktop.store.bounded_read import read_regular


@pytest.mark.timeout(20)
def test_hostile_files_are_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="not a regular file"):
        read_regular(fifo, 1024, "a manifest")
    with pytest.raises(InputError, match="not a regular file"):
        read_regular(Path("/dev/zero"), 1024, "a manifest")
    with pytest.raises(InputError, match="folder"):
        read_regular(tmp_path, 1024, "a manifest")
    with pytest.raises(InputError, match="cannot be read"):
        read_regular(tmp_path / "missing", 1024, "a manifest")


def test_links_and_size(tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.write_bytes(b"x" * 2048)
    link = tmp_path / "link"
    link.symlink_to(real)
    assert read_regular(link, 4096, "a manifest") == b"x" * 2048
    with pytest.raises(InputError, match="symbolic link"):
        read_regular(link, 4096, "a manifest", follow_links=False)
    with pytest.raises(InputError, match="larger than 1 KiB"):
        read_regular(real, 1024, "a manifest")
    assert read_regular(real, 2048, "a manifest", follow_links=False) == b"x" * 2048


def test_file_signing_problem() -> None:
    from datetime import UTC, datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID

    from smki_desktop.services.portal_offline_checks import file_signing_problem

    k = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "x")])
    now = datetime.now(UTC)

    def cert(ku: tuple[bool, bool] | None, eku: list[x509.ObjectIdentifier] | None
             ) -> x509.Certificate:
        b = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
             .public_key(k.public_key()).serial_number(1).not_valid_before(now)
             .not_valid_after(now.replace(year=now.year + 1)))
        if ku is not None:
            b = b.add_extension(x509.KeyUsage(ku[0], ku[1], False, False, False, False, False,
                                              False, False), critical=True)
        if eku is not None:
            b = b.add_extension(x509.ExtendedKeyUsage(eku), critical=False)
        return b.sign(k, hashes.SHA256())

    assert file_signing_problem(cert((True, True), None)) == ""
    assert file_signing_problem(cert((True, True), [ExtendedKeyUsageOID.EMAIL_PROTECTION])) == ""
    assert "keyUsage" in file_signing_problem(cert((True, False),
                                                   [ExtendedKeyUsageOID.CLIENT_AUTH]))
    assert "TLS" in file_signing_problem(cert((True, True), [ExtendedKeyUsageOID.CLIENT_AUTH]))
    assert "no keyUsage" in file_signing_problem(cert(None, None))
