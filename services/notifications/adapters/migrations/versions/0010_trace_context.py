"""Traces across services: each outbox row keeps the W3C trace context of the change that wrote it, and each
planned message the traceparent of what planned it, so that its send joins that trace.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from shared.migrations import add_outbox_trace_context, drop_outbox_trace_context

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_outbox_trace_context()
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("traceparent", sa.String(55), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("traceparent")
    drop_outbox_trace_context()
