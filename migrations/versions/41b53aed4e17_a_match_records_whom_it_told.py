"""A match records whom it told (the owner of the matched post), and the texts of matches
and follows are indexed by whom they went to, so that the daily limit on them counts a
few rows of one person instead of the whole day's matches.

Revision ID: 41b53aed4e17
Revises: 44b556a942da
Create Date: 2026-12-07 18:00:55.938529

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '41b53aed4e17'
down_revision = '44b556a942da'
branch_labels = None
depends_on = None


def upgrade():
    # SQLite runs each step on its own: a run stopped after this one finds the column there
    if 'user_id' not in {column['name'] for column in sa.inspect(op.get_bind()).get_columns('post_matches')}:
        with op.batch_alter_table('post_matches', schema=None) as batch_op:
            batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
    # the matches made so far: told the owner of the matched post
    op.execute("UPDATE post_matches SET user_id = (SELECT posts.user_id FROM posts WHERE posts.id = post_matches.match_id)")
    with op.batch_alter_table('post_matches', schema=None) as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(batch_op.f('fk_post_matches_user_id_users'), 'users', ['user_id'], ['id'])
    # the texts of the day, by whom they went to: at most MATCH_ALERTS_PER_DAY rows a person a day
    for table in ('post_matches', 'follow_alerts'):
        op.create_index(f'ix_{table}_texted', table, ['user_id', 'created_at'], unique=False,
                        postgresql_where=sa.text('texted'), sqlite_where=sa.text('texted = 1'))


def downgrade():
    for table in ('post_matches', 'follow_alerts'):
        op.drop_index(f'ix_{table}_texted', table_name=table)
    with op.batch_alter_table('post_matches', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_post_matches_user_id_users'), type_='foreignkey')
        batch_op.drop_column('user_id')
