"""shipping: return shipments (a direction per shipment, one label per order and direction)

Revision ID: 0011_return_shipments
Revises: 0010_claim_order_index
"""
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from alembic import op

revision = '0011_return_shipments'
down_revision = '0010_claim_order_index'
branch_labels = None
depends_on = None


@contextmanager
def _tracking_events_set_aside() -> Iterator[None]:
    """On SQLite, batch mode rebuilds `shipments` and drops the old table, which with
    foreign keys on is refused while tracking events point at it (and PRAGMA
    foreign_keys cannot be switched off inside the migration's transaction).  So the
    events wait in a temporary table and come back once the new table has its rows."""
    if op.get_bind().dialect.name != "sqlite":
        yield
        return
    op.execute("CREATE TEMPORARY TABLE tracking_events_kept AS SELECT * FROM tracking_events")
    op.execute("DELETE FROM tracking_events")
    yield
    op.execute("INSERT INTO tracking_events SELECT * FROM tracking_events_kept")
    op.execute("DROP TABLE tracking_events_kept")


def upgrade() -> None:
    with _tracking_events_set_aside():
        # Every existing shipment is a seller's outbound label: the default fills them.
        with op.batch_alter_table('shipments', schema=None) as batch_op:
            batch_op.add_column(sa.Column('direction', sa.String(length=10), nullable=False,
                                          server_default='outbound'))
            batch_op.add_column(sa.Column('case_ref', sa.String(length=64), nullable=True))
            batch_op.drop_constraint(op.f('uq_shipments_order_id'), type_='unique')
            batch_op.create_unique_constraint(op.f('uq_shipments_order_direction'),
                                              ['order_id', 'direction'])
            batch_op.create_check_constraint(op.f('ck_shipments_direction_known'),
                                             "direction IN ('outbound', 'return')")


def downgrade() -> None:
    # Return labels have no place in the older schema (one shipment per order).
    op.execute("DELETE FROM tracking_events WHERE shipment_id IN "
               "(SELECT id FROM shipments WHERE direction = 'return')")
    op.execute("DELETE FROM shipments WHERE direction = 'return'")
    with _tracking_events_set_aside():
        with op.batch_alter_table('shipments', schema=None) as batch_op:
            batch_op.drop_constraint(op.f('ck_shipments_direction_known'), type_='check')
            batch_op.drop_constraint(op.f('uq_shipments_order_direction'), type_='unique')
            batch_op.create_unique_constraint(op.f('uq_shipments_order_id'), ['order_id'])
            batch_op.drop_column('case_ref')
            batch_op.drop_column('direction')
