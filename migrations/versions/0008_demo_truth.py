"""demo ground truth: counterfeit labels, photo reuse, member tastes

Revision ID: 0008_demo_truth
Revises: 0007_shipping
"""
import sqlalchemy as sa
from alembic import op

revision = '0008_demo_truth'
down_revision = '0007_shipping'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'demo_listing_truth',
        sa.Column('listing_id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.String(length=40), nullable=False),
        sa.Column('model_key', sa.String(length=60), nullable=False),
        sa.Column('counterfeit', sa.Boolean(), nullable=False),
        sa.Column('flaws', sa.JSON(), nullable=False),
        sa.Column('reused_from_listing_id', sa.Integer(), nullable=True),
        sa.Column('reuse_kind', sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(['listing_id'], ['listings.id'],
                                name=op.f('fk_demo_listing_truth_listing_id_listings')),
        sa.PrimaryKeyConstraint('listing_id', name=op.f('pk_demo_listing_truth')))
    op.create_index(op.f('ix_demo_listing_truth_item_id'), 'demo_listing_truth', ['item_id'],
                    unique=False)
    op.create_table(
        'demo_member_tastes',
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('taste', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['member_id'], ['members.id'],
                                name=op.f('fk_demo_member_tastes_member_id_members')),
        sa.PrimaryKeyConstraint('member_id', name=op.f('pk_demo_member_tastes')))


def downgrade() -> None:
    op.drop_table('demo_member_tastes')
    op.drop_index(op.f('ix_demo_listing_truth_item_id'), table_name='demo_listing_truth')
    op.drop_table('demo_listing_truth')
