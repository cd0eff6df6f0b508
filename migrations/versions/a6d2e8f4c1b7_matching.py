"""Matching: the unit a post's normalised price is per, a category asked for, how a post ended, the matches found, contact requests and deals.

Revision ID: a6d2e8f4c1b7
Revises: f3a9c1e7b5d2
Create Date: 2026-12-01 16:40:00

"""
from alembic import op
import sqlalchemy as sa


MATCHING_COLUMNS = ['expires_at', 'user_id', 'region_code', 'base_price', 'base_price_unit', 'base_quantity',
                    'base_unit', 'created_at', 'id']

revision = 'a6d2e8f4c1b7'
down_revision = 'f3a9c1e7b5d2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base_price_unit', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('category_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('closed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('outcome', sa.String(length=16), server_default='', nullable=False))
        batch_op.add_column(sa.Column('expiry_warned_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_posts_category_id_product_categories'), 'product_categories',
                                    ['category_id'], ['id'])
        # what matching reads, in the index itself on PostgreSQL: a million posts are ranked without the table
        batch_op.create_index('ix_posts_matching', ['product_id', 'kind', 'status'], unique=False,
                              postgresql_include=MATCHING_COLUMNS)
        batch_op.create_index(batch_op.f('ix_posts_category_id'), ['category_id'], unique=False)
    op.create_table(
        'post_matches',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('match_id', sa.Integer(), nullable=False),
        sa.Column('rank', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('letter_id', sa.Integer(), nullable=True),
        sa.Column('texted', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_post_matches_post_id_posts')),
        sa.ForeignKeyConstraint(['match_id'], ['posts.id'], name=op.f('fk_post_matches_match_id_posts')),
        sa.ForeignKeyConstraint(['letter_id'], ['letters.id'], name=op.f('fk_post_matches_letter_id_letters')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_post_matches')),
        sa.UniqueConstraint('post_id', 'match_id', name=op.f('uq_post_matches_post_id')),
    )
    with op.batch_alter_table('post_matches', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_post_matches_match_id'), ['match_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_post_matches_created_at'), ['created_at'], unique=False)
    op.create_table(
        'contact_requests',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('requester_id', sa.Integer(), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('answered_at', sa.DateTime(), nullable=True),
        sa.Column('followed_up_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_contact_requests_post_id_posts')),
        sa.ForeignKeyConstraint(['requester_id'], ['users.id'], name=op.f('fk_contact_requests_requester_id_users')),
        sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_contact_requests_owner_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_requests')),
        sa.UniqueConstraint('post_id', 'requester_id', name=op.f('uq_contact_requests_post_id')),
    )
    with op.batch_alter_table('contact_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contact_requests_requester_id'), ['requester_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_requests_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contact_requests_created_at'), ['created_at'], unique=False)
    op.create_table(
        'deals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('contact_id', sa.Integer(), nullable=True),
        sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column('unit', sa.String(length=8), nullable=True),
        sa.Column('price', sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column('price_unit', sa.String(length=8), nullable=True),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['post_id'], ['posts.id'], name=op.f('fk_deals_post_id_posts')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_deals_user_id_users')),
        sa.ForeignKeyConstraint(['contact_id'], ['contact_requests.id'], name=op.f('fk_deals_contact_id_contact_requests')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_deals')),
        sa.UniqueConstraint('post_id', 'user_id', name=op.f('uq_deals_post_id')),
    )
    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deals_created_at'), ['created_at'], unique=False)


def downgrade():
    op.drop_table('deals')
    op.drop_table('contact_requests')
    op.drop_table('post_matches')
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_posts_category_id'))
        batch_op.drop_index('ix_posts_matching')
        batch_op.drop_constraint(batch_op.f('fk_posts_category_id_product_categories'), type_='foreignkey')
        for column in ('expiry_warned_at', 'outcome', 'closed_at', 'category_id', 'base_price_unit'):
            batch_op.drop_column(column)
