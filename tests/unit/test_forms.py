"""Form schemas as data: loading, field validation (email, Party ID, dates, declarations)."""

from __future__ import annotations

import json

import pytest

from smki_desktop.core.errors import InputError
from smki_desktop.core.forms import (
    STAGE_VERIFICATION,
    schema_from_dict,
    schema_from_json,
    validate_field,
)
from smki_desktop.resources_path import resource


def load(form: str):
    return schema_from_json(resource("forms", f"{form}-v1.json").read_bytes())


def test_both_forms_load_with_pages_and_required_marks():
    sro, aro = load("sro"), load("aro")
    assert sro.role == "sro" and aro.role == "aro"
    assert [p.id for p in sro.pages] == ["nominee", "environment", "nominator", "declarations",
                                         "verification"]
    assert "screening" in [p.id for p in aro.pages]
    assert aro.field("screening.reference").required
    assert sro.field("nominator.capacity").options[0].value == "director"
    assert aro.page("verification").stage == STAGE_VERIFICATION
    ev = aro.field("verification.evidence")
    assert ev.type == "checklist" and len(ev.options) >= 4
    for f in sro.fields() + aro.fields():
        assert f.label and f.type


@pytest.mark.parametrize("form", ["sro", "aro"])
def test_examples_are_complete_and_valid(form):
    s = load(form)
    assert s.validate(s.example_values()) == []


@pytest.mark.parametrize("bad", ["alice", "alice@", "@example.com", "a b@example.com",
                                 "alice@example", "alice@exa_mple.com"])
def test_invalid_email_refused_naming_field(bad):
    s = load("sro")
    err = validate_field(s.field("nominee.email"), bad)
    assert err is not None and err.key == "nominee.email"
    assert "not a valid email" in err.message


@pytest.mark.parametrize("bad", ["ab", "abcd", "AB CD", "ABCDEFGHI", "AB-CD"])
def test_invalid_party_id_refused(bad):
    s = load("aro")
    err = validate_field(s.field("nominee.party_id"), bad)
    assert err is not None
    assert "Party / RDP ID" in err.message and "4 to 8" in err.message


def test_valid_values_pass():
    s = load("sro")
    assert validate_field(s.field("nominee.email"), "a.b+c@mail.example.co.uk") is None
    assert validate_field(s.field("nominee.party_id"), "EXEN") is None
    assert validate_field(s.field("nominator.date"), "2026-02-28") is None


def test_dates_choices_declarations():
    s = load("sro")
    assert "YYYY-MM-DD" in validate_field(s.field("nominator.date"), "2026-02-30").message
    assert "YYYY-MM-DD" in validate_field(s.field("nominator.date"), "20/11/2026").message
    assert "not one of" in validate_field(s.field("nominator.capacity"), "ceo").message
    assert "accepted" in validate_field(s.field("declarations.authority"), False).message
    assert validate_field(s.field("nominee.name"), "").message == "required"


def test_verification_fields_required_only_at_verification_stage():
    s = load("aro")
    f = s.field("verification.verifier")
    assert validate_field(f, "") is None
    assert validate_field(f, "", stage=STAGE_VERIFICATION).message == "required"
    ev = s.field("verification.evidence")
    assert "unknown item" in validate_field(ev, ["photo-id", "selfie"]).message


def test_document_round_trip_and_unknown_names():
    s = load("aro")
    doc = s.template_document()
    assert json.loads(json.dumps(doc)) == doc
    assert s.values_from_document(doc) == {**s.empty_values(), **s.example_values()}
    with pytest.raises(InputError, match="no page"):
        s.values_from_document({"nominees": {}})
    with pytest.raises(InputError, match=r"no field 'nominee\.nickname'"):
        s.values_from_document({"nominee": {"nickname": "x"}})
    with pytest.raises(InputError, match="expected true or false"):
        s.values_from_document({"declarations": {"key_custody": "maybe"}})


def test_malformed_schema_refused():
    with pytest.raises(InputError, match="malformed"):
        schema_from_dict({"form": "x"})
    with pytest.raises(InputError, match="unknown type"):
        schema_from_dict({"form": "x", "version": 1, "title": "t", "pages": [
            {"id": "p", "title": "P", "fields": [{"id": "a", "label": "A", "type": "blob"}]}]})
