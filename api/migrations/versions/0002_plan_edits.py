"""plan edits: a supervisor's edits of a draft plan, kept with the plan

Revision ID: 0002_plan_edits
Revises: 0001
Create Date: 2026-11-29 09:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_plan_edits"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("plans", sa.Column("edits", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("plans", "edits")
