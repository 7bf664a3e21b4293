"""shipping: PoshPost shipments (one label per order) and their tracking events

Revision ID: 0007_shipping
Revises: 0006_offers
Create Date: 2026-11-26 15:43:42.549709
"""
import sqlalchemy as sa
from alembic import op

import foundation.db

revision = '0007_shipping'
down_revision = '0006_offers'
branch_labels = None
# shipments.order_id references orders, created on a parallel branch.
depends_on = None


def upgrade() -> None:
    op.create_table('shipments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('tracking_number', sa.String(length=13), nullable=False),
    sa.Column('label_number', sa.String(length=24), nullable=False),
    sa.Column('tier', sa.String(length=24), nullable=False),
    sa.Column('weight_grams', sa.Integer(), nullable=False),
    sa.Column('surcharge_paise', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('label_created_at', foundation.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('first_scan_at', foundation.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_scan_at', foundation.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('delivered_at', foundation.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('exception_at', foundation.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('late_flagged_at', foundation.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('voided_at', foundation.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint('surcharge_paise >= 0', name=op.f('ck_shipments_surcharge_not_negative')),
    sa.CheckConstraint('weight_grams > 0', name=op.f('ck_shipments_weight_positive')),
    sa.ForeignKeyConstraint(['order_id'], ['orders.id'], name=op.f('fk_shipments_order_id_orders')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipments')),
    sa.UniqueConstraint('label_number', name=op.f('uq_shipments_label_number')),
    sa.UniqueConstraint('order_id', name=op.f('uq_shipments_order_id')),
    sa.UniqueConstraint('tracking_number', name=op.f('uq_shipments_tracking_number'))
    )
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.create_index('ix_shipments_status_created', ['status', 'label_created_at'],
                              unique=False)

    op.create_table('tracking_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=10), nullable=False),
    sa.Column('carrier_event_id', sa.String(length=64), nullable=True),
    sa.Column('fingerprint', sa.String(length=64), nullable=True),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('from_status', sa.String(length=20), nullable=False),
    sa.Column('to_status', sa.String(length=20), nullable=False),
    sa.Column('applied', sa.Boolean(), nullable=False),
    sa.Column('location', sa.String(length=80), nullable=False),
    sa.Column('description', sa.String(length=200), nullable=False),
    sa.Column('occurred_at', foundation.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', foundation.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipments.id'],
                            name=op.f('fk_tracking_events_shipment_id_shipments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tracking_events')),
    sa.UniqueConstraint('carrier_event_id', name=op.f('uq_tracking_events_carrier_event_id'))
    )
    with op.batch_alter_table('tracking_events', schema=None) as batch_op:
        batch_op.create_index('ix_tracking_events_shipment', ['shipment_id', 'occurred_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tracking_events', schema=None) as batch_op:
        batch_op.drop_index('ix_tracking_events_shipment')

    op.drop_table('tracking_events')
    with op.batch_alter_table('shipments', schema=None) as batch_op:
        batch_op.drop_index('ix_shipments_status_created')

    op.drop_table('shipments')
