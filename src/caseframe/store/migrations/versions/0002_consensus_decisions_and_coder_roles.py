"""consensus decisions and coder roles (agreement)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CONSENSUS_KEY = "agreement.consensus"  # settings: consensus coders made before this revision


def upgrade() -> None:
    op.create_table(
        "coder_roles",
        sa.Column("coder_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.CheckConstraint(
            "role IN ('independent','reference','consensus')", name=op.f("ck_coder_roles_role")
        ),
        sa.ForeignKeyConstraint(
            ["coder_id"],
            ["coders.id"],
            name=op.f("fk_coder_roles_coder_id_coders"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("coder_id", name=op.f("pk_coder_roles")),
    )
    op.create_table(
        "consensus_decisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("coder_id", sa.Integer(), nullable=False),
        sa.Column("document_id", sa.Integer(), nullable=False),
        sa.Column("meaning_unit_id", sa.Integer(), nullable=True),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("code_id", sa.Integer(), nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("coders", sa.JSON(), nullable=False),
        sa.Column("coding_id", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "action IN ('accept','both','neither','other','apply','skip','rule')",
            name=op.f("ck_consensus_decisions_action"),
        ),
        sa.ForeignKeyConstraint(
            ["code_id"],
            ["codes.id"],
            name=op.f("fk_consensus_decisions_code_id_codes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["coder_id"],
            ["coders.id"],
            name=op.f("fk_consensus_decisions_coder_id_coders"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["coding_id"],
            ["codings.id"],
            name=op.f("fk_consensus_decisions_coding_id_codings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["document_id"],
            ["documents.id"],
            name=op.f("fk_consensus_decisions_document_id_documents"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["meaning_unit_id"],
            ["meaning_units.id"],
            name=op.f("fk_consensus_decisions_meaning_unit_id_meaning_units"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consensus_decisions")),
        sa.UniqueConstraint(
            "coder_id",
            "document_id",
            "start",
            "end",
            "code_id",
            name="uq_consensus_decisions_unit",
        ),
    )
    with op.batch_alter_table("consensus_decisions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_consensus_decisions_coding_id"), ["coding_id"], unique=False
        )
    _mark_existing_consensus_coders()


def _mark_existing_consensus_coders() -> None:
    """Consensus coders made before roles existed are listed in a setting: give them the role."""
    conn = op.get_bind()
    settings = sa.table("settings", sa.column("key", sa.String), sa.column("value", sa.JSON))
    coders = sa.table("coders", sa.column("id", sa.Integer), sa.column("name", sa.String))
    roles = sa.table("coder_roles", sa.column("coder_id", sa.Integer), sa.column("role", sa.String))
    registry = conn.scalar(sa.select(settings.c.value).where(settings.c.key == CONSENSUS_KEY))
    names = list(registry or {})
    if not names:
        return
    ids = conn.scalars(sa.select(coders.c.id).where(coders.c.name.in_(names))).all()
    if ids:
        conn.execute(roles.insert(), [{"coder_id": i, "role": "consensus"} for i in ids])


def downgrade() -> None:
    with op.batch_alter_table("consensus_decisions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consensus_decisions_coding_id"))
    op.drop_table("consensus_decisions")
    op.drop_table("coder_roles")
