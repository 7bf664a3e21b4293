"""each buyer's dispute photo compared with the listing's photos as sold

Revision ID: 0022_case_photo_comparisons
Revises: 0021_outbox
Create Date: 2026-12-06 22:30:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import foundation.db

revision = '0022_case_photo_comparisons'
down_revision = '0021_outbox'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table(
        'vision_case_photo_comparisons',
        sa.Column('case_photo_id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('case_id', sa.Integer(), nullable=False),
        sa.Column('state', sa.String(length=12), nullable=False),
        sa.Column('item_index', sa.Integer(), nullable=True),
        sa.Column('position', sa.Integer(), nullable=True),
        sa.Column('score', sa.Float(), nullable=True),
        sa.Column('is_duplicate', sa.Boolean(), nullable=False),
        sa.Column('alignment', sa.String(length=40), nullable=True),
        sa.Column('signals', JSON, nullable=False),
        sa.Column('failure_code', sa.String(length=40), nullable=True),
        sa.Column('engine_version', sa.String(length=64), nullable=False),
        sa.Column('computed_at', foundation.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("state IN ('compared', 'failed')",
                           name=op.f('ck_vision_case_photo_comparisons_state_known')),
        sa.ForeignKeyConstraint(
            ['case_id'], ['dispute_cases.id'],
            name=op.f('fk_vision_case_photo_comparisons_case_id_dispute_cases')),
        sa.ForeignKeyConstraint(
            ['case_photo_id'], ['dispute_photos.id'], ondelete='CASCADE',
            name=op.f('fk_vision_case_photo_comparisons_case_photo_id_dispute_photos')),
        sa.PrimaryKeyConstraint('case_photo_id', name=op.f('pk_vision_case_photo_comparisons')),
    )
    op.create_index('ix_vision_case_photo_comparisons_case', 'vision_case_photo_comparisons',
                    ['case_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_vision_case_photo_comparisons_case',
                  table_name='vision_case_photo_comparisons')
    op.drop_table('vision_case_photo_comparisons')
