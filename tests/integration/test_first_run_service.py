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
        # it ends active: the training SRO activated it with a change signed by the SRO's own
        # Test credential, so the officer can act in Test at once (it was left verified before)
        assert entry.role is RegisterRole.ARO and entry.status is OfficerStatus.ACTIVE
        [activation] = [e for e in ctx.audit.entries(action_prefix="officer.activate")
                        if e.details["officer_id"] == entry.officer_id]
        sro = officers.get_officer(ctx, activation.details["signed_by"])
        assert sro.role is RegisterRole.SRO and sro.name == first_run.TRAINING_SRO
        from smki_desktop.core.officers import OfficerRole as Role
        from smki_desktop.services import identity

        actor = identity.resolve_actor(ctx, None, None, roles=(Role.ARO,), what="a test action")
        assert actor.officer.officer_id == entry.officer_id
        cred = first_run.officer_credential(ctx, entry.officer_id)
        assert cred is not None and cred.key_id == actor.key.key_id
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
        # two file-signing credentials, the officer's and the training SRO's, not more
        assert len(credentials.list_credentials(ctx, "file-signing")) == 2
        steps = [e.details["step"] for e in ctx.audit.entries(action_prefix="first_run.")]
        assert len(steps) == 2 * len(first_run.STEPS)
    finally:
        simulator_control.stop(ctx)


def test_the_walk_refuses_live(live_ctx) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Refusal, match="Test environment only.*Live"):
        first_run.run_step(live_ctx, "simulator", first_run.Walk())


@pytest.mark.slow
def test_a_walk_left_at_a_verified_entry_activates_it_when_run_again(ctx) -> None:  # type: ignore[no-untyped-def]
    """An entry left verified (by an earlier version of the walk, or a run stopped before the
    activation) is activated by the training SRO when the walk runs again; nothing doubles."""
    from smki_desktop.core.officers import OfficerStatus
    from smki_desktop.services import officers

    _profiles(ctx)
    try:
        p = ctx.party()
        sro = first_run._training_sro(ctx, p)
        # the training SRO signs the nomination with its credential (from the simulator)
        first_run.run_step(ctx, "simulator", first_run.Walk())
        sro_cred = first_run._linked_credential(
            ctx, sro, first_run._role_for(p.party_type).name_text)
        aro = first_run._nominated(ctx, "aro", {
            "nominee.name": "Ann Officer", "nominee.email": first_run._email("Ann Officer", p),
            "nominee.organisation": p.name, "nominee.party_id": p.party_id,
            "nominator.officer_id": sro.officer_id, "nominator.name": sro.name}, sro_cred)
        officers.link_profile(ctx, aro.officer_id)
        assert officers.get_officer(ctx, aro.officer_id).status is OfficerStatus.VERIFIED
        first_run.run_all(ctx)
        assert officers.get_officer(ctx, aro.officer_id).status is OfficerStatus.ACTIVE
        assert sorted(o.officer_id for o in officers.list_officers(ctx)) == \
            sorted([sro.officer_id, aro.officer_id])
    finally:
        simulator_control.stop(ctx)


def test_the_walk_leaves_an_entry_a_real_sro_nominated_to_that_sro(ctx) -> None:  # type: ignore[no-untyped-def]
    """The walk verifies and activates only the training entries it makes: an entry of the
    profile's officer nominated by another SRO of the Party is refused with who must act, left
    as it was (not verified, not activated by the training SRO), and nothing else is made; once
    that SRO has activated it, the walk uses it."""
    from smki_desktop.core.officers import OfficerStatus
    from smki_desktop.services import officers, register

    _profiles(ctx)
    try:
        p = ctx.party()
        real_sro = register.activate(ctx, first_run._nominated(ctx, "sro", {
            "nominee.name": "Rita Real", "nominee.email": "rita.real@example.invalid",
            "nominee.organisation": p.name, "nominee.party_id": p.party_id,
            "nominator.name": "Dora Director",
            "nominator.email": "dora.director@example.invalid"}).officer_id).officer
        schema = first_run.nomination.load_forms()["aro"]
        values = dict(schema.example_values())
        values.update({
            "environment.environment": ctx.env.value,
            "nominator.date": ctx.clock.now().date().isoformat(),
            "nominee.name": "Ann Officer", "nominee.email": first_run._email("Ann Officer", p),
            "nominee.organisation": p.name, "nominee.party_id": p.party_id,
            "nominator.officer_id": real_sro.officer_id, "nominator.name": real_sro.name})
        if "screening.date" in values:
            values["screening.date"] = values["nominator.date"]
        # that SRO nominates (signing the record with their own credential)
        first_run.run_step(ctx, "simulator", first_run.Walk())
        cred = first_run._linked_credential(
            ctx, real_sro, first_run._role_for(p.party_type).name_text)
        aro = first_run.nomination.nominate(ctx, schema, values, as_ref=real_sro.officer_id,
                                            key_ref=cred.key_id).officer
        before = sorted(o.officer_id for o in officers.list_officers(ctx))
        with pytest.raises(Refusal) as refused:
            first_run.run_step(ctx, "credentials", first_run.Walk())
        msg = refused.value.message
        assert aro.officer_id in msg and "Rita Real" in msg and real_sro.officer_id in msg
        assert "verify it" in msg
        assert officers.get_officer(ctx, aro.officer_id).status is OfficerStatus.NOMINATED
        assert sorted(o.officer_id for o in officers.list_officers(ctx)) == before
        # that SRO verifies and activates it (signed with their own credential): it is used
        officers.verify_officer(ctx, aro.officer_id, officers.parse_verification(
            ctx.clock.now().date().isoformat(), "Rita Real", list(first_run.TRAINING_EVIDENCE),
            "passed"))
        register.activate(ctx, aro.officer_id, as_ref=real_sro.officer_id, key_ref=cred.key_id)
        first_run.run_step(ctx, "credentials", first_run.Walk())
        assert officers.profile_officer(ctx).officer_id == aro.officer_id  # type: ignore[union-attr]
        assert officers.get_officer(ctx, aro.officer_id).status is OfficerStatus.ACTIVE
        assert not [o for o in officers.list_officers(ctx) if o.name == first_run.TRAINING_SRO]
    finally:
        simulator_control.stop(ctx)
