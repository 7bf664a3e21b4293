"""authentication: an index in "claim next" order, so a claim never sorts the queue

Revision ID: 0010_claim_order_index
Revises: 0009_authentication
"""
from alembic import op

revision = '0010_claim_order_index'
down_revision = '0009_authentication'
branch_labels = None
depends_on = None

WAITING = "state IN ('queued', 'escalated', 'awaiting_second_review', 'awaiting_lead')"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_authentication_requests_claim_order ON "
                   "authentication_requests (priority DESC, sla_due_at, price_paise DESC, "
                   f"risk_score DESC NULLS LAST, id) WHERE {WAITING}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_authentication_requests_claim_order")
