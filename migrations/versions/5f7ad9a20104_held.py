"""Broadcast recipients who had their routine notices for the day wait until the next.

Revision ID: 5f7ad9a20104
Revises: badeaa1984d2
Create Date: 2026-12-01 20:55:06.867428

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5f7ad9a20104'
down_revision = 'badeaa1984d2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('broadcast_recipients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held_until', sa.DateTime(), nullable=True))



def downgrade():
    with op.batch_alter_table('broadcast_recipients', schema=None) as batch_op:
        batch_op.drop_column('held_until')

