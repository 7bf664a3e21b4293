"""The payment provider: taking the buyer's money at checkout and giving it back.

`PaymentProvider` is the interface a real gateway (Razorpay, a card acquirer, UPI)
would implement; `SimulatedPaymentProvider` is the one this project runs with, driven by
test payment methods.  The ledger records what the platform holds; the provider is
where the money actually comes from and goes back to.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Protocol

from foundation.errors import DomainError, ValidationFailed


class PaymentDeclined(DomainError):
    """The provider refused the payment: HTTP 402, and nothing of the order is kept."""

    status = 402
    code = "payment_declined"


@dataclass(frozen=True)
class Capture:
    provider_ref: str
    amount_paise: int


class PaymentProvider(Protocol):
    def supports(self, method: str) -> bool:
        """Whether `method` names a payment method this provider knows."""

    def capture(self, *, amount_paise: int, method: str, reference: str) -> Capture:
        """Take `amount_paise` from the buyer; raise PaymentDeclined if refused.

        `reference` is ours and idempotent: capturing the same reference twice is
        one charge at a real gateway."""

    def void(self, *, provider_ref: str) -> None:
        """Undo a capture whose order could not be written (nothing was delivered)."""

    def refund(self, *, provider_ref: str, amount_paise: int, reference: str) -> str:
        """Send `amount_paise` of a capture back to the buyer; returns the refund's id.
        Idempotent on `reference`."""


@dataclass
class SimulatedPaymentProvider:
    """Test methods: "test_card_ok" and "test_upi_ok" succeed, "test_card_declined" is
    refused.  Every call is remembered so that tests can see what reached the provider."""

    approving: frozenset[str] = frozenset({"test_card_ok", "test_upi_ok"})
    declining: frozenset[str] = frozenset({"test_card_declined"})
    voided: list[str] = field(default_factory=list)
    refunds: list[tuple[str, str, int]] = field(default_factory=list)

    def supports(self, method: str) -> bool:
        return method in self.approving or method in self.declining

    def capture(self, *, amount_paise: int, method: str, reference: str) -> Capture:
        require_supported(self, method)
        if method in self.declining:
            raise PaymentDeclined("Your bank declined the payment; nothing was charged. "
                                  "Try another card or UPI.")
        return Capture(provider_ref=_ref("pay", reference), amount_paise=amount_paise)

    def void(self, *, provider_ref: str) -> None:
        self.voided.append(provider_ref)

    def refund(self, *, provider_ref: str, amount_paise: int, reference: str) -> str:
        self.refunds.append((reference, provider_ref, amount_paise))
        return _ref("rfnd", reference)


def require_supported(provider: PaymentProvider, method: str) -> None:
    if not provider.supports(method):
        raise ValidationFailed("That payment method is not accepted.",
                               code="unknown_payment_method",
                               fields={"payment_method": "not a supported payment method"})


def _ref(prefix: str, reference: str) -> str:
    return f"sim_{prefix}_{hashlib.sha256(reference.encode()).hexdigest()[:24]}"


_installed: dict[str, PaymentProvider] = {"provider": SimulatedPaymentProvider()}


def provider() -> PaymentProvider:
    """The payment provider in use (the simulated one until a real gateway is installed)."""
    return _installed["provider"]


def install(new: PaymentProvider) -> PaymentProvider:
    _installed["provider"] = new
    return new
