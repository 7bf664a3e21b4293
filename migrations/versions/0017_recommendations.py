"""recommendations: runs, trained rankers, members' precomputed candidates, impressions

Revision ID: 0017_recommendations
Revises: 0016_trust_signals
Create Date: 2026-11-27 07:50:00
"""
from alembic import op
import sqlalchemy as sa
import foundation.db
from sqlalchemy.dialects import postgresql

revision = '0017_recommendations'
down_revision = '0016_trust_signals'
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')
UTC = foundation.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table('rec_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('total', sa.Integer(), nullable=False),
    sa.Column('done', sa.Integer(), nullable=False),
    sa.Column('message', sa.String(length=200), nullable=False),
    sa.Column('requested_by', sa.String(length=80), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=True),
    sa.Column('metrics', JSON, nullable=False),
    sa.Column('popular', JSON, nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.Column('started_at', UTC, nullable=True),
    sa.Column('finished_at', UTC, nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.CheckConstraint("state IN ('pending', 'running', 'succeeded', 'failed')", name=op.f('ck_rec_runs_state_known')),
    sa.CheckConstraint("kind IN ('train', 'precompute')", name=op.f('ck_rec_runs_kind_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rec_runs'))
    )
    with op.batch_alter_table('rec_runs', schema=None) as batch_op:
        batch_op.create_index('ix_rec_runs_kind_state', ['kind', 'state', 'id'], unique=False)

    op.create_table('rec_models',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('ranker', JSON, nullable=False),
    sa.Column('metrics', JSON, nullable=False),
    sa.Column('loss_curve', JSON, nullable=False),
    sa.Column('created_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['run_id'], ['rec_runs.id'], name=op.f('fk_rec_models_run_id_rec_runs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rec_models'))
    )

    op.create_table('rec_member_candidates',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('run_id', sa.Integer(), nullable=False),
    sa.Column('model_id', sa.Integer(), nullable=False),
    sa.Column('candidates', JSON, nullable=False),
    sa.Column('profile', JSON, nullable=False),
    sa.Column('data_until', UTC, nullable=False),
    sa.Column('computed_at', UTC, nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_rec_member_candidates_member_id_members')),
    sa.ForeignKeyConstraint(['run_id'], ['rec_runs.id'], name=op.f('fk_rec_member_candidates_run_id_rec_runs')),
    sa.ForeignKeyConstraint(['model_id'], ['rec_models.id'], name=op.f('fk_rec_member_candidates_model_id_rec_models')),
    sa.PrimaryKeyConstraint('member_id', name=op.f('pk_rec_member_candidates'))
    )
    with op.batch_alter_table('rec_member_candidates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rec_member_candidates_run_id'), ['run_id'], unique=False)

    op.create_table('rec_impressions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('listing_id', sa.Integer(), nullable=False),
    sa.Column('seller_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.Column('seller_tier', sa.String(length=12), nullable=False),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('served_at', UTC, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rec_impressions'))
    )
    with op.batch_alter_table('rec_impressions', schema=None) as batch_op:
        batch_op.create_index('ix_rec_impressions_served', ['served_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_rec_impressions_member_id'), ['member_id'], unique=False)


def downgrade() -> None:
    for table in ('rec_impressions', 'rec_member_candidates', 'rec_models', 'rec_runs'):
        op.drop_table(table)
