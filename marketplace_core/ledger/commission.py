"""The platform's commission on a sale.

Defaults (ours, after Poshmark's public rule "20%, a flat fee below a small amount"):
20% of the price, but a flat Rs 49 on sales below Rs 300, never more than the price.
Operations change them through settings (COMMISSION_RATE_BP, COMMISSION_FLAT_FEE_PAISE,
COMMISSION_FLAT_BELOW_PAISE) rather than code.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from foundation.errors import ValidationFailed

BASIS_POINTS = 10_000


@dataclass(frozen=True)
class CommissionRules:
    rate_bp: int = 2_000
    flat_fee_paise: int = 4_900
    flat_below_paise: int = 30_000

    def __post_init__(self) -> None:
        for name in ("rate_bp", "flat_fee_paise", "flat_below_paise"):
            value = getattr(self, name)
            if type(value) is not int or value < 0:
                raise ValueError(f"{name} must be a whole number, zero or more")
        if self.rate_bp > BASIS_POINTS:
            raise ValueError("rate_bp cannot exceed 10000 (100%)")

    @classmethod
    def from_settings(cls, settings: Any) -> CommissionRules:
        """Rules from a Settings-like object with `get(name, default)`."""
        defaults = cls()
        return cls(
            rate_bp=settings.get("COMMISSION_RATE_BP", defaults.rate_bp),
            flat_fee_paise=settings.get("COMMISSION_FLAT_FEE_PAISE", defaults.flat_fee_paise),
            flat_below_paise=settings.get("COMMISSION_FLAT_BELOW_PAISE",
                                          defaults.flat_below_paise),
        )


DEFAULT_RULES = CommissionRules()


def commission_for(price_paise: int, rules: CommissionRules = DEFAULT_RULES) -> int:
    """The commission in paise on a sale at `price_paise`.

    The percentage is rounded half up to the paisa, so that the platform and the seller
    split every sale without losing a paisa to truncation.
    """
    if type(price_paise) is not int or price_paise <= 0:
        raise ValidationFailed("price_paise must be a positive whole number of paise",
                               code="bad_amount", fields={"price_paise": "positive integer"})
    if price_paise < rules.flat_below_paise:
        return min(rules.flat_fee_paise, price_paise)
    return (price_paise * rules.rate_bp + BASIS_POINTS // 2) // BASIS_POINTS
