"""CSR forecast: 8 months, averages from history, plans override, 150% warning, CSV."""

from __future__ import annotations

import csv
import io

import pytest

from smki_desktop.core.errors import InputError
from smki_desktop.core.forecast import Category, add_months, build, month_key, parse_month

DS, DB, ORG = Category.DEVICE_SINGLE, Category.DEVICE_BATCHED, Category.ORGANISATION


def test_month_arithmetic():
    assert add_months((2026, 11), 2) == (2027, 1)
    assert add_months((2026, 1), -1) == (2025, 12)
    assert parse_month("2027-03") == (2027, 3)
    with pytest.raises(InputError, match="YYYY-MM"):
        parse_month("2027-13")


def test_baseline_from_last_six_months_and_plans():
    hist = {(2026, m): {DS: 10, DB: 600, ORG: 1} for m in range(5, 11)}  # May..Oct
    hist[(2026, 11)] = {DS: 999}  # the current month is not complete: not counted
    hist[(2026, 4)] = {DS: 999}  # outside the window
    f = build((2026, 11), hist, {(2027, 2): {DB: 1000}, (2027, 3): {DB: 800}})
    assert [month_key(m.month) for m in f.months] == [
        "2026-12", "2027-01", "2027-02", "2027-03", "2027-04", "2027-05", "2027-06", "2027-07"]
    assert f.averages == {DS: 10.0, DB: 600.0, ORG: 1.0}
    assert f.months[0].values == {DS: 10, DB: 600, ORG: 1} and not any(
        f.months[0].planned.values())
    assert f.months[2].values[DB] == 1000 and f.months[2].planned[DB]
    # 1000 > 1.5 * 600 warns (and the month's total 1011 > 1.5 * 611), 800 does not
    assert [(month_key(w.month), w.category) for w in f.warnings] == [
        ("2027-02", DB), ("2027-02", None)]
    assert "167%" in f.warnings[0].message


def test_total_warning_and_no_history():
    f = build((2026, 11), {}, {(2026, 12): {ORG: 3}})
    cats = {w.category for w in f.warnings}
    assert ORG in cats and None in cats
    assert "no recent history" in f.warnings[0].message
    assert f.months[1].values == {DS: 0, DB: 0, ORG: 0}


def test_fractional_average_rounds_up_and_csv():
    hist = {(2026, 10): {DS: 5}}
    f = build((2026, 11), hist, {})
    assert f.averages[DS] == pytest.approx(5 / 6)
    assert f.months[0].values[DS] == 1
    rows = list(csv.reader(io.StringIO(f.to_csv())))
    assert rows[0] == ["month", "device-single", "device-batched", "organisation", "total",
                       "source"]
    assert len(rows) == 9 and rows[1][0] == "2026-12" and rows[1][-1] == "baseline"
    assert f.to_dict()["months"][0]["device-single"] == 1
