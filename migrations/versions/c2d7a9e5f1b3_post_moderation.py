"""Moderation of posts: published, held for review (and why), rejected or hidden.

Revision ID: c2d7a9e5f1b3
Revises: b8e1f5a3d7c9
Create Date: 2026-12-01 17:10:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'c2d7a9e5f1b3'
down_revision = 'b8e1f5a3d7c9'
branch_labels = None
depends_on = None

MATCHING_COLUMNS = ['expires_at', 'user_id', 'region_code', 'base_price', 'base_price_unit', 'base_quantity',
                    'base_unit', 'created_at', 'id', 'moderation']


def upgrade():
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('moderation', sa.String(length=16), server_default='published',
                                      nullable=False))
        batch_op.add_column(sa.Column('review_reason', sa.String(length=200), server_default='', nullable=False))
        batch_op.add_column(sa.Column('reviewed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reviewed_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_posts_reviewed_by_id_users'), 'users', ['reviewed_by_id'], ['id'])
        batch_op.create_index(batch_op.f('ix_posts_moderation'), ['moderation'], unique=False)
        batch_op.drop_index('ix_posts_matching')
        batch_op.create_index('ix_posts_matching', ['product_id', 'kind', 'status'], unique=False,
                              postgresql_include=MATCHING_COLUMNS)


def downgrade():
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_index('ix_posts_matching')
        batch_op.create_index('ix_posts_matching', ['product_id', 'kind', 'status'], unique=False,
                              postgresql_include=MATCHING_COLUMNS[:-1])
        batch_op.drop_index(batch_op.f('ix_posts_moderation'))
        batch_op.drop_constraint(batch_op.f('fk_posts_reviewed_by_id_users'), type_='foreignkey')
        for column in ('reviewed_at', 'reviewed_by_id', 'review_reason', 'moderation'):
            batch_op.drop_column(column)
