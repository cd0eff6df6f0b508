"""Leaving one topic of notices (退订 价格): who left which.

Revision ID: da45c48fc77e
Revises: 5f7ad9a20104
Create Date: 2026-12-01 21:15:40.085140

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'da45c48fc77e'
down_revision = '5f7ad9a20104'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('broadcast_topic_optouts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['topic_id'], ['broadcast_topics.id'], name=op.f('fk_broadcast_topic_optouts_topic_id_broadcast_topics'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_broadcast_topic_optouts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_broadcast_topic_optouts')),
    sa.UniqueConstraint('user_id', 'topic_id', name=op.f('uq_broadcast_topic_optouts_user_id'))
    )
    with op.batch_alter_table('broadcast_topic_optouts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_broadcast_topic_optouts_topic_id'), ['topic_id'], unique=False)



def downgrade():
    with op.batch_alter_table('broadcast_topic_optouts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_broadcast_topic_optouts_topic_id'))

    op.drop_table('broadcast_topic_optouts')
