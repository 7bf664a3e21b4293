"""the outbox of effects outside the database, and reconciliation runs

Revision ID: 0021_outbox
Revises: 0020_counterfeit_pending
Create Date: 2026-12-06 19:30:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import foundation.db

revision = '0021_outbox'
down_revision = '0020_counterfeit_pending'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'outbox_effects',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('reference', sa.String(length=120), nullable=False),
        sa.Column('payload', JSON, nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_error', sa.String(length=300), nullable=True),
        sa.Column('provider_answer_ref', sa.String(length=120), nullable=True),
        sa.Column('provider_status', sa.String(length=40), nullable=True),
        sa.Column('delivered_at', foundation.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('created_at', foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=True),
        sa.Column('case_id', sa.Integer(), nullable=True),
        sa.Column('payout_id', sa.Integer(), nullable=True),
        sa.Column('member_id', sa.Integer(), nullable=True),
        sa.Column('ledger_transaction_id', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_effects')),
        sa.UniqueConstraint('reference', name=op.f('uq_outbox_effects_reference')),
    )
    with op.batch_alter_table('outbox_effects', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_effects_state_next', ['state', 'next_attempt_at'])
        batch_op.create_index(batch_op.f('ix_outbox_effects_order_id'), ['order_id'])
        batch_op.create_index(batch_op.f('ix_outbox_effects_case_id'), ['case_id'])
        batch_op.create_index(batch_op.f('ix_outbox_effects_payout_id'), ['payout_id'])
    op.create_table(
        'reconciliation_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('checked_at', foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('clean', sa.Boolean(), nullable=False),
        sa.Column('result', JSON, nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reconciliation_runs')),
    )
    with op.batch_alter_table('reconciliation_runs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reconciliation_runs_checked_at'), ['checked_at'])


def downgrade() -> None:
    op.drop_table('reconciliation_runs')
    op.drop_table('outbox_effects')
