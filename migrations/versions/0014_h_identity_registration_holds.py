"""registration holds: a known document's public registration waits for confirmation

Revision ID: 0014_h_identity
Revises: 0013
Create Date: 2026-12-01 10:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_h_identity'
down_revision = '0014_h_accounts'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'registration_holds',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('person_id', sa.Integer(), nullable=False),
        sa.Column('source', sa.Enum('public', 'staff', 'api', name='registration_source', native_enum=False,
                                    length=8), nullable=False),
        sa.Column('holds_seat', sa.Boolean(), nullable=False),
        sa.Column('nonce', sa.String(length=32), nullable=False),
        sa.Column('campaign_code', sa.String(length=64), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_registration_holds_person_id_people'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['session_id'], ['activity_sessions.id'],
                                name=op.f('fk_registration_holds_session_id_activity_sessions'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_registration_holds')),
        sa.UniqueConstraint('session_id', 'person_id', name=op.f('uq_registration_holds_session_id_person_id')),
    )
    with op.batch_alter_table('registration_holds', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registration_holds_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_registration_holds_person_id'), ['person_id'], unique=False)


def downgrade():
    with op.batch_alter_table('registration_holds', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registration_holds_person_id'))
        batch_op.drop_index(batch_op.f('ix_registration_holds_expires_at'))
    op.drop_table('registration_holds')
