"""A typed `Cancelled` (core.errors): every place that stops work at the user's request raises
it, so that faces recognise cancellation by type, never by the word "cancelled" in a message."""

from __future__ import annotations

from pathlib import Path

import pytest

from smki_desktop.core.errors import Cancelled, Refusal, SmkiError
from smki_desktop.crypto import device_csr
from smki_desktop.portal.upload import write_batch


class _CancelledSink:
    cancelled = True

    def progress(self, done: int, total: int, text: str = "") -> None:
        pass


def test_cancelled_is_an_smki_error_and_not_a_refusal() -> None:
    exc = Cancelled("Packaging cancelled; nothing was written.")
    assert isinstance(exc, SmkiError) and not isinstance(exc, Refusal)
    assert exc.exit_code == 1 and exc.message == str(exc)


def test_device_generation_cancelled_is_the_typed_cancel() -> None:
    exc = device_csr.Cancelled(3)
    assert isinstance(exc, Cancelled) and exc.done == 3
    assert exc.message == "cancelled after 3 items" == str(exc)


def test_packaging_cancelled_raises_cancelled_and_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(Cancelled, match="Packaging cancelled; nothing was written."):
        write_batch(out, "batch1", [("a.csr", b"not read before the cancel check")],
                    environment="test", progress=_CancelledSink())
    assert not out.exists() or list(out.iterdir()) == []
