"""Life after recognition: reporting rounds, portraits with versions, progress reports, invited
co-partners, and Ressort names with their validity.

Revision ID: a9d1c0000008
Revises: a9d1c0000007
Create Date: 2026-12-08 01:06:19
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a9d1c0000008"
down_revision: str | None = "a9d1c0000007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "ressort_names",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ressort", sa.String(length=32), nullable=False),
        sa.Column("abbreviation", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["ressort"], ["ressorts.abbreviation"], name=op.f("fk_ressort_names_ressort_ressorts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ressort_names")),
        sa.UniqueConstraint("ressort", "valid_from", name=op.f("uq_ressort_names_ressort")),
    )
    op.create_table(
        "reporting_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("stichtag", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("opened_by", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["opened_by"], ["users.id"], name=op.f("fk_reporting_rounds_opened_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reporting_rounds")),
        sa.UniqueConstraint("year", name=op.f("uq_reporting_rounds_year")),
    )
    op.create_table(
        "portraits",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("project_code", sa.String(length=16), nullable=False),
        sa.Column("umsetzungsstand", sa.String(length=32), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=False),
        sa.Column("completed_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposals.id"], name=op.f("fk_portraits_proposal_id_proposals")
        ),
        sa.PrimaryKeyConstraint("proposal_id", name=op.f("pk_portraits")),
    )
    op.create_table(
        "progress_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("entries", sa.JSON(), nullable=False),
        sa.Column("umsetzungsstand", sa.String(length=32), nullable=True),
        sa.Column("returned", sa.JSON(), nullable=False),
        sa.Column("revised", sa.JSON(), nullable=False),
        sa.Column("base_version", sa.Integer(), nullable=False),
        sa.Column("portrait_version", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposals.id"], name=op.f("fk_progress_reports_proposal_id_proposals")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["reporting_rounds.id"], name=op.f("fk_progress_reports_round_id_reporting_rounds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_progress_reports")),
        sa.UniqueConstraint("round_id", "proposal_id", name=op.f("uq_progress_reports_round_id")),
    )
    with op.batch_alter_table("progress_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_progress_reports_proposal_id"), ["proposal_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_progress_reports_state"), ["state"], unique=False)

    op.create_table(
        "report_contributors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("invited_by", sa.Integer(), nullable=False),
        sa.Column("invited_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invited_by"], ["users.id"], name=op.f("fk_report_contributors_invited_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"], ["proposals.id"], name=op.f("fk_report_contributors_proposal_id_proposals")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_report_contributors_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_contributors")),
        sa.UniqueConstraint("proposal_id", "user_id", name=op.f("uq_report_contributors_proposal_id")),
    )
    op.create_table(
        "portrait_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("umsetzungsstand", sa.String(length=32), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name=op.f("fk_portrait_versions_created_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["portraits.proposal_id"],
            name=op.f("fk_portrait_versions_proposal_id_portraits"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["progress_reports.id"],
            name=op.f("fk_portrait_versions_report_id_progress_reports"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_portrait_versions")),
        sa.UniqueConstraint("proposal_id", "number", name=op.f("uq_portrait_versions_proposal_id")),
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("portrait_versions")
    op.drop_table("report_contributors")
    with op.batch_alter_table("progress_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_progress_reports_state"))
        batch_op.drop_index(batch_op.f("ix_progress_reports_proposal_id"))

    op.drop_table("progress_reports")
    op.drop_table("portraits")
    op.drop_table("reporting_rounds")
    op.drop_table("ressort_names")
