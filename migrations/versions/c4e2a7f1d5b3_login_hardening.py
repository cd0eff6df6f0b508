"""Log-in hardening: atomic failure counts per number, session versions, codes bound to a browser.

Revision ID: c4e2a7f1d5b3
Revises: 68433cc3b92b
Create Date: 2026-12-01 15:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c4e2a7f1d5b3'
down_revision = '68433cc3b92b'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'login_throttles',
        sa.Column('phone', sa.String(length=16), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('locks', sa.Integer(), nullable=False),
        sa.Column('locked_until', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('phone', name=op.f('pk_login_throttles')),
    )
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))
        batch_op.drop_column('failed_logins')
        batch_op.drop_column('locked_until')
    with op.batch_alter_table('login_codes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('requester', sa.String(length=64), server_default='', nullable=False))
        batch_op.add_column(sa.Column('issued_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_login_codes_issued_by_id_users'), 'users',
                                    ['issued_by_id'], ['id'])


def downgrade():
    with op.batch_alter_table('login_codes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_login_codes_issued_by_id_users'), type_='foreignkey')
        batch_op.drop_column('issued_by_id')
        batch_op.drop_column('requester')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
        batch_op.drop_column('session_version')
    op.drop_table('login_throttles')
