"""Letters to a point are answered or closed with a reason; how much of a long letter went out by SMS.

Revision ID: e7b4c2d9a1f6
Revises: d8f3b6a2c9e4
Create Date: 2026-12-01 16:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'e7b4c2d9a1f6'
down_revision = 'd8f3b6a2c9e4'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('letters', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answered_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('close_reason', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('closed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('sms_sent_upto', sa.Integer(), server_default='0', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_letters_closed_by_id_users'), 'users', ['closed_by_id'], ['id'])
    # Letters already answered in their thread by the point count as answered then.
    op.execute("""
        UPDATE letters SET answered_at = (
            SELECT MIN(reply.created_at) FROM letters AS reply
            WHERE reply.sender_point_id = letters.recipient_point_id
              AND COALESCE(reply.thread_id, reply.id) = COALESCE(letters.thread_id, letters.id)
              AND reply.id > letters.id)
        WHERE recipient_point_id IS NOT NULL
    """)


def downgrade():
    with op.batch_alter_table('letters', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_letters_closed_by_id_users'), type_='foreignkey')
        batch_op.drop_column('sms_sent_upto')
        batch_op.drop_column('closed_by_id')
        batch_op.drop_column('close_reason')
        batch_op.drop_column('closed_at')
        batch_op.drop_column('answered_at')
