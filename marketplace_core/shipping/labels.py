"""Label tiers, the seller's share they come out of, and label and tracking numbers."""
from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from foundation.config import LabelTier
from foundation.config import current as settings
from foundation.errors import ValidationFailed
from marketplace_core.ledger import services as ledger
from marketplace_core.orders.models import Order
from marketplace_core.shipping.models import Shipment

CARRIER_NAME = "PoshPost"
TRACKING_PREFIX, TRACKING_COUNTRY = "PP", "IN"
S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)
NUMBER_ATTEMPTS = 20


def tiers() -> tuple[LabelTier, ...]:
    return settings().label_tiers


def tier_for_weight(weight_grams: int) -> LabelTier:
    """The lightest tier that carries the parcel (the last one carries anything)."""
    for tier in tiers():
        if tier.max_grams is None or weight_grams <= tier.max_grams:
            return tier
    raise AssertionError("settings guarantee an open-ended last tier")


def tier_named(name: str) -> LabelTier:
    for tier in tiers():
        if tier.name == name:
            return tier
    raise ValidationFailed("No such label tier.", code="unknown_tier",
                           fields={"tier": "one of: " + ", ".join(t.name for t in tiers())})


def tier_rank(name: str) -> int:
    """Position from light to heavy; a tier no longer configured counts as the lightest."""
    names = [t.name for t in tiers()]
    return names.index(name) if name in names else -1


def seller_share(order: Order) -> int:
    """What the seller would receive for the order before any label surcharge: the most
    a surcharge can take (orders.mark_shipped refuses more)."""
    rules = ledger.CommissionRules.from_settings(settings())
    return order.sale_price_paise - ledger.commission_for(order.sale_price_paise, rules)


def s10_check_digit(serial: str) -> int:
    """The UPU S10 check digit of an 8-digit serial (as India Post's tracking numbers)."""
    remainder = 11 - sum(int(d) * w for d, w in zip(serial, S10_WEIGHTS, strict=True)) % 11
    return {10: 0, 11: 5}.get(remainder, remainder)


def is_tracking_number(value: str) -> bool:
    if len(value) != 13 or not value.startswith(TRACKING_PREFIX) \
            or not value.endswith(TRACKING_COUNTRY) or not value[2:11].isdigit():
        return False
    return s10_check_digit(value[2:10]) == int(value[10])


def new_tracking_number(s: Session) -> str:
    """An unused S10-style number (PP 8 digits, check digit, IN); random, so that one
    tracking number does not reveal its neighbours."""
    for _ in range(NUMBER_ATTEMPTS):
        serial = f"{secrets.randbelow(10**8):08d}"
        number = f"{TRACKING_PREFIX}{serial}{s10_check_digit(serial)}{TRACKING_COUNTRY}"
        if s.scalar(select(Shipment.id).where(Shipment.tracking_number == number)) is None:
            return number
    raise RuntimeError("could not find an unused tracking number")


def new_label_number() -> str:
    return "PPL-" + secrets.token_hex(6).upper()
