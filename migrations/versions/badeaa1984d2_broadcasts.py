"""Broadcasts: the topics notices are about (seeded), the notices and whom they are for, their recipients.

Revision ID: badeaa1984d2
Revises: e9c5a1f3b7d2
Create Date: 2026-12-01 20:45:21.611015

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'badeaa1984d2'
down_revision = 'e9c5a1f3b7d2'
branch_labels = None
depends_on = None

TOPICS = (('weather', '天气', 'weather'), ('pests', '病虫害', 'pests and diseases'),
          ('prices', '价格行情', 'prices'), ('policy', '政策', 'policy'), ('training', '培训', 'training'),
          ('meetings', '会议', 'meetings'), ('general', '其他通知', 'other notices'))


def upgrade():
    topics = op.create_table('broadcast_topics',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('name_zh', sa.String(length=20), nullable=False),
    sa.Column('name_en', sa.String(length=40), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_broadcast_topics')),
    sa.UniqueConstraint('key', name=op.f('uq_broadcast_topics_key')),
    sa.UniqueConstraint('name_zh', name=op.f('uq_broadcast_topics_name_zh'))
    )
    op.bulk_insert(topics, [{'key': key, 'name_zh': zh, 'name_en': en, 'active': True} for key, zh, en in TOPICS])
    op.create_table('broadcasts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_en', sa.Text(), nullable=False),
    sa.Column('topic_id', sa.Integer(), nullable=False),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('audience', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('send_at', sa.DateTime(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('approved_by_id', sa.Integer(), nullable=True),
    sa.Column('approved_at', sa.DateTime(), nullable=True),
    sa.Column('planned_at', sa.DateTime(), nullable=True),
    sa.Column('recipient_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_broadcasts_approved_by_id_users')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_broadcasts_created_by_id_users')),
    sa.ForeignKeyConstraint(['topic_id'], ['broadcast_topics.id'], name=op.f('fk_broadcasts_topic_id_broadcast_topics')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_broadcasts'))
    )
    with op.batch_alter_table('broadcasts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_broadcasts_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_broadcasts_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_broadcasts_topic_id'), ['topic_id'], unique=False)

    op.create_table('broadcast_recipients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('broadcast_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('phone', sa.String(length=16), nullable=False),
    sa.Column('language', sa.String(length=5), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['broadcast_id'], ['broadcasts.id'], name=op.f('fk_broadcast_recipients_broadcast_id_broadcasts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['sms_outbox.id'], name=op.f('fk_broadcast_recipients_message_id_sms_outbox')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_broadcast_recipients_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_broadcast_recipients')),
    sa.UniqueConstraint('broadcast_id', 'phone', name=op.f('uq_broadcast_recipients_broadcast_id'))
    )
    with op.batch_alter_table('broadcast_recipients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_broadcast_recipients_user_id'), ['user_id'], unique=False)



def downgrade():
    with op.batch_alter_table('broadcast_recipients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_broadcast_recipients_user_id'))

    op.drop_table('broadcast_recipients')
    with op.batch_alter_table('broadcasts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_broadcasts_topic_id'))
        batch_op.drop_index(batch_op.f('ix_broadcasts_status'))
        batch_op.drop_index(batch_op.f('ix_broadcasts_created_at'))

    op.drop_table('broadcasts')
    op.drop_table('broadcast_topics')
