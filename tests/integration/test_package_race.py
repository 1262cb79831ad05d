"""Two windows or workstations on one store packaging batches at once: the batch rules that
depend on the store (a key already known, a (device, usage) already waiting) are checked again
inside the transaction that records the batch, so a batch recorded by the other between this
one's check and its record is seen, and this one is refused whole, naming the CSR and why.
Deterministic: the other context records its batch from a hook between the check and the
record (no timing)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from smki_desktop.core import batch_formats as bf
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import Refusal
from smki_desktop.crypto import device_csr as dc
from smki_desktop.services import devices
from smki_desktop.services.context import AppContext, open_context
from smki_desktop.services.devices import packaging

EUI = 0x00DB123456920000


def _csr(eui: int, usage: str = dc.SIGNING) -> bytes:
    return dc.generate_one(eui.to_bytes(8, "big"), usage, keep_key=False)[2]


def _source(folder: Path, ders: dict[str, bytes]) -> Path:
    folder.mkdir()
    for name, der in ders.items():
        (folder / name).write_bytes(bf.encode_csr_text(der))
    return folder


@pytest.fixture
def other(data_root: Path) -> Iterator[AppContext]:
    """A second context on the same data folder: another window or workstation."""
    c = open_context(Environment.TEST, data_root)
    yield c
    c.close()


def _between_check_and_record(monkeypatch: pytest.MonkeyPatch, first: AppContext,
                              then: object) -> None:
    """Run `then()` once `first` has validated its source, before it records its batch."""
    real = packaging.validate

    def validate(c, path, **kw):  # type: ignore[no-untyped-def]
        res = real(c, path, **kw)
        if c is first:
            monkeypatch.setattr(packaging, "validate", real)
            then()  # type: ignore[operator]
        return res

    monkeypatch.setattr(packaging, "validate", validate)


def _batches(ctx: AppContext) -> list[str]:
    return [str(r["name"]) for r in ctx.db.conn().execute(
        "SELECT name FROM device_batches ORDER BY created")]


def test_a_batch_recorded_by_another_between_check_and_record_refuses_the_pair(  # type: ignore[no-untyped-def]
        ctx, other: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # both carry a signing CSR for one device, with different keys: one of them only may wait
    mine = _source(tmp_path / "mine", {"a.csr": _csr(EUI), "b.csr": _csr(EUI + 1)})
    theirs = _source(tmp_path / "theirs", {"x.csr": _csr(EUI)})
    done: list[str] = []
    _between_check_and_record(monkeypatch, ctx, lambda: done.append(
        devices.package(other, theirs, tmp_path / "out2", batch_name="theirs",
                        processes=1).batch_id))
    with pytest.raises(Refusal) as err:
        devices.package(ctx, mine, tmp_path / "out", batch_name="mine", processes=1)
    [their_id] = done
    [(their_file, _)] = devices.batch_csrs(ctx, their_id)
    assert str(err.value) == (
        "1 CSR of this batch no longer passes the batch rules: another window or workstation "
        "recorded a batch or ad hoc request since the source was checked (mine a.csr: device "
        f"00-DB-12-34-56-92-00-00 already has a signing CSR in batch {their_id} "
        f"({their_file})). Nothing was recorded or written; check the source again.")
    assert _batches(ctx) == ["theirs"]
    assert list((tmp_path / "out").iterdir()) == []  # nothing placed, nothing staged left
    assert [e.details["name"] for e in ctx.audit.entries(action_prefix="devices.package")
            if e.action == "devices.package"] == ["theirs"]
    # checked again now, the source says the same
    again = devices.validate(ctx, mine, processes=1)
    assert [(r.locator, r.code) for r in again.rejected] == [("a.csr", "duplicate-device")]
    assert ctx.audit.verify().ok


def test_the_same_key_recorded_by_another_meanwhile_is_refused_not_a_store_error(  # type: ignore[no-untyped-def]
        ctx, other: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    der = _csr(EUI + 5)
    mine = _source(tmp_path / "mine", {"k.csr": der})
    theirs = _source(tmp_path / "theirs", {"k.csr": der})
    done: list[str] = []
    _between_check_and_record(monkeypatch, ctx, lambda: done.append(
        devices.package(other, theirs, tmp_path / "out2", batch_name="theirs",
                        processes=1).batch_id))
    with pytest.raises(Refusal) as err:
        devices.package(ctx, mine, tmp_path / "out", batch_name="mine", processes=1)
    [their_id] = done
    [(their_file, _)] = devices.batch_csrs(ctx, their_id)
    assert (f"(mine k.csr: the same key as batch {their_id} ({their_file})). Nothing was "
            "recorded" in str(err.value)), str(err.value)
    assert _batches(ctx) == ["theirs"] and list((tmp_path / "out").iterdir()) == []


def test_a_web_service_batch_is_checked_again_when_recorded_too(  # type: ignore[no-untyped-def]
        ctx, other: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from smki_desktop.services.devices import submission

    mine = _source(tmp_path / "mine", {"s.csr": _csr(EUI + 7)})
    theirs = _source(tmp_path / "theirs", {"t.csr": _csr(EUI + 7)})
    real = submission.validate

    def validate(c, path, **kw):  # type: ignore[no-untyped-def]
        res = real(c, path, **kw)
        monkeypatch.setattr(submission, "validate", real)
        devices.package(other, theirs, tmp_path / "out2", batch_name="theirs", processes=1)
        return res

    monkeypatch.setattr(submission, "validate", validate)
    with pytest.raises(Refusal) as err:
        devices.submit(ctx, mine, processes=1, send_now=False)
    assert "(mine s.csr: device 00-DB-12-34-56-92-00-07 already has a signing CSR in batch" \
        in str(err.value), str(err.value)
    assert _batches(ctx) == ["theirs"]
    from smki_desktop.services import portal as portal_service
    assert portal_service.outbox(ctx).items(kind="device-batch") == []
