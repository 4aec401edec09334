"""Booking places linked to the facility they are in (its closures and hours apply to booking)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 16:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # booking_places.facility_code: the facility (facility.code) whose closures and opening
    # hours the place's appointments follow (townhall/booking/availability.py). No foreign key:
    # booking settings may be loaded without the knowledge base. Filled by the booking loader.
    with op.batch_alter_table('booking_places', schema=None) as batch_op:
        batch_op.add_column(sa.Column('facility_code', sa.String(length=40), nullable=True))
        batch_op.create_index(batch_op.f('ix_booking_places_facility_code'), ['facility_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('booking_places', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_places_facility_code'))
        batch_op.drop_column('facility_code')
