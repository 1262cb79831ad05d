"""An ARO nominated by an SRO of the same Party (Party ID EXEN) under a slightly different
organisation name ("Example Energy Ltd" / "Example Energy") is nominated, with a warning that
names both spellings: the Party ID is the identity, the name is printed as typed."""

from __future__ import annotations

from tests.integration.adt_support import set_profiles
from tests.integration.test_officer_cli import make_active_sro, nominate


def test_same_party_other_spelling_is_nominated_with_a_warning(cli_run, tmp_path, ctx):  # type: ignore[no-untyped-def]
    set_profiles(ctx)  # the Party profile: "Example Energy", EXEN
    sro = make_active_sro(cli_run, tmp_path, "Alice Example")
    res = nominate(cli_run, tmp_path, "aro", "Bob Example", nominator__officer_id=sro,
                   nominee__organisation="Example Energy Ltd")
    assert res.code == 0, res.err
    data = res.json()
    assert data["officer"]["organisation"] == "Example Energy Ltd"
    notes = [w for w in data["warnings"] if w.startswith("nominee.organisation")]
    assert len(notes) == 1
    assert "'Example Energy Ltd'" in notes[0] and "'Example Energy'" in notes[0]
    assert "EXEN" in notes[0] and "nominee.organisation" in res.err
    # the Party's own spelling: no warning
    res = nominate(cli_run, tmp_path, "aro", "Cath Example", nominator__officer_id=sro)
    assert res.code == 0, res.err
    assert not [w for w in res.json()["warnings"] if w.startswith("nominee.organisation")]
