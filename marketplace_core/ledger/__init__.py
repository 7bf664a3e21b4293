"""The double-entry ledger: held funds per order, seller balances, payouts, chargebacks.

Call it through `marketplace_core.ledger.services`; money is integer paise (INR).
"""
