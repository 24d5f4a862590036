"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('organizations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('kind', sa.Enum('management', 'developer', name='organizationkind', native_enum=False, length=32), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organizations')),
    sa.UniqueConstraint('code', name=op.f('uq_organizations_code'))
    )
    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_accounts_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('organization_id', 'number', name=op.f('uq_accounts_organization_id_number'))
    )
    op.create_table('export_blocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('data_type', sa.Enum('accruals', 'payments', 'meter_readings', 'buildings', 'clients', 'news', 'offers', name='datatype', native_enum=False, length=32), nullable=False),
    sa.Column('method', sa.Enum('XML', 'URL', name='method', native_enum=False, length=32), nullable=False),
    sa.Column('directory', sa.String(length=1024), nullable=False),
    sa.Column('filename_template', sa.String(length=255), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('schedule_minute', sa.String(length=200), nullable=False),
    sa.Column('schedule_hour', sa.String(length=100), nullable=False),
    sa.Column('schedule_day', sa.String(length=100), nullable=False),
    sa.Column('schedule_month', sa.String(length=50), nullable=False),
    sa.Column('schedule_weekday', sa.String(length=50), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_export_blocks_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_blocks')),
    sa.UniqueConstraint('organization_id', 'data_type', name=op.f('uq_export_blocks_organization_id_data_type'))
    )
    op.create_table('ftp_connections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('port', sa.Integer(), nullable=False),
    sa.Column('use_tls', sa.Boolean(), nullable=False),
    sa.Column('username', sa.String(length=255), nullable=False),
    sa.Column('password_encrypted', sa.Text(), nullable=False),
    sa.Column('root_dir', sa.String(length=1024), nullable=False),
    sa.Column('force_utf8', sa.Boolean(), nullable=False),
    sa.Column('passive', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_ftp_connections_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ftp_connections')),
    sa.UniqueConstraint('organization_id', name=op.f('uq_ftp_connections_organization_id'))
    )
    op.create_table('import_blocks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('data_type', sa.Enum('accruals', 'payments', 'meter_readings', 'buildings', 'clients', 'news', 'offers', name='datatype', native_enum=False, length=32), nullable=False),
    sa.Column('method', sa.Enum('XML', 'URL', name='method', native_enum=False, length=32), nullable=False),
    sa.Column('paths', sa.Text(), nullable=False),
    sa.Column('delete_after_read', sa.Boolean(), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('schedule_minute', sa.String(length=200), nullable=False),
    sa.Column('schedule_hour', sa.String(length=100), nullable=False),
    sa.Column('schedule_day', sa.String(length=100), nullable=False),
    sa.Column('schedule_month', sa.String(length=50), nullable=False),
    sa.Column('schedule_weekday', sa.String(length=50), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_import_blocks_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_blocks')),
    sa.UniqueConstraint('organization_id', 'data_type', name=op.f('uq_import_blocks_organization_id_data_type'))
    )
    op.create_table('integration_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('Running', 'Done', 'Error', 'Warning', 'Duplicate', name='logstatus', native_enum=False, length=32), nullable=False),
    sa.Column('task_type', sa.String(length=64), nullable=False),
    sa.Column('task_title', sa.String(length=128), nullable=False),
    sa.Column('method', sa.Enum('XML', 'URL', name='method', native_enum=False, length=32), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON(), nullable=True),
    sa.Column('dag_id', sa.String(length=250), nullable=True),
    sa.Column('run_id', sa.String(length=250), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_integration_log_organization_id_organizations'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_integration_log')),
    sa.UniqueConstraint('dag_id', 'run_id', name=op.f('uq_integration_log_dag_id_run_id'))
    )
    with op.batch_alter_table('integration_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_integration_log_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_integration_log_method'), ['method'], unique=False)
        batch_op.create_index('ix_integration_log_org_created', ['organization_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_integration_log_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_integration_log_task_type'), ['task_type'], unique=False)

    op.create_table('services',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_services_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_services')),
    sa.UniqueConstraint('organization_id', 'code', name=op.f('uq_services_organization_id_code'))
    )
    op.create_table('accruals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=False),
    sa.Column('tariff', sa.Numeric(), nullable=True),
    sa.Column('volume', sa.Numeric(), nullable=True),
    sa.Column('unit', sa.String(length=32), nullable=True),
    sa.Column('amount', sa.Numeric(), nullable=False),
    sa.Column('recalculation', sa.Numeric(), nullable=True),
    sa.Column('benefit', sa.Numeric(), nullable=True),
    sa.Column('penalty', sa.Numeric(), nullable=True),
    sa.Column('debt', sa.Numeric(), nullable=True),
    sa.Column('paid', sa.Numeric(), nullable=True),
    sa.Column('total_payable', sa.Numeric(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_accruals_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_accruals_organization_id_organizations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], name=op.f('fk_accruals_service_id_services'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accruals')),
    sa.UniqueConstraint('account_id', 'period', 'service_id', name=op.f('uq_accruals_account_id_period_service_id'))
    )
    with op.batch_alter_table('accruals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accruals_organization_id'), ['organization_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('accruals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accruals_organization_id'))

    op.drop_table('accruals')
    op.drop_table('services')
    with op.batch_alter_table('integration_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_integration_log_task_type'))
        batch_op.drop_index(batch_op.f('ix_integration_log_status'))
        batch_op.drop_index('ix_integration_log_org_created')
        batch_op.drop_index(batch_op.f('ix_integration_log_method'))
        batch_op.drop_index(batch_op.f('ix_integration_log_created_at'))

    op.drop_table('integration_log')
    op.drop_table('import_blocks')
    op.drop_table('ftp_connections')
    op.drop_table('export_blocks')
    op.drop_table('accounts')
    op.drop_table('organizations')
