"""The precision an open duplicate flag is weighed by: what a finite measurement supports."""
from __future__ import annotations

import pytest

from vision.calibration import COPIES_FLAGGED, DISTINCT_PAIRS_FLAGGED, SHIPPED, precision_at_least


def test_no_false_flag_in_a_finite_sample_is_not_a_precision_of_one():
    bound = precision_at_least(840, 0)

    assert 0.99 < bound < 1.0
    assert precision_at_least(84, 0) < bound   # fewer flags, less certainty


def test_false_flags_lower_the_bound_below_the_observed_share():
    assert precision_at_least(95, 5) < 0.95
    assert precision_at_least(95, 5) < precision_at_least(99, 1)


@pytest.mark.parametrize(("copies", "distinct"), [(0, 0), (-1, 3), (3, -1)])
def test_a_precision_needs_flags_and_counts_that_exist(copies, distinct):
    with pytest.raises(ValueError):
        precision_at_least(copies, distinct)


def test_the_shipped_precision_is_the_bound_of_its_own_counts():
    assert SHIPPED.flags_measured == COPIES_FLAGGED + DISTINCT_PAIRS_FLAGGED
    assert SHIPPED.precision == round(
        precision_at_least(COPIES_FLAGGED, DISTINCT_PAIRS_FLAGGED), 4)
