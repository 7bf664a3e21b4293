"""marks of listings whose counterfeit risk must be scored again

Revision ID: 0020_counterfeit_pending
Revises: 0019_ledger_zero_sum
Create Date: 2026-12-06 19:50:00
"""
import sqlalchemy as sa
from alembic import op

import foundation.db

revision = '0020_counterfeit_pending'
down_revision = '0019_ledger_zero_sum'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('vision_counterfeit_pending',
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('marked_at', foundation.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], ),
    sa.PrimaryKeyConstraint('listing_id')
    )
    op.create_index('ix_vision_counterfeit_pending_marked_at', 'vision_counterfeit_pending',
                    ['marked_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_vision_counterfeit_pending_marked_at',
                  table_name='vision_counterfeit_pending')
    op.drop_table('vision_counterfeit_pending')
