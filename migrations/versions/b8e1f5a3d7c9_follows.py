"""Following a product (关注 X): who follows what, and which new posts they were told of.

Revision ID: b8e1f5a3d7c9
Revises: a6d2e8f4c1b7
Create Date: 2026-12-01 17:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'b8e1f5a3d7c9'
down_revision = 'a6d2e8f4c1b7'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'follows',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('product_id', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_follows_user_id_users')),
        sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_follows_product_id_products')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_follows')),
        sa.UniqueConstraint('user_id', 'product_id', name=op.f('uq_follows_user_id')),
    )
    with op.batch_alter_table('follows', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follows_product_id'), ['product_id'], unique=False)
    op.create_table(
        'follow_alerts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('texted', sa.Boolean(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_follow_alerts_post_id_posts')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_follow_alerts_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_alerts')),
        sa.UniqueConstraint('post_id', 'user_id', name=op.f('uq_follow_alerts_post_id')),
    )
    with op.batch_alter_table('follow_alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_alerts_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_alerts_created_at'), ['created_at'], unique=False)


def downgrade():
    op.drop_table('follow_alerts')
    op.drop_table('follows')
