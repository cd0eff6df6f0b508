"""Bulk imports run as jobs: the uploaded file kept encrypted until the job reads it, and the batch's state.

Revision ID: d8f3b6a2c9e4
Revises: c4e2a7f1d5b3
Create Date: 2026-12-01 15:51:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'd8f3b6a2c9e4'
down_revision = 'c4e2a7f1d5b3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        # Every batch so far was imported in the request: done, finished when created.
        batch_op.add_column(sa.Column('status', sa.String(length=16), server_default='done', nullable=False))
        batch_op.add_column(sa.Column('upload_cipher', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('locale', sa.String(length=8), server_default='', nullable=False))
        batch_op.add_column(sa.Column('error', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('queued_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('started_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('finished_at', sa.DateTime(), nullable=True))
    op.execute("UPDATE import_batches SET finished_at = created_at")
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        # New batches get their status from the application (pending until a job runs them).
        batch_op.alter_column('status', existing_type=sa.String(length=16), server_default=None,
                              existing_nullable=False)


def downgrade():
    # A batch still waiting loses its file here: the old code imports in the request only.
    with op.batch_alter_table('import_batches', schema=None) as batch_op:
        batch_op.drop_column('finished_at')
        batch_op.drop_column('started_at')
        batch_op.drop_column('queued_at')
        batch_op.drop_column('attempts')
        batch_op.drop_column('error')
        batch_op.drop_column('locale')
        batch_op.drop_column('upload_cipher')
        batch_op.drop_column('status')
