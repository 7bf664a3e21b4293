"""impressions buffered in Redis: each row carries the served page's key

Revision ID: 0018_impression_pages
Revises: 0017_recommendations
Create Date: 2026-11-27 08:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0018_impression_pages'
down_revision = '0017_recommendations'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('rec_impressions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('page_key', sa.String(length=32), nullable=True))
        batch_op.create_index('ix_rec_impressions_page', ['page_key', 'position'], unique=True)


def downgrade() -> None:
    with op.batch_alter_table('rec_impressions', schema=None) as batch_op:
        batch_op.drop_index('ix_rec_impressions_page')
        batch_op.drop_column('page_key')
