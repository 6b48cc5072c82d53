"""An evidence field's value as a clerk's sheet holds it: a number with thousands separators (2,100,
as the tool itself prints amounts), a date in the forms every other date is taken in (2020/10/16,
2020年10月16日). They were refused as not a number and not a date."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.domain.evidence import converted


@pytest.mark.parametrize("kind, given_, stored", [
    ("number", "2,100", 2100.0), ("number", "2，100.5", 2100.5), ("number", " 3000 ", 3000.0), ("int", "1,200", 1200),
    ("date", "2020/10/16", "2020-10-16"), ("date", "2020年10月6日", "2020-10-06"), ("date", "2020.1.2", "2020-01-02"),
    ("date", "2020-10-16", "2020-10-16"),
    # money with its unit, a year as people write it
    ("number", "12,000元", 12000.0), ("number", "3379.5 元", 3379.5), ("year", "2019年", 2019), ("year", "2019年度", 2019)])
def test_the_forms_a_sheet_holds_are_read(kind, given_, stored):
    assert converted(kind, given_) == stored


@pytest.mark.parametrize("kind, given_", [("number", "2,1x"), ("number", "nan"), ("date", "2020/13/01"),
                                          ("date", "2020-02-30"), ("int", "1.5"), ("date", "16/10/2020"),
                                          # a comma that separates no thousands: a typo or a list, not 15 or 23
                                          ("number", "1,5"), ("number", "12,34"), ("number", "2，3"), ("int", "1,2,3"),
                                          # 万 only after a number, once (1.2万 is 12000: test_evidence_sheet_cells)
                                          ("number", "1.2万万"), ("number", "约1万"), ("year", "19年")])
def test_what_is_not_a_number_or_a_date_is_still_refused(kind, given_):
    with pytest.raises(ValueError):
        converted(kind, given_)


@given(st.integers(0, 10 ** 9))
def test_a_number_with_thousands_separators_is_that_number(n):
    assert converted("number", f"{n:,}") == float(n) and converted("int", f"{n:,}") == n
