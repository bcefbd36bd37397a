"""wrong phone passwords counted on the user, apart from the web's

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('user_account', sa.Column('failed_phone_sign_ins', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('user_account', sa.Column('last_failed_phone_sign_in_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('user_account', 'last_failed_phone_sign_in_at')
    op.drop_column('user_account', 'failed_phone_sign_ins')
