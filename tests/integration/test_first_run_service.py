"""The first-run walk as one service sequence, against the simulator: from the profiles to an
accepted Test certificate and a signed sample ADT file that OpenSSL verifies; again, it resumes
without making anything twice; in Live it refuses."""

from __future__ import annotations

import pytest

from smki_desktop.core.errors import Refusal
from smki_desktop.core.eui import EuiRange
from smki_desktop.core.party import OfficerProfile, OfficerRole, PartyProfile, PartyType
from smki_desktop.services import adt as adt_service
from smki_desktop.services import first_run, party, simulator_control
from tests.integration.adt_support import assert_openssl_ok


def _profiles(ctx) -> None:  # type: ignore[no-untyped-def]
    party.set_party(ctx, PartyProfile(
        "Acme Energy Ltd", "ACME", PartyType.IMPORT_SUPPLIER,
        (EuiRange.parse("90-B3-D5-1F-30-01-00-00..90-B3-D5-1F-30-01-FF-FF"),)))
    party.set_officer(ctx, OfficerProfile("Ann Officer", OfficerRole.ARO))


@pytest.mark.slow
def test_walk_reaches_an_accepted_certificate_and_a_signed_sample(ctx, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Refusal, match="Party profile"):
        first_run.run_step(ctx, "simulator", first_run.Walk())
    _profiles(ctx)
    seen: list[str] = []
    try:
        walk = first_run.run_all(ctx, on_step=lambda name, _r: seen.append(name))
        assert seen == [name for name, _ in first_run.STEPS]
        assert walk.certificate_status == "accepted" and walk.certificate_serial
        assert walk.sample_adt is not None and walk.sample_signature is not None
        # issue 11: the officer profile is linked to a verified ARO register entry, and the
        # file-signing credential the simulator issued names it (and its key is linked to it)
        from smki_desktop.core.officers import OfficerRole as RegisterRole
        from smki_desktop.core.officers import OfficerStatus
        from smki_desktop.services import credentials, officers

        entry = officers.profile_officer(ctx)
        assert entry is not None and entry.name == "Ann Officer"
        assert entry.role is RegisterRole.ARO and entry.status is OfficerStatus.VERIFIED
        cred = credentials.require_credential(ctx, "file-signing")
        assert credentials.register_id_of(cred.certificate) == entry.officer_id, cred.subject
        holder = officers.key_holder(ctx, cred.key_id)
        assert holder is not None and holder.officer_id == entry.officer_id
        anchors = adt_service.trust_anchors(ctx)
        from cryptography.hazmat.primitives import serialization

        root = tmp_path / "root.pem"
        root.write_bytes(b"".join(a.public_bytes(serialization.Encoding.PEM) for a in anchors))
        assert_openssl_ok(walk.sample_adt, walk.sample_signature, root)
        # run again: it finds what it made (same key, same submission), nothing doubled
        again = first_run.run_all(ctx)
        assert again.key_id == walk.key_id and again.outbox_ref == walk.outbox_ref
        assert again.certificate_serial == walk.certificate_serial
        steps = [e.details["step"] for e in ctx.audit.entries(action_prefix="first_run.")]
        assert len(steps) == 2 * len(first_run.STEPS)
    finally:
        simulator_control.stop(ctx)


def test_the_walk_refuses_live(live_ctx) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Refusal, match="Test environment only.*Live"):
        first_run.run_step(live_ctx, "simulator", first_run.Walk())
