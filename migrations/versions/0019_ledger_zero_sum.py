"""the database refuses a ledger transaction whose entries do not sum to zero

Revision ID: 0019_ledger_zero_sum
Revises: 0018_impression_pages
Create Date: 2026-12-06 19:40:00
"""
from foundation.migrations import drop_zero_sum, require_zero_sum

revision = '0019_ledger_zero_sum'
down_revision = '0018_impression_pages'
branch_labels = None
depends_on = None


def upgrade() -> None:
    require_zero_sum("ledger_entries", "transaction_id", "amount_paise")


def downgrade() -> None:
    drop_zero_sum("ledger_entries")
