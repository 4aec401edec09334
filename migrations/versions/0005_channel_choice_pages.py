"""Messenger "Autres choix": the pages of choices left to show, shared by every Rasa process (kept 24 hours)

Revision ID: 0005_choice_pages
Revises: 0004
Create Date: 2026-12-03 16:00:00
"""
from alembic import op
import sqlalchemy as sa

import townhall.db


revision = '0005_choice_pages'
down_revision = '0004'  # 0004_booking_place_facility.py
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Choices a channel still has to show after "Autres choix" (townhall/channel_pages.py).
    op.create_table('channel_choice_pages',
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('sender_digest', sa.String(length=64), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('choices', sa.JSON(), nullable=False),
    sa.Column('created_at', townhall.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('channel', 'sender_digest', 'token', name=op.f('pk_channel_choice_pages'))
    )
    with op.batch_alter_table('channel_choice_pages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channel_choice_pages_created_at'), ['created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('channel_choice_pages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channel_choice_pages_created_at'))

    op.drop_table('channel_choice_pages')
