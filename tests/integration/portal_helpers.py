"""Helpers shared by the portal integration tests: a Test context enrolled with the simulator
(a separate process on loopback, started through the app's own service)."""

from __future__ import annotations

from typing import Any

from smki_desktop.core.environment import Environment
from smki_desktop.core.keys import KeyType, KeyUsage
from smki_desktop.services import credentials, simulator_control
from smki_desktop.services.context import AppContext


def enrolled(ctx: AppContext, batch_step: float = 0.2) -> simulator_control.SimulatorInfo:
    """Start the simulator for `ctx` (Test) and enrol the web-service client credential."""
    assert ctx.env is Environment.TEST
    info = simulator_control.start(ctx, batch_step=batch_step)
    credentials.request_credential(ctx, "web-service", organisation="Acme Energy Ltd",
                                   role="02", system_name="acme-smki-1")
    return info


def org_csr(ctx: AppContext, eui: str = "90-B3-D5-1F-30-01-00-00", usage: KeyUsage =
            KeyUsage.SIGNING) -> bytes:
    from smki_desktop.core.eui import EuiRange
    from smki_desktop.core.party import PartyProfile, PartyType
    from smki_desktop.services.csr import create_org_csr
    from smki_desktop.services.party import set_party

    if ctx.env is Environment.LIVE and ctx.party() is None:
        # Live makes no Organisation CSR without a Party profile (issue 12)
        set_party(ctx, PartyProfile("Acme Energy Ltd", "ACME", PartyType.IMPORT_SUPPLIER,
                                    (EuiRange.parse("90-B3-D5-1F-30-01-00-00.."
                                                    "90-B3-D5-1F-30-01-FF-FF"),)))
    key = ctx.keystore.generate(KeyType.EC_P256, usage, f"org {eui} {usage.value}")
    return create_org_csr(ctx, key.key_id, "supplier", eui).der


def device_csrs(n: int, start: int = 0x00DB123456789000) -> list[tuple[str, bytes]]:
    from smki_desktop.crypto.device_csr import generate_one

    out = []
    for i in range(n):
        eui = (start + i).to_bytes(8, "big")
        _, _, der, _ = generate_one(eui, "signing" if i % 2 == 0 else "key-agreement",
                                    keep_key=False)
        out.append((f"d{eui.hex().upper()}{i % 2}", der))
    return out


def submissions(info: simulator_control.SimulatorInfo) -> dict[str, Any]:
    return simulator_control.control(info, "/_control/submissions")


def seed_devices(info: simulator_control.SimulatorInfo, euis: list[int]) -> None:
    """Give each device a first Device Certificate in the simulator, as its installation
    would have (AppM: the ad hoc web service only replaces an existing certificate)."""
    from datetime import UTC, datetime

    from smki_desktop.simulator import dcc
    from smki_desktop.simulator.state import SimState

    st = SimState(info.state_dir)
    for eui in euis:
        (_, der), = device_csrs(1, eui)
        with dcc.Tx(st):
            status, code, _ = dcc._issue_device(st, der, "installation", datetime.now(UTC),
                                                st.hierarchy)
        assert status == "SUCCESS", code
