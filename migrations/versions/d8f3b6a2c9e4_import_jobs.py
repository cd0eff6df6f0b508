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
    pass


def downgrade():
    pass
