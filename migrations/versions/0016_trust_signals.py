"""trust signals: seller scores, item risks, their history, and versioned trust weights

Revision ID: 0016_trust_signals
Revises: 0015_counterfeit_risk
Create Date: 2026-11-27 07:28:44.939454
"""
from alembic import op
import sqlalchemy as sa
import foundation.db
from sqlalchemy.dialects import postgresql

from foundation.migrations import drop_append_only, make_append_only

revision = '0016_trust_signals'
down_revision = '0015_counterfeit_risk'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
HISTORY = ('trust_seller_history', 'trust_item_history', 'trust_weights_versions')


def upgrade() -> None:
    op.create_table('trust_seller_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('tier', sa.String(length=12), nullable=False),
    sa.Column('parts', JSON, nullable=False),
    sa.Column('cause', sa.String(length=60), nullable=False),
    sa.Column('computed_at', foundation.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['seller_id'], ['members.id'], name=op.f('fk_trust_seller_history_seller_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trust_seller_history'))
    )
    with op.batch_alter_table('trust_seller_history', schema=None) as batch_op:
        batch_op.create_index('ix_trust_seller_history_seller', ['seller_id', 'computed_at'], unique=False)

    op.create_table('trust_seller_scores',
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('tier', sa.String(length=12), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=False),
    sa.Column('parts', JSON, nullable=False),
    sa.Column('counts', JSON, nullable=False),
    sa.Column('reasons', JSON, nullable=False),
    sa.Column('weights_version', sa.Integer(), nullable=False),
    sa.Column('computed_at', foundation.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['seller_id'], ['members.id'], name=op.f('fk_trust_seller_scores_seller_id_members')),
    sa.PrimaryKeyConstraint('seller_id', name=op.f('pk_trust_seller_scores'))
    )
    with op.batch_alter_table('trust_seller_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trust_seller_scores_tier'), ['tier'], unique=False)

    op.create_table('trust_weights_versions',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('weights', JSON, nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('created_at', foundation.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_staff_id'], ['staff_users.id'], name=op.f('fk_trust_weights_versions_created_by_staff_id_staff_users')),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_trust_weights_versions'))
    )
    op.create_table('trust_item_history',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('excluded', sa.Boolean(), nullable=False),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.Column('flag_confidence', sa.Float(), nullable=False),
    sa.Column('details', JSON, nullable=False),
    sa.Column('cause', sa.String(length=60), nullable=False),
    sa.Column('computed_at', foundation.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_trust_item_history_listing_id_listings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trust_item_history'))
    )
    with op.batch_alter_table('trust_item_history', schema=None) as batch_op:
        batch_op.create_index('ix_trust_item_history_listing', ['listing_id', 'computed_at'], unique=False)

    op.create_table('trust_item_risks',
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('excluded', sa.Boolean(), nullable=False),
    sa.Column('exclusion_reason', sa.String(length=40), nullable=True),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.Column('flag_confidence', sa.Float(), nullable=False),
    sa.Column('authenticated', sa.Boolean(), nullable=False),
    sa.Column('counterfeit_score', sa.Float(), nullable=True),
    sa.Column('duplicate_flags', sa.Integer(), nullable=False),
    sa.Column('reasons', JSON, nullable=False),
    sa.Column('computed_at', foundation.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], name=op.f('fk_trust_item_risks_listing_id_listings')),
    sa.ForeignKeyConstraint(['seller_id'], ['members.id'], name=op.f('fk_trust_item_risks_seller_id_members')),
    sa.PrimaryKeyConstraint('listing_id', name=op.f('pk_trust_item_risks'))
    )
    with op.batch_alter_table('trust_item_risks', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trust_item_risks_flagged'), ['flagged'], unique=False)
        batch_op.create_index(batch_op.f('ix_trust_item_risks_seller_id'), ['seller_id'], unique=False)

    op.create_table('trust_pending',
    sa.Column('subject', sa.String(length=8), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('cause', sa.String(length=60), nullable=False),
    sa.Column('marked_at', foundation.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('subject', 'subject_id', name=op.f('pk_trust_pending'))
    )
    with op.batch_alter_table('trust_pending', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_trust_pending_marked_at'), ['marked_at'], unique=False)

    for table in HISTORY:
        make_append_only(table)


def downgrade() -> None:
    for table in HISTORY:
        drop_append_only(table)
    with op.batch_alter_table('trust_pending', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trust_pending_marked_at'))
    op.drop_table('trust_pending')
    with op.batch_alter_table('trust_item_risks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trust_item_risks_seller_id'))
        batch_op.drop_index(batch_op.f('ix_trust_item_risks_flagged'))

    op.drop_table('trust_item_risks')
    with op.batch_alter_table('trust_item_history', schema=None) as batch_op:
        batch_op.drop_index('ix_trust_item_history_listing')

    op.drop_table('trust_item_history')
    op.drop_table('trust_weights_versions')
    with op.batch_alter_table('trust_seller_scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_trust_seller_scores_tier'))

    op.drop_table('trust_seller_scores')
    with op.batch_alter_table('trust_seller_history', schema=None) as batch_op:
        batch_op.drop_index('ix_trust_seller_history_seller')

    op.drop_table('trust_seller_history')
