"""crm tables for all import types

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('buildings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('ext_id', sa.String(length=64), nullable=False),
    sa.Column('address', sa.String(length=512), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_buildings_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_buildings')),
    sa.UniqueConstraint('organization_id', 'ext_id', name=op.f('uq_buildings_organization_id_ext_id'))
    )
    op.create_table('clients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('last_name', sa.String(length=128), nullable=False),
    sa.Column('first_name', sa.String(length=128), nullable=True),
    sa.Column('middle_name', sa.String(length=128), nullable=True),
    sa.Column('phone', sa.String(length=16), nullable=False),
    sa.Column('email', sa.String(length=255), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_clients_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clients'))
    )
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.create_index('ix_clients_org_phone', ['organization_id', 'phone'], unique=False)

    op.create_table('news',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('guid', sa.String(length=1024), nullable=False),
    sa.Column('title', sa.String(length=1024), nullable=False),
    sa.Column('link', sa.String(length=2048), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_news_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_news')),
    sa.UniqueConstraint('organization_id', 'guid', name=op.f('uq_news_organization_id_guid'))
    )
    op.create_table('offers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('internal_id', sa.String(length=128), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=True),
    sa.Column('category', sa.String(length=64), nullable=True),
    sa.Column('price', sa.Numeric(), nullable=True),
    sa.Column('currency', sa.String(length=8), nullable=True),
    sa.Column('area', sa.Numeric(), nullable=True),
    sa.Column('rooms', sa.Integer(), nullable=True),
    sa.Column('floor', sa.Integer(), nullable=True),
    sa.Column('address', sa.String(length=1024), nullable=True),
    sa.Column('images', sa.JSON(), nullable=True),
    sa.Column('deal_status', sa.String(length=64), nullable=True),
    sa.Column('status', sa.Enum('active', 'withdrawn', name='offerstatus', native_enum=False, length=32), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_offers_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offers')),
    sa.UniqueConstraint('organization_id', 'internal_id', name=op.f('uq_offers_organization_id_internal_id'))
    )
    op.create_table('client_external_ids',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('ext_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_client_external_ids_client_id_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_client_external_ids_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_external_ids')),
    sa.UniqueConstraint('organization_id', 'ext_id', name=op.f('uq_client_external_ids_organization_id_ext_id'))
    )
    with op.batch_alter_table('client_external_ids', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_external_ids_client_id'), ['client_id'], unique=False)

    op.create_table('premises',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('building_id', sa.Integer(), nullable=False),
    sa.Column('ext_id', sa.String(length=64), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=True),
    sa.Column('floor', sa.Integer(), nullable=True),
    sa.Column('area', sa.Numeric(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['building_id'], ['buildings.id'], name=op.f('fk_premises_building_id_buildings'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_premises_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_premises')),
    sa.UniqueConstraint('organization_id', 'ext_id', name=op.f('uq_premises_organization_id_ext_id'))
    )
    with op.batch_alter_table('premises', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_premises_building_id'), ['building_id'], unique=False)

    op.create_table('client_accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_client_accounts_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_client_accounts_client_id_clients'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_client_accounts')),
    sa.UniqueConstraint('client_id', 'account_id', name=op.f('uq_client_accounts_client_id_account_id'))
    )
    with op.batch_alter_table('client_accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_client_accounts_account_id'), ['account_id'], unique=False)

    op.create_table('meters',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('resource', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_meters_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_meters_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meters')),
    sa.UniqueConstraint('organization_id', 'number', name=op.f('uq_meters_organization_id_number'))
    )
    with op.batch_alter_table('meters', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meters_account_id'), ['account_id'], unique=False)

    op.create_table('payments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('payment_id', sa.String(length=64), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('paid_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('amount', sa.Numeric(), nullable=False),
    sa.Column('period', sa.String(length=7), nullable=True),
    sa.Column('service_code', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=True),
    sa.Column('purpose', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_payments_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_payments_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments')),
    sa.UniqueConstraint('organization_id', 'payment_id', name=op.f('uq_payments_organization_id_payment_id'))
    )
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_payments_org_created', ['organization_id', 'created_at'], unique=False)

    op.create_table('meter_readings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('meter_id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('reading_date', sa.Date(), nullable=False),
    sa.Column('value1', sa.Numeric(), nullable=False),
    sa.Column('value2', sa.Numeric(), nullable=True),
    sa.Column('value3', sa.Numeric(), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_meter_readings_account_id_accounts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['meter_id'], ['meters.id'], name=op.f('fk_meter_readings_meter_id_meters'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organizations.id'], name=op.f('fk_meter_readings_organization_id_organizations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meter_readings')),
    sa.UniqueConstraint('meter_id', 'reading_date', name=op.f('uq_meter_readings_meter_id_reading_date'))
    )
    with op.batch_alter_table('meter_readings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_meter_readings_account_id'), ['account_id'], unique=False)
        batch_op.create_index('ix_meter_readings_org_created', ['organization_id', 'created_at'], unique=False)

    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('premise_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('gis_number', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_accounts_premise_id'), ['premise_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_accounts_premise_id_premises'), 'premises', ['premise_id'], ['id'], ondelete='SET NULL')



def downgrade() -> None:
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_accounts_premise_id_premises'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_accounts_premise_id'))
        batch_op.drop_column('gis_number')
        batch_op.drop_column('premise_id')

    with op.batch_alter_table('meter_readings', schema=None) as batch_op:
        batch_op.drop_index('ix_meter_readings_org_created')
        batch_op.drop_index(batch_op.f('ix_meter_readings_account_id'))

    op.drop_table('meter_readings')
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index('ix_payments_org_created')
        batch_op.drop_index(batch_op.f('ix_payments_account_id'))

    op.drop_table('payments')
    with op.batch_alter_table('meters', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_meters_account_id'))

    op.drop_table('meters')
    with op.batch_alter_table('client_accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_client_accounts_account_id'))

    op.drop_table('client_accounts')
    with op.batch_alter_table('premises', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_premises_building_id'))

    op.drop_table('premises')
    with op.batch_alter_table('client_external_ids', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_client_external_ids_client_id'))

    op.drop_table('client_external_ids')
    op.drop_table('offers')
    op.drop_table('news')
    with op.batch_alter_table('clients', schema=None) as batch_op:
        batch_op.drop_index('ix_clients_org_phone')

    op.drop_table('clients')
    op.drop_table('buildings')
