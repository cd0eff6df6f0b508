"""The product taxonomy (shipped in mailbox/data, loaded here) and posts as they were understood.

Revision ID: f3a9c1e7b5d2
Revises: e7b4c2d9a1f6
Create Date: 2026-12-01 16:30:00

"""
from alembic import op
import sqlalchemy as sa

from ruralinfo.regions.models import CodeType


revision = 'f3a9c1e7b5d2'
down_revision = 'e7b4c2d9a1f6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'product_categories',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('key', sa.String(length=32), nullable=False),
        sa.Column('name_zh', sa.String(length=40), nullable=False),
        sa.Column('name_en', sa.String(length=60), nullable=False),
        sa.Column('synonyms', sa.String(length=200), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_product_categories')),
        sa.UniqueConstraint('key', name=op.f('uq_product_categories_key')),
        sa.UniqueConstraint('name_zh', name=op.f('uq_product_categories_name_zh')),
    )
    op.create_table(
        'products',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=16), nullable=False),
        sa.Column('parent_code', sa.String(length=16), nullable=True),
        sa.Column('name_zh', sa.String(length=40), nullable=False),
        sa.Column('name_en', sa.String(length=80), nullable=False),
        sa.Column('pinyin', sa.String(length=120), nullable=False),
        sa.Column('initials', sa.String(length=40), nullable=False),
        sa.Column('unit', sa.String(length=8), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=True),
        sa.Column('extended', sa.Boolean(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('merged_into_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['category_id'], ['product_categories.id'],
                                name=op.f('fk_products_category_id_product_categories')),
        sa.ForeignKeyConstraint(['merged_into_id'], ['products.id'], name=op.f('fk_products_merged_into_id_products')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_products')),
        sa.UniqueConstraint('code', name=op.f('uq_products_code')),
    )
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_products_parent_code'), ['parent_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_products_category_id'), ['category_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_products_pinyin'), ['pinyin'], unique=False)
        batch_op.create_index(batch_op.f('ix_products_initials'), ['initials'], unique=False)
    op.create_table(
        'product_words',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('product_id', sa.Integer(), nullable=False),
        sa.Column('word', sa.String(length=40), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(['product_id'], ['products.id'], name=op.f('fk_product_words_product_id_products'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_product_words')),
        sa.UniqueConstraint('word', name=op.f('uq_product_words_word')),
    )
    with op.batch_alter_table('product_words', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_words_product_id'), ['product_id'], unique=False)
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('product_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('notes', sa.String(length=500), server_default='', nullable=False))
        batch_op.add_column(sa.Column('quantity', sa.Numeric(precision=18, scale=4), nullable=True))
        batch_op.add_column(sa.Column('unit', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('base_quantity', sa.Numeric(precision=18, scale=4), nullable=True))
        batch_op.add_column(sa.Column('base_unit', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('price', sa.Numeric(precision=14, scale=4), nullable=True))
        batch_op.add_column(sa.Column('price_unit', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('base_price', sa.Numeric(precision=14, scale=4), nullable=True))
        batch_op.add_column(sa.Column('negotiable', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('region_code', CodeType(), nullable=True))
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_posts_product_id_products'), 'products', ['product_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_posts_region_code_regions'), 'regions', ['region_code'], ['code'])
        batch_op.create_index(batch_op.f('ix_posts_product_id'), ['product_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_posts_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_posts_expires_at'), ['expires_at'], unique=False)
    _load_products()


def _load_products():
    """The shipped taxonomy: categories, products (pinyin made by pypinyin), their words."""
    from mailbox import product_data

    categories = sa.table('product_categories', sa.column('id', sa.Integer), sa.column('key', sa.String),
                          sa.column('name_zh', sa.String), sa.column('name_en', sa.String),
                          sa.column('synonyms', sa.String))
    products = sa.table('products', sa.column('id', sa.Integer), sa.column('code', sa.String),
                        sa.column('parent_code', sa.String), sa.column('name_zh', sa.String),
                        sa.column('name_en', sa.String), sa.column('pinyin', sa.String),
                        sa.column('initials', sa.String), sa.column('unit', sa.String),
                        sa.column('category_id', sa.Integer), sa.column('extended', sa.Boolean),
                        sa.column('active', sa.Boolean))
    words = sa.table('product_words', sa.column('product_id', sa.Integer), sa.column('word', sa.String),
                     sa.column('kind', sa.String))
    category_ids = {}
    rows = []
    for number, row in enumerate(product_data.load_categories(), start=1):
        category_ids[row.key] = number
        rows.append({'id': number, 'key': row.key, 'name_zh': row.name_zh, 'name_en': row.name_en,
                     'synonyms': ';'.join(row.synonyms)})
    op.bulk_insert(categories, rows)
    product_rows, word_rows = [], []
    for number, row in enumerate(product_data.load_products(), start=1):
        full, initials = product_data.pinyin(row.name_zh)
        product_rows.append({'id': number, 'code': row.code, 'parent_code': row.parent or None,
                             'name_zh': row.name_zh, 'name_en': row.name_en, 'pinyin': full,
                             'initials': initials, 'unit': row.unit,
                             'category_id': category_ids.get(row.category), 'extended': row.extended,
                             'active': True})
        if row.is_product:
            word_rows.append({'product_id': number, 'word': row.name_zh, 'kind': 'name'})
            word_rows += [{'product_id': number, 'word': word, 'kind': 'synonym'} for word in row.synonyms]
    op.bulk_insert(products, product_rows)
    op.bulk_insert(words, word_rows)
    if op.get_bind().dialect.name == 'postgresql':  # explicit ids: move the sequences past them
        for table in ('product_categories', 'products'):
            op.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")


def downgrade():
    with op.batch_alter_table('posts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_posts_expires_at'))
        batch_op.drop_index(batch_op.f('ix_posts_region_code'))
        batch_op.drop_index(batch_op.f('ix_posts_product_id'))
        batch_op.drop_constraint(batch_op.f('fk_posts_region_code_regions'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_posts_product_id_products'), type_='foreignkey')
        for column in ('expires_at', 'region_code', 'negotiable', 'base_price', 'price_unit', 'price', 'base_unit',
                       'base_quantity', 'unit', 'quantity', 'notes', 'product_id'):
            batch_op.drop_column(column)
    op.drop_table('product_words')
    op.drop_table('products')
    op.drop_table('product_categories')
