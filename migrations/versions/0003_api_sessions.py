"""api sessions and api sign-in failures

Revision ID: 0003
Revises: 0002_encrypted_forms
Create Date: 2026-12-06
"""

from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002_encrypted_forms'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('token_sha256', sa.String(length=64), nullable=False),
    sa.Column('password_fingerprint', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_sha256')
    )
    op.create_index(op.f('ix_api_session_user_id'), 'api_session', ['user_id'], unique=False)
    op.create_table('api_sign_in_failures',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('failed_sign_ins', sa.Integer(), nullable=False),
    sa.Column('last_failed_sign_in_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id')
    )


def downgrade() -> None:
    op.drop_table('api_sign_in_failures')
    op.drop_index(op.f('ix_api_session_user_id'), table_name='api_session')
    op.drop_table('api_session')
