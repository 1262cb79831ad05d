"""An ad hoc Device CSR goes through the same batch rules as a batch, as a batch of one: a key
already in a batch, a key or (device, usage) of an earlier ad hoc request still waiting, a
device outside the Party's device ranges are refused, naming what they fail; an earlier request
that failed blocks nothing. Both faces' send paths go through `check_to_send`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smki_desktop.core import batch_formats as bf
from smki_desktop.core.errors import Refusal
from smki_desktop.core.eui import EuiRange
from smki_desktop.core.party import PartyProfile, PartyType
from smki_desktop.crypto import device_csr as dc
from smki_desktop.services import device_adhoc, devices
from smki_desktop.services import portal as portal_service
from smki_desktop.services.party import set_party

EUI = 0x00DB123456910000


def _csr(eui: int, usage: str = dc.SIGNING) -> bytes:
    return dc.generate_one(eui.to_bytes(8, "big"), usage, keep_key=False)[2]


def _adhoc_items(ctx) -> list:  # type: ignore[no-untyped-def, type-arg]
    return portal_service.outbox(ctx).items(kind="device-adhoc")


def test_a_key_already_in_a_batch_is_refused_ad_hoc(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    src = tmp_path / "src"
    src.mkdir()
    ders = [_csr(EUI + i) for i in range(2)]
    for i, der in enumerate(ders):
        (src / f"d{i}.csr").write_bytes(bf.encode_csr_text(der))
    pkg = devices.package(ctx, src, tmp_path / "out", processes=1)
    c = device_adhoc.check(ctx, ders[0], "d0.csr")
    assert not c.ok and c.failed == "the batch rules", c
    assert c.findings[0].startswith(f"duplicate-key: the same key as batch {pkg.batch_id}"), c
    # a fresh CSR for another device meets both
    fresh = device_adhoc.check(ctx, _csr(EUI + 5))
    assert fresh.ok and fresh.failed is None and not fresh.findings


def test_a_second_ad_hoc_csr_is_refused_while_the_first_waits(ctx) -> None:  # type: ignore[no-untyped-def]
    der = _csr(EUI)
    assert device_adhoc.check_to_send(ctx, der).ok
    first = portal_service.enqueue_adhoc(ctx, der)  # queued, not yet sent
    # the same key again
    again = device_adhoc.check_to_send(ctx, der)
    assert again.failed == "the batch rules"
    assert again.findings == (f"duplicate-key: the same key as ad hoc request {first.ref} "
                              "(queued)",)
    # another key for the same device and usage
    pair = device_adhoc.check_to_send(ctx, _csr(EUI))
    assert pair.failed == "the batch rules"
    assert pair.findings == ("duplicate-device: device 00-DB-12-34-56-91-00-00 already has a "
                             f"signing CSR in ad hoc request {first.ref} (queued)",)
    # the other usage of the same device is another pair
    assert device_adhoc.check_to_send(ctx, _csr(EUI, dc.KEY_AGREEMENT)).ok
    # submit refuses it too, queueing nothing
    with pytest.raises(Refusal, match="fails the batch rules, so it is not sent: "
                                      "duplicate-key"):
        device_adhoc.submit(ctx, der, "again.csr")
    assert [i.ref for i in _adhoc_items(ctx)] == [first.ref]


def test_a_failed_earlier_ad_hoc_request_blocks_nothing(ctx) -> None:  # type: ignore[no-untyped-def]
    der = _csr(EUI)
    first = portal_service.enqueue_adhoc(ctx, der)
    assert not device_adhoc.check(ctx, der).ok
    portal_service.outbox(ctx).mark_failed(first.ref, "refused", "REJECTED")
    c = device_adhoc.check(ctx, der)
    assert c.ok and c.failed is None, c
    assert device_adhoc.check(ctx, _csr(EUI)).ok


def test_a_device_outside_the_party_device_ranges_is_refused(ctx) -> None:  # type: ignore[no-untyped-def]
    set_party(ctx, PartyProfile(
        "Acme Energy", "ACME", PartyType.IMPORT_SUPPLIER,
        (EuiRange.parse("90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF"),),
        device_ranges=(EuiRange.parse("00-DB-12-34-56-91-00-00..00-DB-12-34-56-91-00-FF"),)))
    assert device_adhoc.check_to_send(ctx, _csr(EUI + 1)).ok
    c = device_adhoc.check_to_send(ctx, _csr(EUI + 0x100))
    assert c.failed == "the batch rules"
    assert c.findings == ("range: device 00-DB-12-34-56-91-01-00 is outside the allowed device "
                          "range 00-DB-12-34-56-91-00-00..00-DB-12-34-56-91-00-FF",)


def test_live_sends_nothing_ad_hoc_without_a_party_profile(live_ctx) -> None:  # type: ignore[no-untyped-def]
    der = _csr(EUI)
    with pytest.raises(Refusal, match="Ad hoc Device CSR: the Live environment makes nothing "
                                      "without a Party profile"):
        device_adhoc.check_to_send(live_ctx, der)
    with pytest.raises(Refusal, match="without a Party profile"):
        device_adhoc.submit(live_ctx, der)
    assert not _adhoc_items(live_ctx)


def test_cli_names_what_failed(ctx, cli_run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    der = _csr(EUI)
    one = tmp_path / "one.csr"
    one.write_bytes(bf.encode_csr_text(der))
    res = cli_run("--json", "devices", "adhoc", str(one), "--check-only")
    assert res.code == 0, res
    assert res.json() == {"device_eui": "00-DB-12-34-56-91-00-00", "usage": "signing",
                          "ok": True, "failed": None, "findings": []}
    res = cli_run("devices", "adhoc", str(one), "--check-only")
    assert res.code == 0
    assert res.out.startswith("Device CSR for 00-DB-12-34-56-91-00-00 (signing): meets the "
                              "device profile and the batch rules."), res.out

    first = portal_service.enqueue_adhoc(ctx, der)
    res = cli_run("--json", "devices", "adhoc", str(one))  # about to send: refused
    assert res.code == 1, res
    out = json.loads(res.out)
    assert out["failed"] == "the batch rules" and out["ok"] is False
    assert out["findings"] == [f"duplicate-key: the same key as ad hoc request {first.ref} "
                               "(queued)"]
    res = cli_run("devices", "adhoc", str(one))
    assert res.code == 1
    assert res.out.splitlines() == [
        "Device CSR for 00-DB-12-34-56-91-00-00 (signing): fails the batch rules:",
        f"  duplicate-key: the same key as ad hoc request {first.ref} (queued)"]
    assert [i.ref for i in _adhoc_items(ctx)] == [first.ref]


def test_a_batch_refuses_what_an_ad_hoc_request_carries(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The other way round: a batch holding the key of an ad hoc request still waiting (or
    another CSR for its device and usage) is refused those CSRs, naming the request; once
    the request failed, the batch may carry them."""
    der = _csr(EUI)
    first = portal_service.enqueue_adhoc(ctx, der)
    src = tmp_path / "src"
    src.mkdir()
    (src / "same-key.csr").write_bytes(bf.encode_csr_text(der))
    (src / "same-pair.csr").write_bytes(bf.encode_csr_text(_csr(EUI)))
    (src / "other.csr").write_bytes(bf.encode_csr_text(_csr(EUI + 1)))
    res = devices.validate(ctx, src, processes=1)
    why = {r.locator: (r.code, r.reason) for r in res.rejected}
    assert why == {
        "same-key.csr": ("duplicate-key", f"the same key as ad hoc request {first.ref} (queued)"),
        "same-pair.csr": ("duplicate-device", "device 00-DB-12-34-56-91-00-00 already has a "
                          f"signing CSR in ad hoc request {first.ref} (queued)"),
    }, why
    assert len(res.accepted) == 1
    portal_service.outbox(ctx).mark_failed(first.ref, "refused", "REJECTED")
    again = devices.validate(ctx, src, processes=1)
    # only the batch's own rule is left: its two CSRs for one (device, usage)
    assert len(again.accepted) == 2
    assert [r.code for r in again.rejected] == ["duplicate-device"]
    assert "ad hoc" not in again.rejected[0].reason
