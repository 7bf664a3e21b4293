"""The numbers of offers and bundles, exact in integer paise.

Rounding rules (documented in the API too):
- The lowest offer is `ceil(price * OFFER_MIN_PERCENT_OF_PRICE / 100)`, and never below
  OFFER_FLOOR_PAISE: rounding up keeps "at least half the price" true to the paisa.
- An offer to likers must take at least LIKER_OFFER_MIN_DISCOUNT_PERCENT off: the highest
  allowed amount is `floor(price * (100 - percent) / 100)`.
- A bundle discount is `floor(subtotal * percent / 100)`: rounded down, so the buyer never
  gets more than the advertised percentage; the total is subtotal - discount.
"""
from __future__ import annotations

from dataclasses import dataclass

from foundation.config import current as settings
from foundation.errors import ValidationFailed


def minimum_offer(price_paise: int) -> int:
    rules = settings()
    share = -(-price_paise * rules.OFFER_MIN_PERCENT_OF_PRICE // 100)  # ceiling division
    return max(share, rules.OFFER_FLOOR_PAISE)


def maximum_liker_offer(price_paise: int) -> int:
    keep = 100 - settings().LIKER_OFFER_MIN_DISCOUNT_PERCENT
    return price_paise * keep // 100


def check_buyer_offer(amount_paise: int, price_paise: int) -> None:
    """A buyer's opening offer: below the asking price, at or above the minimum."""
    if amount_paise >= price_paise:
        raise ValidationFailed(
            f"An offer must be below the price ({price_paise} paise); buy it instead.",
            code="offer_not_below_price",
            fields={"amount_paise": f"less than {price_paise}"})
    _check_minimum(amount_paise, price_paise)


def check_liker_offer(amount_paise: int, price_paise: int) -> None:
    highest = maximum_liker_offer(price_paise)
    if amount_paise > highest:
        percent = settings().LIKER_OFFER_MIN_DISCOUNT_PERCENT
        raise ValidationFailed(
            f"An offer to likers must take at least {percent}% off: at most {highest} paise.",
            code="liker_offer_too_high", fields={"amount_paise": f"at most {highest}"})
    _check_minimum(amount_paise, price_paise)


def check_counter(amount_paise: int, low: int | None, high: int, price_paise: int) -> None:
    """A counter falls strictly between the buyer's and the seller's latest proposals
    (the minimum offer stands in for a buyer who has not proposed yet)."""
    floor = minimum_offer(price_paise) - 1 if low is None else low
    if not floor < amount_paise < high:
        lowest = floor + 1
        raise ValidationFailed(
            f"A counter must be between {lowest} and {high - 1} paise.",
            code="counter_out_of_range",
            fields={"amount_paise": f"between {lowest} and {high - 1}"})


def _check_minimum(amount_paise: int, price_paise: int) -> None:
    lowest = minimum_offer(price_paise)
    if amount_paise < lowest:
        raise ValidationFailed(f"The lowest offer for this price is {lowest} paise.",
                               code="offer_below_minimum",
                               fields={"amount_paise": f"at least {lowest}"})


@dataclass(frozen=True)
class BundlePrice:
    item_count: int
    subtotal_paise: int
    discount_percent: int  # 0 when the bundle has too few items for the seller's discount
    discount_paise: int
    total_paise: int


def bundle_price(prices_paise: list[int], percent: int, min_items: int) -> BundlePrice:
    subtotal = sum(prices_paise)
    applies = percent > 0 and len(prices_paise) >= min_items
    applied = min(percent, settings().BUNDLE_DISCOUNT_MAX_PERCENT) if applies else 0
    discount = subtotal * applied // 100
    return BundlePrice(item_count=len(prices_paise), subtotal_paise=subtotal,
                       discount_percent=applied, discount_paise=discount,
                       total_paise=subtotal - discount)
