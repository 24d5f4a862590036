"""export windows

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('export_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('block_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('window_start', sa.DateTime(timezone=True), nullable=False),
    sa.Column('window_end', sa.DateTime(timezone=True), nullable=False),
    sa.Column('dag_id', sa.String(length=250), nullable=True),
    sa.Column('run_id', sa.String(length=250), nullable=True),
    sa.Column('file_name', sa.String(length=1024), nullable=True),
    sa.Column('rows', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['block_id'], ['export_blocks.id'], name=op.f('fk_export_runs_block_id_export_blocks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_runs'))
    )
    with op.batch_alter_table('export_runs', schema=None) as batch_op:
        batch_op.create_index('ix_export_runs_block_end', ['block_id', 'window_end'], unique=False)

    with op.batch_alter_table('export_blocks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('skip_empty', sa.Boolean(), nullable=False, server_default=sa.false()))



def downgrade() -> None:
    with op.batch_alter_table('export_blocks', schema=None) as batch_op:
        batch_op.drop_column('skip_empty')

    with op.batch_alter_table('export_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_export_runs_block_end')

    op.drop_table('export_runs')
