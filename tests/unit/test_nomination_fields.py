"""The nomination's single-answer checks as the wizard uses them: past dates, and the form's
internal keys put as its labels."""

from __future__ import annotations

import datetime as dt

from smki_desktop.services import nomination as nom
from smki_desktop.services.nomination_fields import date_problem, with_labels


def test_a_future_date_is_named_without_its_key() -> None:
    today = dt.date(2026, 12, 7)
    why = date_problem("screening.date", "2027-01-06", today)
    assert why.startswith("2027-01-06 is in the future (today is 2026-12-07)")
    assert "screening.date" not in why
    assert date_problem("screening.date", "2026-12-07", today) == ""
    assert date_problem("screening.date", "not a date", today) == ""  # the form's own check
    assert date_problem("nominee.name", "2027-01-06", today) == ""


def test_keys_become_labels() -> None:
    aro = nom.load_forms()["aro"]
    assert with_labels(aro, "screening.date: 2027-01-06 is in the future.") == \
        "Screening completed on: 2027-01-06 is in the future."
    assert with_labels(aro, "nominator.officer_id (Register ID of nominating SRO): required") \
        == "Register ID of nominating SRO: required"
    assert with_labels(aro, "tick 'nominator.self_nomination'.") == (
        "tick 'The nominating SRO is nominating themselves as ARO (self-nomination)'.")
    assert with_labels(aro, "see xnominee.name and nominee.names") == \
        "see xnominee.name and nominee.names"  # only whole keys
