"""A broadcast's sender holds a lease while it works, so that the sweep starts no second one.

Revision ID: 048ca27c7034
Revises: da45c48fc77e
Create Date: 2026-12-01 21:32:18.025326

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '048ca27c7034'
down_revision = 'da45c48fc77e'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('broadcasts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('lease_until', sa.DateTime(), nullable=True))



def downgrade():
    with op.batch_alter_table('broadcasts', schema=None) as batch_op:
        batch_op.drop_column('lease_until')

