"""User management: activation links, a hash-chained user audit log, who created and activated whom.

Revision ID: a9d1c0000004
Revises: a9d1c0000005
Create Date: 2026-12-06 03:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a9d1c0000004"
down_revision: str | None = "a9d1c0000005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("created_by", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("activated_by", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f("fk_users_created_by_users"), "users", ["created_by"], ["id"])
        batch_op.create_foreign_key(op.f("fk_users_activated_by_users"), "users", ["activated_by"], ["id"])
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("issued_by", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f("fk_api_tokens_issued_by_users"), "users", ["issued_by"], ["id"])

    op.create_table(
        "activation_links",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("issued_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_activation_links_user_id_users")),
        sa.ForeignKeyConstraint(
            ["issued_by"], ["users.id"], name=op.f("fk_activation_links_issued_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_activation_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_activation_links_token_hash")),
    )
    with op.batch_alter_table("activation_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_activation_links_user_id"), ["user_id"], unique=False)

    op.create_table(
        "user_audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=300), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_user_audit_log_user_id_users")),
        sa.ForeignKeyConstraint(["actor_id"], ["users.id"], name=op.f("fk_user_audit_log_actor_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_audit_log")),
        sa.UniqueConstraint("seq", name=op.f("uq_user_audit_log_seq")),
    )
    with op.batch_alter_table("user_audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_audit_log_user_id"), ["user_id"], unique=False)

    head = op.create_table(
        "user_audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_audit_head")),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS}])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("user_audit_head")
    with op.batch_alter_table("user_audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_audit_log_user_id"))
    op.drop_table("user_audit_log")
    with op.batch_alter_table("activation_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_activation_links_user_id"))
    op.drop_table("activation_links")
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_api_tokens_issued_by_users"), type_="foreignkey")
        batch_op.drop_column("issued_by")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_users_activated_by_users"), type_="foreignkey")
        batch_op.drop_constraint(op.f("fk_users_created_by_users"), type_="foreignkey")
        batch_op.drop_column("activated_by")
        batch_op.drop_column("created_by")
