"""the network's shared picture: sharing, the network column, analysts, facts and snapshots (issue #13)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('form', sa.Column('network_shared', sa.Boolean(), nullable=False, server_default='0'))
    op.add_column('form_version', sa.Column('network', sa.JSON(), nullable=True))
    op.add_column('user_account', sa.Column('is_analyst', sa.Boolean(), nullable=False, server_default='0'))
    op.create_table(
        'network_unit',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('submission_id', sa.Integer(), sa.ForeignKey('submission.id', ondelete='CASCADE'), nullable=False),
        sa.Column('organisation_id', sa.Integer(), sa.ForeignKey('organisation.id', ondelete='CASCADE'), nullable=False),
        sa.Column('form_id', sa.String(255), nullable=False),
        sa.Column('repeat', sa.String(255), nullable=False),
        sa.Column('household_id', sa.Integer(), sa.ForeignKey('network_unit.id', ondelete='CASCADE'), nullable=True),
        sa.Column('month', sa.String(7), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('identity', sa.BigInteger(), nullable=True),
        sa.Column('counted', sa.Boolean(), nullable=False, server_default='0'),
    )
    op.create_index('ix_network_unit_submission_id', 'network_unit', ['submission_id'])
    op.create_index('ix_network_unit_household_id', 'network_unit', ['household_id'])
    op.create_index('ix_network_unit_form', 'network_unit', ['form_id', 'repeat', 'month'])
    op.create_index('ix_network_unit_identity', 'network_unit', ['form_id', 'identity'])
    op.create_table(
        'network_value',
        sa.Column('unit_id', sa.Integer(), sa.ForeignKey('network_unit.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('field', sa.String(255), primary_key=True),
        sa.Column('choice', sa.String(255), primary_key=True),
    )
    op.create_index('ix_network_value_field', 'network_value', ['field', 'unit_id', 'choice'])
    if op.get_bind().dialect.name == 'postgresql':
        # A choice's share depends on its field ('57' is common among provinces, rare among all values):
        # without this the planner misjudges a filter by a thousand times.
        op.execute('CREATE STATISTICS network_value_field_choice (mcv) ON field, choice FROM network_value')
    op.create_table(
        'network_snapshot',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('token', sa.String(64), nullable=False, unique=True),
        sa.Column('form_id', sa.String(255), nullable=False),
        sa.Column('title', sa.Text(), nullable=False),
        sa.Column('content', sa.JSON(), nullable=False),
        sa.Column('organisations', sa.JSON(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), sa.ForeignKey('user_account.id', ondelete='SET NULL'), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_by_id', sa.Integer(), sa.ForeignKey('user_account.id', ondelete='SET NULL'), nullable=True),
    )


def downgrade() -> None:
    op.drop_table('network_snapshot')
    op.drop_index('ix_network_value_field', 'network_value')
    op.drop_table('network_value')
    op.drop_index('ix_network_unit_identity', 'network_unit')
    op.drop_index('ix_network_unit_form', 'network_unit')
    op.drop_index('ix_network_unit_household_id', 'network_unit')
    op.drop_index('ix_network_unit_submission_id', 'network_unit')
    op.drop_table('network_unit')
    op.drop_column('user_account', 'is_analyst')
    op.drop_column('form_version', 'network')
    op.drop_column('form', 'network_shared')
