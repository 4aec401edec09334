"""Messenger replay protection: ids of the messages already handled (kept 24 hours)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 23:20:00
"""
from alembic import op
import sqlalchemy as sa

import townhall.db


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Message ids a channel has already handled (townhall/channel_dedup.py).
    op.create_table('channel_seen_messages',
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('message_id', sa.String(length=128), nullable=False),
    sa.Column('seen_at', townhall.db.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('channel', 'message_id', name=op.f('pk_channel_seen_messages'))
    )
    with op.batch_alter_table('channel_seen_messages', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channel_seen_messages_seen_at'), ['seen_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('channel_seen_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channel_seen_messages_seen_at'))

    op.drop_table('channel_seen_messages')
