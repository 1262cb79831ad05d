"""The delivery package holds the bytes that were verified: each member is read once into
memory, verified, hashed for the audit record and zipped from there. A file swapped on disk
after it was verified cannot get into the package or the record; a member above the cap is
refused with a message, nothing written."""

from __future__ import annotations

import hashlib
import tempfile
import zipfile
from pathlib import Path

import pytest

from smki_desktop.core.errors import InputError, SmkiError
from smki_desktop.services import adt as adt_service
from smki_desktop.services.adt import delivery
from tests.integration.adt_support import make_aro


def _signed(ctx, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    aro = make_aro(ctx, tmp_path)
    f = tmp_path / "adt.csv"
    adt_service.write_template(ctx, f)
    adt_service.sign_file(ctx, f, aro.key.key_id, smsr="SMSR-1")
    return f


def test_file_swapped_after_verification_is_not_packaged(  # type: ignore[no-untyped-def]
        ctx, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = _signed(ctx, tmp_path)
    good = f.read_bytes()
    evil = good.replace(b"200000", b"999999")
    assert evil != good and len(evil) == len(good)
    real = delivery.verify_file

    def verify_then_swap(*args, **kwargs):  # type: ignore[no-untyped-def]
        result = real(*args, **kwargs)
        f.write_bytes(evil)  # the file on disk changes the moment verification ends
        return result

    monkeypatch.setattr(delivery, "verify_file", verify_then_swap)
    res = adt_service.deliver(ctx, f)
    with zipfile.ZipFile(res.package) as zf:
        packaged = zf.read(f.name)
        manifest = zf.read(f.name + ".manifest.json")
    assert packaged == good  # what was verified, not what is on disk now
    sha = hashlib.sha256(good).hexdigest()
    assert res.members[f.name] == sha
    assert res.audit.artifacts[f"member:{f.name}"] == sha
    assert f'"sha256": "{sha}"'.encode() in manifest
    assert not list(Path(tempfile.gettempdir()).glob(".smki-deliver-*"))  # the copy is gone


def test_member_above_the_cap_is_refused(ctx, tmp_path: Path,  # type: ignore[no-untyped-def]
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    f = _signed(ctx, tmp_path)
    monkeypatch.setattr(delivery, "MAX_PACKAGE_FILE", 64)
    with pytest.raises(InputError, match="larger than 64 bytes"):
        adt_service.deliver(ctx, f)
    assert not delivery.default_package(f).exists()
    assert not ctx.audit.entries(action_prefix="adt.deliver")


def test_missing_manifest_is_named_as_before(ctx, tmp_path: Path  # type: ignore[no-untyped-def]
                                            ) -> None:
    f = _signed(ctx, tmp_path)
    (tmp_path / "adt.csv.manifest.json").unlink()
    (tmp_path / "adt.csv.manifest.json.p7s").unlink()
    with pytest.raises(SmkiError, match="manifest.json is missing"):
        adt_service.deliver(ctx, f)
