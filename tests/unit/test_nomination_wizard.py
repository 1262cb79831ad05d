"""The nomination wizard state machine, driven without Qt: choose, pages, review, drafts."""

from __future__ import annotations

import pytest

from smki_desktop.core.errors import InputError, Refusal
from smki_desktop.core.forms import schema_from_json
from smki_desktop.core.nomination_wizard import NominationWizard, Step
from smki_desktop.resources_path import resource


@pytest.fixture
def forms():
    return {f: schema_from_json(resource("forms", f"{f}-v1.json").read_bytes())
            for f in ("sro", "aro")}


def fill_page(wiz: NominationWizard) -> None:
    ex = wiz.schema.example_values()
    for f in wiz.page.fields:
        if not f.print_blank:
            assert wiz.set_value(f.key, ex[f.key]) is None, f.key


@pytest.mark.parametrize("form", ["sro", "aro"])
def test_walk_through_to_produce(forms, form):
    wiz = NominationWizard(forms)
    assert wiz.step is Step.CHOOSE
    wiz.choose(form)
    titles = []
    while wiz.step is Step.PAGE:
        titles.append(wiz.page.id)
        assert not wiz.can_next() or wiz.page_errors() == []
        fill_page(wiz)
        wiz.next()
    assert "verification" not in titles  # completed later, at the meeting
    assert wiz.step is Step.REVIEW
    lines = wiz.review()
    assert any(line.value == wiz.schema.example_values()["nominee.email"] for line in lines)
    schema, values = wiz.produce()
    assert schema.form == form and wiz.step is Step.DONE
    assert values["nominee.party_id"] == "EXEN"


def test_validation_as_typed_and_next_blocked(forms):
    wiz = NominationWizard(forms)
    wiz.choose("sro")
    err = wiz.set_value("nominee.email", "not-an-email")
    assert err is not None and "valid email" in err.message
    assert not wiz.can_next()
    with pytest.raises(InputError, match=r"nominee\.email"):
        wiz.next()
    assert wiz.set_value("nominee.email", "ok@example.com") is None


def test_back_and_produce_requires_review(forms):
    wiz = NominationWizard(forms)
    wiz.choose("aro")
    with pytest.raises(Refusal):
        wiz.produce()
    fill_page(wiz)
    wiz.next()
    assert wiz.page_index == 1
    wiz.back()
    wiz.back()
    assert wiz.step is Step.CHOOSE


def test_draft_resume_keeps_values_and_page(forms):
    wiz = NominationWizard(forms)
    wiz.choose("aro")
    fill_page(wiz)
    wiz.next()
    wiz.set_value("environment.environment", "test")
    draft = wiz.to_draft()
    again = NominationWizard.from_draft(forms, draft, draft_id="d1")
    assert again.values == wiz.values and again.page_index == 1 and again.draft_id == "d1"
    stale = dict(draft, version=99)
    with pytest.raises(Refusal, match="Start a new nomination"):
        NominationWizard.from_draft(forms, stale)


def test_unknown_form(forms):
    with pytest.raises(InputError, match="'xro'"):
        NominationWizard(forms).choose("xro")


def test_a_message_is_located_at_the_first_field_key_it_names(forms):
    wiz = NominationWizard(forms)
    wiz.choose("aro")
    pages = [p.id for p in wiz.pages]
    idx, spec = wiz.locate("nominator.name: 'X' does not match; see also screening.date")
    assert spec.key == "nominator.name" and pages[idx] == "nominator"
    idx, spec = wiz.locate("screening.date: in the future (nominator.name is fine)")
    assert spec.key == "screening.date" and pages[idx] == "screening"
    # a key inside a longer key, or none at all, is not a field
    assert wiz.locate("Rule: an ARO's nomination is signed by the nominating SRO") is None
    assert wiz.locate("xnominator.name.extra") is None
    wiz.step = Step.REVIEW
    wiz.go_to_page(idx)
    assert wiz.step is Step.PAGE and wiz.page.id == "screening"
    with pytest.raises(Refusal):
        wiz.go_to_page(len(wiz.pages))
