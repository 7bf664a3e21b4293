"""The payment provider: taking the buyer's money at checkout and giving it back.

`PaymentProvider` is the interface a real gateway (Razorpay, a card acquirer, UPI)
would implement; `SimulatedPaymentProvider` is the one this project runs with, driven by
test payment methods.  The ledger records what the platform holds; the provider is
where the money actually comes from and goes back to.  Refunds and voids reach it only
through the outbox (`marketplace_core.outbox`), which retries them with the same
reference until it answers.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Protocol

from foundation.errors import DomainError, ValidationFailed
from marketplace_core.orders import provider_store


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

    def void(self, *, provider_ref: str, reference: str | None = None) -> str:
        """Undo a capture whose order could not be written (nothing was delivered);
        returns the void's id.  Idempotent on `reference`."""

    def refund(self, *, provider_ref: str, amount_paise: int, reference: str) -> str:
        """Send `amount_paise` of a capture back to the buyer; returns the refund's id.
        Idempotent on `reference`."""


PAYMENTS_STORE = "payments.sqlite3"
PAYMENTS_SCHEMA = provider_store.REQUESTS_TABLE + """
CREATE TABLE IF NOT EXISTS captures (
    reference TEXT PRIMARY KEY, provider_ref TEXT NOT NULL UNIQUE, amount_paise INTEGER NOT NULL,
    method TEXT NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS refunds (
    reference TEXT PRIMARY KEY, refund_id TEXT NOT NULL, provider_ref TEXT NOT NULL,
    amount_paise INTEGER NOT NULL, at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS voids (
    reference TEXT PRIMARY KEY, void_id TEXT NOT NULL, provider_ref TEXT NOT NULL,
    at TEXT NOT NULL);
"""


@dataclass
class SimulatedPaymentProvider:
    """Test methods: "test_card_ok" and "test_upi_ok" succeed, "test_card_declined" is
    refused.  What it did lives in its own store (`provider_store`), so every process
    sees one provider and tests read what reached it with the `received_*` readers.
    Refunds and voids suffer the faults of PROVIDER_FAULTS; captures (made inside the
    buyer's request) never do."""

    approving: frozenset[str] = frozenset({"test_card_ok", "test_upi_ok"})
    declining: frozenset[str] = frozenset({"test_card_declined"})

    def supports(self, method: str) -> bool:
        return method in self.approving or method in self.declining

    def capture(self, *, amount_paise: int, method: str, reference: str) -> Capture:
        require_supported(self, method)
        if method in self.declining:
            raise PaymentDeclined("Your bank declined the payment; nothing was charged. "
                                  "Try another card or UPI.")
        with _store() as store:
            provider_store.count_request(store, "capture", reference)
            store.execute("INSERT OR IGNORE INTO captures VALUES (?, ?, ?, ?, ?)",
                          (reference, _ref("pay", reference), amount_paise, method,
                           provider_store.now_text()))
            provider_ref, amount = store.execute(
                "SELECT provider_ref, amount_paise FROM captures WHERE reference = ?",
                (reference,)).fetchone()
        return Capture(provider_ref=provider_ref, amount_paise=amount)

    def void(self, *, provider_ref: str, reference: str | None = None) -> str:
        """Cancel a capture; returns the void's id (the first one, asked again)."""
        reference = reference or void_reference(provider_ref)
        fault = provider_store.draw_fault()
        provider_store.before_acting(fault, "the payment provider")
        with _store() as store:
            provider_store.count_request(store, "void", reference)
            store.execute("INSERT OR IGNORE INTO voids VALUES (?, ?, ?, ?)",
                          (reference, _ref("void", reference), provider_ref,
                           provider_store.now_text()))
            void_id = store.execute("SELECT void_id FROM voids WHERE reference = ?",
                                    (reference,)).fetchone()[0]
        provider_store.after_acting(fault, "the payment provider")
        return void_id

    def refund(self, *, provider_ref: str, amount_paise: int, reference: str) -> str:
        fault = provider_store.draw_fault()
        provider_store.before_acting(fault, "the payment provider")
        with _store() as store:
            provider_store.count_request(store, "refund", reference)
            store.execute("INSERT OR IGNORE INTO refunds VALUES (?, ?, ?, ?, ?)",
                          (reference, _ref("rfnd", reference), provider_ref, amount_paise,
                           provider_store.now_text()))
            refund_id = store.execute("SELECT refund_id FROM refunds WHERE reference = ?",
                                      (reference,)).fetchone()[0]
        provider_store.after_acting(fault, "the payment provider")
        return refund_id

    # --- what reached it (reconciliation and tests) -----------------------------------

    def received_refunds(self) -> list[dict]:
        return _rows("SELECT reference, amount_paise, provider_ref, refund_id, at "
                     "FROM refunds ORDER BY at, reference")

    def received_voids(self) -> list[dict]:
        return _rows("SELECT reference, provider_ref, void_id, at FROM voids "
                     "ORDER BY at, reference")

    def received_captures(self) -> list[dict]:
        return _rows("SELECT reference, provider_ref, amount_paise, method, at FROM captures "
                     "ORDER BY at, reference")

    def requests_sent(self, operation: str) -> dict[str, int]:
        """How many times each reference was sent for `operation` ("refund", "void",
        "capture"), answered or not."""
        return {row["reference"]: row["sent"] for row in _rows(
            "SELECT reference, sent FROM requests WHERE operation = ?", (operation,))}


def _store():
    return provider_store.connect(PAYMENTS_STORE, PAYMENTS_SCHEMA)


def _rows(query: str, params: tuple = ()) -> list[dict]:
    return [dict(row) for row in provider_store.read(PAYMENTS_STORE, PAYMENTS_SCHEMA, query,
                                                     params)]


def refund_reference(order_id: int, transaction_id: int) -> str:
    """What the provider knows a refund by: one per ledger posting that refunds."""
    return f"order-{order_id}-refund-{transaction_id}"


def void_reference(provider_ref: str) -> str:
    return f"void-{provider_ref}"


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
