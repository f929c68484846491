"""school name optional: `idp accounts create` may name a school by its UAI alone

Revision ID: 0011_hardening
Revises: 0010_locale
Create Date: 2026-11-30 18:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011_hardening'
down_revision = '0010_locale'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.alter_column('name', existing_type=sa.String(length=255), nullable=True)


def downgrade():
    op.execute("UPDATE school SET name = uai WHERE name IS NULL")
    with op.batch_alter_table('school', schema=None) as batch_op:
        batch_op.alter_column('name', existing_type=sa.String(length=255), nullable=False)
