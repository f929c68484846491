"""sessions and clients: the session a token was issued in, and whether it is offline

Revision ID: 0009_sessions_clients
Revises: 0012_outbox
Create Date: 2026-11-30 17:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0009_sessions_clients"
down_revision = "0012_outbox"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("token", schema=None) as batch_op:
        batch_op.add_column(sa.Column("login_session_id", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("offline", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.create_index(
            batch_op.f("ix_token_login_session_id"), ["login_session_id"], unique=False
        )
    with op.batch_alter_table("authorization_code", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_authorization_code_login_session_id"),
            ["login_session_id"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("authorization_code", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_authorization_code_login_session_id"))
    with op.batch_alter_table("token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_token_login_session_id"))
        batch_op.drop_column("offline")
        batch_op.drop_column("login_session_id")
