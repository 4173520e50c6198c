"""The proposal list in SQL: an organisation key for the visibility rule and a search text per proposal.

Revision ID: a9d1c0000006
Revises: a9d1c0000004
Create Date: 2026-12-06 04:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a9d1c0000006"
down_revision: str | None = "a9d1c0000004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("organisation_key", sa.String(length=200), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("title_text", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(sa.Column("search_text", sa.Text(), server_default="", nullable=False))
        batch_op.create_index(batch_op.f("ix_proposals_organisation_key"), ["organisation_key"], unique=False)
    _backfill()
    if op.get_bind().dialect.name == "postgresql":
        # Substring search (LIKE '%wort%') served by a trigram index.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute("CREATE INDEX ix_proposals_search_trgm ON proposals USING gin (search_text gin_trgm_ops)")


def _backfill() -> None:
    from partnerprojekte.db.searchable import search_values

    conn = op.get_bind()
    proposals = sa.table(
        "proposals",
        sa.column("id", sa.Integer),
        sa.column("title", sa.String),
        sa.column("organisation", sa.String),
        sa.column("current_revision", sa.Integer),
        sa.column("organisation_key", sa.String),
        sa.column("title_text", sa.Text),
        sa.column("search_text", sa.Text),
    )
    revisions = sa.table(
        "revisions",
        sa.column("proposal_id", sa.Integer),
        sa.column("number", sa.Integer),
        sa.column("document", sa.JSON),
    )
    rows = conn.execute(
        sa.select(proposals.c.id, proposals.c.title, proposals.c.organisation, revisions.c.document).join(
            revisions,
            sa.and_(
                revisions.c.proposal_id == proposals.c.id,
                revisions.c.number == proposals.c.current_revision,
            ),
        )
    ).all()
    for pid, _title, organisation, document in rows:
        # title_text stays empty here: migration a9d1c0000007 drops it.
        values = search_values(pid, organisation, document)
        conn.execute(proposals.update().where(proposals.c.id == pid).values(**values))


def downgrade() -> None:
    """Revert this migration."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_proposals_search_trgm")
    with op.batch_alter_table("proposals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposals_organisation_key"))
        batch_op.drop_column("search_text")
        batch_op.drop_column("title_text")
        batch_op.drop_column("organisation_key")
