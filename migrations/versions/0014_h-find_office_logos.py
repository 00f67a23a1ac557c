"""office logos for co-branding the public workshop pages

Revision ID: 0014_h_find
Revises: 0013
Create Date: 2026-12-03 08:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_h_find'  # Alembic refuses '-' in revision ids (branch h-find)
down_revision = '0014_h_identity'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'office_logos',
        sa.Column('office_id', sa.Integer(), nullable=False),
        sa.Column('file_id', sa.Integer(), nullable=False),
        sa.Column('alt', sa.String(length=160), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['file_id'], ['stored_files.id'], name=op.f('fk_office_logos_file_id_stored_files')),
        sa.ForeignKeyConstraint(['office_id'], ['offices.id'], name=op.f('fk_office_logos_office_id_offices'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('office_id', name=op.f('pk_office_logos')),
        sa.UniqueConstraint('file_id', name=op.f('uq_office_logos_file_id')),
    )


def downgrade():
    op.drop_table('office_logos')
