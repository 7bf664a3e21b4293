"""The commission rule: 20%, a flat fee below a small amount, numbers from settings."""
from __future__ import annotations

import pytest

from foundation.config import Settings
from foundation.errors import ValidationFailed
from marketplace_core.ledger.commission import CommissionRules, commission_for


@pytest.mark.parametrize("price, commission", [
    (30_000, 6_000),        # Rs 300: the percentage starts here
    (29_999, 4_900),        # just below: the flat Rs 49
    (100_000, 20_000),
    (30_003, 6_001),        # 6000.6 paise rounds up
    (30_002, 6_000),        # 6000.4 paise rounds down
    (30_001, 6_000),
    (12_345_67, 2_469_13),  # 246913.4
    (2_000, 2_000),         # never more than the price itself
    (1, 1),
])
def test_default_commission(price, commission):
    assert commission_for(price) == commission


def test_rules_come_from_settings():
    settings = Settings.from_env(environ={}, SECRET_KEY="k" * 40, COMMISSION_RATE_BP=1_500,
                                 COMMISSION_FLAT_FEE_PAISE=2_500,
                                 COMMISSION_FLAT_BELOW_PAISE=50_000)
    rules = CommissionRules.from_settings(settings)
    assert rules == CommissionRules(rate_bp=1_500, flat_fee_paise=2_500,
                                    flat_below_paise=50_000)
    assert (commission_for(49_999, rules), commission_for(50_000, rules)) == (2_500, 7_500)


def test_settings_without_commission_keep_the_defaults():
    settings = Settings.from_env(environ={}, SECRET_KEY="k" * 40)
    assert CommissionRules.from_settings(settings) == CommissionRules()


@pytest.mark.parametrize("rules", [
    {"rate_bp": 10_001}, {"rate_bp": -1}, {"flat_fee_paise": 49.0},
    {"flat_below_paise": -30_000},
])
def test_nonsense_rules_are_refused(rules):
    with pytest.raises(ValueError):
        CommissionRules(**rules)


@pytest.mark.parametrize("price", [0, -100, 100.0, "100", True])
def test_commission_needs_a_positive_price_in_paise(price):
    with pytest.raises(ValidationFailed):
        commission_for(price)
