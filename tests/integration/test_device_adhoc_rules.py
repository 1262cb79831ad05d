"""An ad hoc Device CSR goes through the same batch rules as a batch, as a batch of one: a key
already in a batch, a key or (device, usage) of an earlier ad hoc request still waiting, a
device outside the Party's device ranges are refused, naming what they fail; an earlier request
that failed blocks nothing. Both faces' send paths go through `check_to_send`. Two sends of one
CSR at once (two workstations on a team store, two processes on one data folder) queue it once:
the batch rules are checked again in the transaction that queues it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from smki_desktop.core import batch_formats as bf
from smki_desktop.core.environment import Environment
from smki_desktop.core.errors import Refusal
from smki_desktop.core.eui import EuiRange
from smki_desktop.core.party import PartyProfile, PartyType
from smki_desktop.crypto import device_csr as dc
from smki_desktop.services import device_adhoc, devices
from smki_desktop.services import portal as portal_service
from smki_desktop.services.context import AppContext, open_context
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


@pytest.mark.both_backends
def test_two_sends_at_once_queue_the_csr_once(ctx, data_root: Path,  # type: ignore[no-untyped-def]
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Two contexts on one data folder (on PostgreSQL: two workstations on one team store).
    The second queues the same CSR after the first has checked it and before the first queues
    it: the first is refused, naming the second's request, and the CSR is queued once."""
    der = _csr(EUI)
    other = open_context(Environment.TEST, data_root)
    try:
        checked_first = device_adhoc.check_to_send
        theirs = []

        def others_queue_between(c: AppContext, data: bytes, what: str = "Device CSR"
                                 ) -> device_adhoc.AdhocCheck:
            res = checked_first(c, data, what)
            if c is ctx and not theirs:  # the first's check passed; it has not queued yet
                assert res.ok, res
                assert checked_first(other, data, "other.csr").ok
                theirs.append(portal_service.enqueue_adhoc(other, data, {"source": "other"}))
            return res

        monkeypatch.setattr(device_adhoc, "check_to_send", others_queue_between)
        # no web-service credential here: what is queued stays queued (sending is not tested)
        monkeypatch.setattr(portal_service, "send_pending", lambda *_a, **_k: [])
        with pytest.raises(Refusal) as refused:
            device_adhoc.submit(ctx, der, "mine.csr")
        assert theirs, "the other context did not queue between the check and the queue"
        ref = theirs[0].ref
        # the same clear message as a refusal at the first check (the CLI's text and --json)
        assert refused.value.message == (
            "The Device CSR fails the batch rules, so it is not sent: duplicate-key: the same "
            f"key as ad hoc request {ref} (queued)")
        for c in (ctx, other):
            assert [i.ref for i in _adhoc_items(c)] == [ref]
            assert [e.details["ref"] for e in c.audit.entries()
                    if e.action == "portal.submit"] == [ref]

        # the last check runs under the store's write lock, in the transaction that queues
        rules = device_adhoc._batch_rules
        locked: list[bool] = []

        def batch_rules(c: AppContext, der: bytes, what: str) -> list[tuple[str, str]]:
            locked.append(c.db.in_transaction())
            return rules(c, der, what)

        monkeypatch.setattr(device_adhoc, "_batch_rules", batch_rules)
        # the faces' way in: the failed check comes back, its reasons in plain words
        theirs.clear()
        monkeypatch.setattr(device_adhoc, "check_to_send", checked_first)
        again = device_adhoc.try_submit(ctx, _csr(EUI), "pair.csr")
        assert isinstance(again, device_adhoc.AdhocCheck) and again.failed == "the batch rules"
        assert again.reasons == ("Device 00-DB-12-34-56-91-00-00 already has a signing CSR in "
                                 f"ad hoc request {ref} (queued).",)
        assert [i.ref for i in _adhoc_items(ctx)] == [ref]
        assert locked == [False], locked  # refused at the first check, before any transaction
        assert device_adhoc.try_submit(ctx, _csr(EUI, dc.KEY_AGREEMENT), "ka.csr") is not None
        assert locked[1:] == [False, True], locked  # its first check, then the last
        assert len(_adhoc_items(ctx)) == 2
    finally:
        other.close()


def test_each_finding_also_in_plain_words(ctx, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The GUI shows `reasons` (no rule codes); `findings` keep "code: reason" for --json."""
    src = tmp_path / "src"
    src.mkdir()
    der = _csr(EUI)
    (src / "d0.csr").write_bytes(bf.encode_csr_text(der))
    pkg = devices.package(ctx, src, tmp_path / "out", processes=1)
    c = device_adhoc.check(ctx, der, "d0.csr")
    assert c.findings[0].startswith(f"duplicate-key: the same key as batch {pkg.batch_id}")
    assert c.reasons[0].startswith(f"It has the same key as batch {pkg.batch_id}"), c
    assert c.reasons[0].endswith(".") and "duplicate" not in c.reasons[0]
    assert c.as_dict()["findings"] == list(c.findings)  # the --json document as it was
    assert device_adhoc.plain_reason("range", "device 00-DB is outside the allowed device "
                                     "range X") == ("Device 00-DB is outside the allowed "
                                                    "device range X.")
    assert device_adhoc.plain_reason("hw-type", "hwType 1.2.3 cannot be accepted.") \
        == "hwType 1.2.3 cannot be accepted."
