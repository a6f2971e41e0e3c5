"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27 02:47:48.603162
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("monitor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("space", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("severity", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("tags", sa.JSON(), nullable=True),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("delivered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("monitor", "key"),
    )
    with op.batch_alter_table("alert_outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_outbox_monitor"), ["monitor"], unique=False)
        batch_op.create_index(batch_op.f("ix_alert_outbox_status"), ["status"], unique=False)

    op.create_table(
        "backfill_slice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("monitor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("sources", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("start", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("end", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("candidates", sa.Integer(), nullable=False),
        sa.Column("stored", sa.Integer(), nullable=False),
        sa.Column("matches", sa.Integer(), nullable=False),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("monitor", "sources", "start", "end"),
    )
    with op.batch_alter_table("backfill_slice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_backfill_slice_monitor"), ["monitor"], unique=False)

    op.create_table(
        "dispute_state",
        sa.Column("monitor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("state", sa.JSON(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("monitor"),
    )
    op.create_table(
        "fetch_error",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("monitor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("stage", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("fetch_error", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fetch_error_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_fetch_error_monitor"), ["monitor"], unique=False)
        batch_op.create_index(batch_op.f("ix_fetch_error_run_id"), ["run_id"], unique=False)

    op.create_table(
        "run_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("monitor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("flow", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("started_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("finished_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("run_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_run_record_monitor"), ["monitor"], unique=False)

    op.create_table(
        "source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("monitor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("etag", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("last_modified", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("last_attempt_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_success_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("last_new_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("error_streak", sa.Integer(), nullable=False),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("last_error_detail", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("retry_not_before", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("health", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("entries_seen", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("monitor", "name"),
    )
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_source_monitor"), ["monitor"], unique=False)

    op.create_table(
        "stage_transition",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("monitor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("space", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("episode", sa.Integer(), nullable=False),
        sa.Column("severity", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("evidence", sa.JSON(), nullable=True),
        sa.Column("outlets", sa.JSON(), nullable=True),
        sa.Column("active_after", sa.JSON(), nullable=True),
        sa.Column("mode", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("monitor", "key"),
    )
    with op.batch_alter_table("stage_transition", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stage_transition_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_stage_transition_monitor"), ["monitor"], unique=False)

    op.create_table(
        "story_cluster",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("monitor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("first_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("article_count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("story_cluster", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_story_cluster_monitor"), ["monitor"], unique=False)

    op.create_table(
        "alert_delivery",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("alert_id", sa.Integer(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("last_attempt_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("sent_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["alert_id"],
            ["alert_outbox.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("alert_id", "channel"),
    )
    with op.batch_alter_table("alert_delivery", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_alert_delivery_alert_id"), ["alert_id"], unique=False)

    op.create_table(
        "article",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("monitor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("canonical_url", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("outlet", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("published_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("author", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("sitename", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("cluster_id", sa.Integer(), nullable=True),
        sa.Column("relevant", sa.Boolean(), nullable=False),
        sa.Column("relevance_score", sa.Float(), nullable=False),
        sa.Column("relevance_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("matched_topics", sa.JSON(), nullable=True),
        sa.Column("relevance_evidence", sa.JSON(), nullable=True),
        sa.Column("space", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("stage_evidence", sa.JSON(), nullable=True),
        sa.Column("first_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("escalated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["cluster_id"],
            ["story_cluster.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("monitor", "canonical_url"),
    )
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_article_cluster_id"), ["cluster_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_article_escalated_at"), ["escalated_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_article_monitor"), ["monitor"], unique=False)
        batch_op.create_index(batch_op.f("ix_article_relevant"), ["relevant"], unique=False)
        batch_op.create_index(batch_op.f("ix_article_space"), ["space"], unique=False)

    op.create_table(
        "seen_url",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("monitor", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("url_key", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("retryable", sa.Boolean(), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=True),
        sa.Column("first_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_attempt_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["article.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("monitor", "url_key"),
    )
    with op.batch_alter_table("seen_url", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_seen_url_monitor"), ["monitor"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("seen_url", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seen_url_monitor"))

    op.drop_table("seen_url")
    with op.batch_alter_table("article", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_article_space"))
        batch_op.drop_index(batch_op.f("ix_article_relevant"))
        batch_op.drop_index(batch_op.f("ix_article_monitor"))
        batch_op.drop_index(batch_op.f("ix_article_escalated_at"))
        batch_op.drop_index(batch_op.f("ix_article_cluster_id"))

    op.drop_table("article")
    with op.batch_alter_table("alert_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_delivery_alert_id"))

    op.drop_table("alert_delivery")
    with op.batch_alter_table("story_cluster", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_story_cluster_monitor"))

    op.drop_table("story_cluster")
    with op.batch_alter_table("stage_transition", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stage_transition_monitor"))
        batch_op.drop_index(batch_op.f("ix_stage_transition_at"))

    op.drop_table("stage_transition")
    with op.batch_alter_table("source", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_source_monitor"))

    op.drop_table("source")
    with op.batch_alter_table("run_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_record_monitor"))

    op.drop_table("run_record")
    with op.batch_alter_table("fetch_error", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fetch_error_run_id"))
        batch_op.drop_index(batch_op.f("ix_fetch_error_monitor"))
        batch_op.drop_index(batch_op.f("ix_fetch_error_at"))

    op.drop_table("fetch_error")
    op.drop_table("dispute_state")
    with op.batch_alter_table("backfill_slice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_backfill_slice_monitor"))

    op.drop_table("backfill_slice")
    with op.batch_alter_table("alert_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_alert_outbox_status"))
        batch_op.drop_index(batch_op.f("ix_alert_outbox_monitor"))

    op.drop_table("alert_outbox")
