"""Signing's output paths are checked before the key is used: a symbolic link at an output's
name (dangling or not) is there, a folder (or a link to one) is refused with a typed error
naming it, whatever `overwrite` says; nothing is signed, recorded or written then."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from smki_desktop.core.errors import Refusal, SmkiError
from smki_desktop.services import adt as adt_service
from smki_desktop.store.atomic import OutputError
from smki_desktop.store.repos import adt as adt_repo
from tests.integration.adt_support import make_aro


@contextlib.contextmanager
def _no_key() -> Iterator[object]:
    raise AssertionError("the key was used before the outputs were checked")
    yield  # pragma: no cover


def _nothing_done(ctx, tmp_path: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    assert not ctx.audit.entries(action_prefix="adt.sign")
    assert adt_repo.signed_files(ctx.db, ctx.env.value) == []
    assert not list(tmp_path.glob(f".{name}*.part"))


def test_dangling_link_at_an_output_is_refused_before_the_key(  # type: ignore[no-untyped-def]
        ctx, tmp_path: Path) -> None:
    aro = make_aro(ctx, tmp_path)
    f = tmp_path / "b.csv"
    adt_service.write_template(ctx, f)
    link = tmp_path / "b.csv.manifest.json.p7s"
    os.symlink(tmp_path / "nowhere", link)
    with pytest.raises(Refusal, match="already exists") as err:
        adt_service.sign_file(ctx, f, aro.key.key_id, signer=_no_key())
    assert str(link) in str(err.value)
    _nothing_done(ctx, tmp_path, "b.csv")
    assert adt_service.outputs_in_the_way(ctx, f) == [link]  # what the faces ask about
    # allowed to replace it: the link itself is replaced, its target is not made
    res = adt_service.sign_file(ctx, f, aro.key.key_id, overwrite=True)
    assert not link.is_symlink() and link.is_file() and not (tmp_path / "nowhere").exists()
    assert adt_service.verify_file(ctx, f).sha256 == res.sha256


@pytest.mark.parametrize("overwrite", [False, True])
@pytest.mark.parametrize("which", ["b.csv.p7s", "b.csv.manifest.json.p7s"])
def test_folder_at_an_output_is_refused_before_the_key(  # type: ignore[no-untyped-def]
        ctx, tmp_path: Path, overwrite: bool, which: str) -> None:
    aro = make_aro(ctx, tmp_path)
    f = tmp_path / "b.csv"
    adt_service.write_template(ctx, f)
    (tmp_path / which).mkdir()
    with pytest.raises(OutputError, match="is a folder") as err:
        adt_service.sign_file(ctx, f, aro.key.key_id, overwrite=overwrite, signer=_no_key())
    assert isinstance(err.value, SmkiError) and str(tmp_path / which) in str(err.value)
    _nothing_done(ctx, tmp_path, "b.csv")
    with pytest.raises(OutputError, match="is a folder"):
        adt_service.check_sign_outputs(ctx, f, overwrite=True)


def test_link_to_a_folder_at_an_output_is_refused(ctx, tmp_path: Path  # type: ignore[no-untyped-def]
                                                 ) -> None:
    aro = make_aro(ctx, tmp_path)
    f = tmp_path / "b.csv"
    adt_service.write_template(ctx, f)
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", tmp_path / "b.csv.p7s")
    with pytest.raises(OutputError, match="is a folder"):
        adt_service.sign_file(ctx, f, aro.key.key_id, overwrite=True, signer=_no_key())
    _nothing_done(ctx, tmp_path, "b.csv")
