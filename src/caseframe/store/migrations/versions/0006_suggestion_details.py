"""suggestion details: model, prompt version, time, threshold, κ and reasons per suggestion

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "suggestion_details",
        sa.Column("coding_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("prompt_version", sa.String(length=40), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("code_kappa", sa.Float(), nullable=True),
        sa.Column("phrases", sa.JSON(), nullable=True),
        sa.Column("similar", sa.JSON(), nullable=True),
        sa.Column("unit_length", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["coding_id"],
            ["codings.id"],
            name=op.f("fk_suggestion_details_coding_id_codings"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("coding_id", name=op.f("pk_suggestion_details")),
    )


def downgrade() -> None:
    op.drop_table("suggestion_details")
