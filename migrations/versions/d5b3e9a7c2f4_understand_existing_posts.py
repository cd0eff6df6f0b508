"""Posts made before posts were understood: read them now (product, quantity, price) and give them their place.

Without this, every post of an upgraded installation would stay unclassified and
match nothing. Posts whose product is not recognised stay as written.

Revision ID: d5b3e9a7c2f4
Revises: c2d7a9e5f1b3
Create Date: 2026-12-01 17:50:00

"""
from alembic import op
import sqlalchemy as sa


revision = 'd5b3e9a7c2f4'
down_revision = 'c2d7a9e5f1b3'
branch_labels = None
depends_on = None

POSTS = sa.table('posts', sa.column('id', sa.Integer), sa.column('text', sa.Text), sa.column('user_id', sa.Integer),
                 sa.column('product_id', sa.Integer), sa.column('notes', sa.String),
                 sa.column('quantity', sa.Numeric), sa.column('unit', sa.String),
                 sa.column('base_quantity', sa.Numeric), sa.column('base_unit', sa.String),
                 sa.column('price', sa.Numeric), sa.column('price_unit', sa.String),
                 sa.column('base_price', sa.Numeric), sa.column('base_price_unit', sa.String),
                 sa.column('negotiable', sa.Boolean), sa.column('region_code', sa.String))


def upgrade():
    from mailbox.post_parsing import Lexicon, parse

    bind = op.get_bind()
    words = bind.execute(sa.text(
        "SELECT w.word, p.code, p.id FROM product_words w JOIN products p ON p.id = w.product_id "
        "WHERE p.active ORDER BY w.kind != 'name', w.id")).all()
    names = bind.execute(sa.text("SELECT name_en, pinyin, code, id FROM products WHERE active AND unit != ''")).all()
    ids = {code: product_id for _word, code, product_id in words} | {code: pid for _e, _p, code, pid in names}
    lexicon = Lexicon([(word, code) for word, code, _id in words] + [(english, code) for english, _p, code, _i in names]
                      + [(pinyin, code) for _e, pinyin, code, _i in names])
    regions = dict(bind.execute(sa.text("SELECT id, region_code FROM users")).all())
    for post_id, text, user_id in bind.execute(sa.text(
            "SELECT id, text, user_id FROM posts WHERE product_id IS NULL AND quantity IS NULL")).all():
        parsed = parse(text or "", lexicon)
        bind.execute(sa.update(POSTS).where(POSTS.c.id == post_id).values(
            product_id=ids.get(parsed.product_code), notes=parsed.notes[:500], quantity=parsed.quantity,
            unit=parsed.unit, base_quantity=parsed.base_quantity, base_unit=parsed.base_unit, price=parsed.price,
            price_unit=parsed.price_unit, base_price=parsed.base_price, base_price_unit=parsed.base_price_unit,
            negotiable=parsed.negotiable, region_code=regions.get(user_id)))


def downgrade():
    pass  # what was understood stays; the text was never changed
