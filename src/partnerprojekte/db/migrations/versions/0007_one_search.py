"""One search everywhere: the title-and-organisation text of the API's old search goes.

Revision ID: a9d1c0000007
Revises: a9d1c0000006
Create Date: 2026-12-07 15:45:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a9d1c0000007"
down_revision: str | None = "a9d1c0000006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    # A plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35), not batch mode: batch mode would copy the table and
    # drop the old one, which the foreign keys of revisions and the audit log refuse once it holds rows.
    op.drop_column("proposals", "title_text")


def downgrade() -> None:
    """Revert this migration (the column filled again as the old code wrote it)."""
    op.add_column("proposals", sa.Column("title_text", sa.Text(), server_default="", nullable=False))
    conn = op.get_bind()
    proposals = sa.table(
        "proposals",
        sa.column("id", sa.Integer),
        sa.column("title", sa.String),
        sa.column("organisation", sa.String),
        sa.column("title_text", sa.Text),
    )
    rows = conn.execute(sa.select(proposals.c.id, proposals.c.title, proposals.c.organisation)).all()
    for pid, title, organisation in rows:
        text = f"{title} {organisation}".casefold()
        conn.execute(proposals.update().where(proposals.c.id == pid).values(title_text=text))
