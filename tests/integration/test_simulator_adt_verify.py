"""The simulator's emulated secure channel verifies what it receives, as the DCC would: a
package whose file was changed after signing, or that lacks its signatures, is refused with
the reason; the intact package is accepted."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from smki_desktop.core.errors import SmkiError
from smki_desktop.services import portal, simulator_control


@pytest.fixture
def stop_sim(ctx):  # type: ignore[no-untyped-def]
    yield
    simulator_control.stop(ctx)


def _rezip(data: bytes, change) -> bytes:  # type: ignore[no-untyped-def]
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            content = change(info.filename, src.read(info.filename))
            if content is not None:
                dst.writestr(info.filename, content)
    return out.getvalue()


@pytest.mark.slow
def test_channel_verifies_packages(ctx, cli_run, tmp_path: Path, stop_sim) -> None:  # type: ignore[no-untyped-def]
    assert cli_run("profile", "set", "--name", "Ann Officer", "--role", "aro").code == 0
    assert cli_run("party", "set", "--name", "Acme Energy Ltd", "--party-id", "ACME",
                   "--party-type", "import-supplier", "--eui-range",
                   "90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF").code == 0
    from tests.integration.adt_support import simulator_active_aro

    # an ARO signs only in active standing (activated by the SRO's signature), through the
    # simulator's credential naming their entry
    _aro, key_id = simulator_active_aro(ctx, cli_run, tmp_path)
    assert cli_run("credential", "request", "--purpose", "web-service", "--role", "supplier",
                   "--json").code == 0
    f = tmp_path / "adt.csv"
    assert cli_run("adt", "template", "--out", str(f)).code == 0
    assert cli_run("adt", "sign", str(f), "--key", key_id[:12], "--smsr", "SMSR-1").code == 0
    r = cli_run("adt", "deliver", str(f), "--json")
    assert r.code == 0, r.err
    package = Path(r.json()["package"]).read_bytes()

    _where, ref = portal.upload_adt_package(ctx, "ok.zip", package)
    assert ref.startswith("ADT-")

    def flip(name: str, content: bytes) -> bytes:
        if name == "adt.csv":
            return content[:-2] + bytes([content[-2] ^ 1]) + content[-1:]
        return content

    with pytest.raises(SmkiError) as e:
        portal.upload_adt_package(ctx, "tampered.zip", _rezip(package, flip))
    assert "adt.csv" in e.value.message and "does not verify" in e.value.message

    def drop_sig(name: str, content: bytes) -> bytes | None:
        return None if name == "adt.csv.p7s" else content

    with pytest.raises(SmkiError) as e:
        portal.upload_adt_package(ctx, "unsigned.zip", _rezip(package, drop_sig))
    assert ".p7s signature" in e.value.message
