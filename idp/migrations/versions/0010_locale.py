"""The account's language, for its mails

Revision ID: 0010_locale
Revises: 0013_staff

"""

import sqlalchemy as sa
from alembic import op

revision = "0010_locale"
down_revision = "0013_staff"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("locale", sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_column("locale")
