"""counterfeit risk: the latest score of each listing, and the reasons on the review

Revision ID: 0015_counterfeit_risk
Revises: 0014_vision_modelops
"""
from alembic import op
import sqlalchemy as sa
import foundation.db
from sqlalchemy.dialects import postgresql

revision = '0015_counterfeit_risk'
down_revision = '0014_vision_modelops'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('vision_counterfeit_scores',
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('reasons', JSON, nullable=False),
    sa.Column('model_digest', sa.String(length=64), nullable=False),
    sa.Column('input_digest', sa.String(length=64), nullable=False),
    sa.Column('scored_at', foundation.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['listing_id'], ['listings.id'], ),
    sa.PrimaryKeyConstraint('listing_id')
    )
    # A plain ADD COLUMN (SQLite supports it): a batch copy of the table would lose the
    # partial unique index on active requests.
    op.add_column('authentication_requests',
                  sa.Column('risk_reasons', JSON, nullable=False, server_default=sa.text("'[]'")))


def downgrade() -> None:
    with op.batch_alter_table('authentication_requests') as batch:
        batch.drop_column('risk_reasons')
    op.drop_table('vision_counterfeit_scores')
