"""console pages at scale: indexes for the authentication workspace's price comparison
and reference listings, the disputes queues' order and the analysts' Sellers page

Revision ID: 0023_console_page_indexes
Revises: 0022_case_photo_comparisons
"""
from alembic import op

revision = '0023_console_page_indexes'
down_revision = '0022_case_photo_comparisons'
branch_labels = None
depends_on = None

AUTHENTICATED_LIVE = "status = 'live' AND authenticated_at IS NOT NULL"
STAFF_QUEUE = "state IN ('under_review', 'awaiting_approval')"


def upgrade() -> None:
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.create_index('ix_listings_status_brand_category_id',
                              ['status', 'brand_key', 'category', 'id'])
    with op.batch_alter_table('trust_seller_scores', schema=None) as batch_op:
        batch_op.create_index('ix_trust_seller_scores_score', ['score', 'seller_id'])
        batch_op.create_index('ix_trust_seller_scores_tier_score',
                              ['tier', 'score', 'seller_id'])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE INDEX ix_listings_authenticated_references ON listings "
                   f"(brand_key, category, authenticated_at, id) WHERE {AUTHENTICATED_LIVE}")
        op.execute("CREATE INDEX ix_dispute_cases_queue_order ON dispute_cases "
                   f"(priority DESC, sla_due_at, amount_paise DESC, id) WHERE {STAFF_QUEUE}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_dispute_cases_queue_order")
        op.execute("DROP INDEX IF EXISTS ix_listings_authenticated_references")
    with op.batch_alter_table('trust_seller_scores', schema=None) as batch_op:
        batch_op.drop_index('ix_trust_seller_scores_tier_score')
        batch_op.drop_index('ix_trust_seller_scores_score')
    with op.batch_alter_table('listings', schema=None) as batch_op:
        batch_op.drop_index('ix_listings_status_brand_category_id')
