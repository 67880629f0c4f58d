"""placeholder for revision 0005 (the lead replaces it with the branch that owns it)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
