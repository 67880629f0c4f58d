"""The store's schema: one SQLAlchemy Core metadata for SQLite and PostgreSQL.

It covers the whole domain model from the first version, so that features (analysis, agreement,
REFI exchange, privacy, suggestions, assessments, the web workspace) add queries, not tables.
Migrations live in store/migrations (Alembic); a test checks they produce exactly this metadata.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

# Explicit constraint names keep SQLite and PostgreSQL migrations identical.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _timestamps() -> list[Column]:
    return [
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("updated_at", DateTime(timezone=True), nullable=False),
    ]


project = Table(
    "project",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, default=""),
    Column("settings", JSON, nullable=False, default=dict),
    Column("guid", String(36), nullable=False),
    *_timestamps(),
)

cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(100), nullable=False, unique=True),
    Column("label", String(300), nullable=False),
    Column("kind", String(50), nullable=False),
    Column("parent_id", Integer, ForeignKey("cases.id", ondelete="RESTRICT"), index=True),
    Column("description", Text, nullable=False, default=""),
    Column("guid", String(36), nullable=False, unique=True),
    *_timestamps(),
)

# Typed attributes: one definition per name, values per case (REFI "variables").
attributes = Table(
    "attributes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("type", String(20), nullable=False),  # text | integer | float | date | boolean
    Column("guid", String(36), nullable=False, unique=True),
    CheckConstraint("type IN ('text','integer','float','date','boolean')", name="type"),
)

case_attributes = Table(
    "case_attributes",
    metadata,
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "attribute_id", Integer, ForeignKey("attributes.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("value", Text, nullable=False),
)

documents = Table(
    "documents",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(300), nullable=False, unique=True),
    Column("text", Text, nullable=False),
    Column("content_hash", String(64), nullable=False, unique=True),
    Column("source_format", String(20), nullable=False),
    Column("source_path", Text),
    Column("word_count", Integer, nullable=False),
    Column("pseudonymised", Boolean, nullable=False, default=False),
    Column("description", Text, nullable=False, default=""),
    Column("meta", JSON, nullable=False, default=dict),
    Column("guid", String(36), nullable=False, unique=True),
    *_timestamps(),
)

document_cases = Table(
    "document_cases",
    metadata,
    Column(
        "document_id", Integer, ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
)

speaker_turns = Table(
    "speaker_turns",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("document_id", Integer, ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    Column("idx", Integer, nullable=False),
    Column("speaker", String(200), nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    UniqueConstraint("document_id", "idx", name="uq_speaker_turns_document_idx"),
    CheckConstraint('"start" < "end"', name="range"),
)

# Transcribed recordings (caseframe transcribe): each passage's place in the audio, in
# milliseconds, beside its character range; the audio itself is a file beside the project
# (SQLite) or stored in blocks in the database (PostgreSQL), one recording per document.
timed_segments = Table(
    "timed_segments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("document_id", Integer, ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    Column("idx", Integer, nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("start_ms", Integer, nullable=False),
    Column("end_ms", Integer, nullable=False),
    UniqueConstraint("document_id", "idx", name="uq_timed_segments_document_idx"),
    CheckConstraint('"start" < "end"', name="range"),
    CheckConstraint("start_ms >= 0 AND start_ms <= end_ms", name="times"),
)

media = Table(
    "media",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "document_id",
        Integer,
        ForeignKey("documents.id", ondelete="CASCADE"),
        nullable=False,
        unique=True,
    ),
    Column("name", String(300), nullable=False),  # the recording's file name
    Column("mime_type", String(100), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("duration_ms", Integer, nullable=False),
    Column("location", String(10), nullable=False),  # file | store
    Column("path", Text),  # relative to the project folder when location = file
    Column("guid", String(36), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("location IN ('file','store')", name="location"),
)

media_blocks = Table(
    "media_blocks",
    metadata,
    Column("media_id", Integer, ForeignKey("media.id", ondelete="CASCADE"), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),
)

meaning_units = Table(
    "meaning_units",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("document_id", Integer, ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    Column("scheme", String(20), nullable=False),
    Column("idx", Integer, nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("speaker", String(200)),
    Column("external_id", String(200)),  # the id a coded-segment dataset gave the unit
    Column("split", String(10)),  # train | test, for suggestion benchmarks
    UniqueConstraint("document_id", "scheme", "idx", name="uq_meaning_units_doc_scheme_idx"),
    CheckConstraint('"start" < "end"', name="range"),
)

frameworks = Table(
    "frameworks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("key", String(50), nullable=False, unique=True),
    Column("name", String(300), nullable=False),
    Column("version", String(50), nullable=False),
    Column("builtin", Boolean, nullable=False),
    Column("spec", JSON, nullable=False),  # the whole parsed definition (scale, levels, citation)
    *_timestamps(),
)

framework_components = Table(
    "framework_components",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "framework_id", Integer, ForeignKey("frameworks.id", ondelete="CASCADE"), nullable=False
    ),
    Column("key", String(50), nullable=False),
    Column("name", String(300), nullable=False),
    Column("level", String(200), nullable=False),
    Column("kind", String(30), nullable=False),
    Column("parent_key", String(50)),
    Column("definition", Text, nullable=False, default=""),
    Column("questions", JSON, nullable=False, default=list),
    Column("keywords", JSON, nullable=False, default=list),
    Column("examples", JSON, nullable=False, default=list),
    Column("position", Integer, nullable=False, default=0),
    UniqueConstraint("framework_id", "key", name="uq_framework_components_fw_key"),
)

codes = Table(
    "codes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(300), nullable=False),
    Column("parent_id", Integer, ForeignKey("codes.id", ondelete="RESTRICT"), index=True),
    Column("kind", String(30)),  # theme | main_category | category | code
    Column("origin", String(20), nullable=False),  # deductive | inductive
    Column(
        "component_id",
        Integer,
        ForeignKey("framework_components.id", ondelete="SET NULL"),
    ),  # provenance of a deductive code
    Column("description", Text, nullable=False, default=""),
    Column("color", String(9)),
    Column("position", Integer, nullable=False, default=0),
    Column("version", Integer, nullable=False, default=1),  # optimistic locking of tree edits
    Column("meta", JSON, nullable=False, default=dict),  # examples, keywords (for suggestions)
    Column("guid", String(36), nullable=False, unique=True),
    *_timestamps(),
)
# Sibling names are unique; top-level names too (NULL parent needs its own index).
Index("uq_codes_sibling_name", codes.c.parent_id, codes.c.name, unique=True)
Index(
    "uq_codes_root_name",
    codes.c.name,
    unique=True,
    sqlite_where=codes.c.parent_id.is_(None),
    postgresql_where=codes.c.parent_id.is_(None),
)

# Inductive categories mapped onto framework components (many-to-many).
code_mappings = Table(
    "code_mappings",
    metadata,
    Column("code_id", Integer, ForeignKey("codes.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "component_id",
        Integer,
        ForeignKey("framework_components.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)

coders = Table(
    "coders",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("kind", String(20), nullable=False),  # human | machine
    Column("guid", String(36), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

codings = Table(
    "codings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("document_id", Integer, ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("code_id", Integer, ForeignKey("codes.id", ondelete="RESTRICT"), nullable=False),
    Column("coder_id", Integer, ForeignKey("coders.id", ondelete="RESTRICT"), nullable=False),
    Column("meaning_unit_id", Integer, ForeignKey("meaning_units.id", ondelete="SET NULL")),
    Column("valence", String(20)),
    Column("strength", Integer),
    Column("memo", Text),
    Column("score", Float),  # machine suggestions
    Column("status", String(20), nullable=False, default="final"),
    Column("guid", String(36), nullable=False, unique=True),
    Column("selection_guid", String(36)),  # REFI selection this coding came from / goes to
    *_timestamps(),
    UniqueConstraint(
        "document_id", "start", "end", "code_id", "coder_id", name="uq_codings_segment_code_coder"
    ),
    CheckConstraint('"start" >= 0 AND "start" < "end"', name="range"),
    CheckConstraint(
        "valence IS NULL OR valence IN ('facilitator','barrier','mixed')", name="valence"
    ),
    CheckConstraint("strength IS NULL OR strength IN (1, 2)", name="strength"),
    CheckConstraint("status IN ('final','suggested','accepted','rejected')", name="status"),
)
Index("ix_codings_code_coder", codings.c.code_id, codings.c.coder_id)
Index("ix_codings_document", codings.c.document_id, codings.c.start)

# What a machine method said beside a suggestion (a coding of a machine coder): the model and
# prompt version, the time it took, the code's threshold and cross-validated κ, and the reasons.
# Reasons hold no text, so pseudonymising a document leaves nothing behind here: `phrases` are
# [start, end] offsets into the unit (valid while the coding keeps `unit_length`), `similar` are
# ids of meaning units people coded with the same code.
suggestion_details = Table(
    "suggestion_details",
    metadata,
    Column("coding_id", Integer, ForeignKey("codings.id", ondelete="CASCADE"), primary_key=True),
    Column("model", String(200)),
    Column("prompt_version", String(40)),
    Column("seconds", Float),
    Column("threshold", Float),
    Column("code_kappa", Float),
    Column("phrases", JSON),
    Column("similar", JSON),
    Column("unit_length", Integer),
)

# Which coder has coded which document in full: a coder who applied no code to a unit of such a
# document said "no code here" (needed for agreement; FORMATS.md semantics).
coder_documents = Table(
    "coder_documents",
    metadata,
    Column("coder_id", Integer, ForeignKey("coders.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "document_id", Integer, ForeignKey("documents.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("status", String(20), nullable=False, default="done"),  # assigned | done
)

# A coder's role in agreement: independent coders are compared by default; reference (a gold
# standard) and consensus coders only when named. No row means independent.
coder_roles = Table(
    "coder_roles",
    metadata,
    Column("coder_id", Integer, ForeignKey("coders.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(20), nullable=False),
    CheckConstraint("role IN ('independent','reference','consensus')", name="role"),
)

# What a consensus coder decided per (unit, code), by whom, why (note), and the coding it made:
# a consensus coding traces back to its decision. One current decision per unit span and code.
consensus_decisions = Table(
    "consensus_decisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("coder_id", Integer, ForeignKey("coders.id", ondelete="CASCADE"), nullable=False),
    Column("document_id", Integer, ForeignKey("documents.id", ondelete="CASCADE"), nullable=False),
    Column("meaning_unit_id", Integer, ForeignKey("meaning_units.id", ondelete="SET NULL")),
    Column("start", Integer, nullable=False),
    Column("end", Integer, nullable=False),
    Column("code_id", Integer, ForeignKey("codes.id", ondelete="CASCADE"), nullable=False),
    Column("applied", Boolean, nullable=False),
    Column("action", String(20), nullable=False),  # accept|both|neither|other|apply|skip|rule
    Column("source", String(200)),  # the accepted coder, the other code, or the rule
    Column("note", Text, nullable=False, default=""),
    Column("coders", JSON, nullable=False, default=dict),  # coder -> applied it (at the time)
    Column("coding_id", Integer, ForeignKey("codings.id", ondelete="SET NULL"), index=True),
    Column("decided_by", String(200), nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint(
        "coder_id", "document_id", "start", "end", "code_id", name="uq_consensus_decisions_unit"
    ),
    CheckConstraint(
        "action IN ('accept','both','neither','other','apply','skip','rule')", name="action"
    ),
)

memos = Table(
    "memos",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("target_type", String(20), nullable=False),  # project | document | case | code | coding
    Column("target_id", Integer),
    Column("title", String(300)),
    Column("text", Text, nullable=False),
    Column("author", String(200)),
    Column("guid", String(36), nullable=False, unique=True),
    *_timestamps(),
    CheckConstraint(
        "target_type IN ('project','document','case','code','coding')", name="target_type"
    ),
)
Index("ix_memos_target", memos.c.target_type, memos.c.target_id)

# REFI "sets": named groups of documents or codes.
sets = Table(
    "sets",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(300), nullable=False, unique=True),
    Column("description", Text, nullable=False, default=""),
    Column("guid", String(36), nullable=False, unique=True),
)

set_members = Table(
    "set_members",
    metadata,
    Column("set_id", Integer, ForeignKey("sets.id", ondelete="CASCADE"), primary_key=True),
    Column("member_type", String(20), primary_key=True),  # document | code
    Column("member_id", Integer, primary_key=True),
)

assessments = Table(
    "assessments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column(
        "component_id",
        Integer,
        ForeignKey("framework_components.id", ondelete="RESTRICT"),
        nullable=False,
    ),
    Column("rater_id", Integer, ForeignKey("coders.id", ondelete="RESTRICT"), nullable=False),
    Column("assessed_on", Date, nullable=False),
    Column("rating", Integer),
    Column("note", Text, nullable=False, default=""),
    Column("status", String(20), nullable=False, default="rating"),  # rating|suggested|consensus
    *_timestamps(),
    UniqueConstraint(
        "case_id",
        "component_id",
        "rater_id",
        "assessed_on",
        "status",
        name="uq_assessments_one_rating",
    ),
)

assessment_evidence = Table(
    "assessment_evidence",
    metadata,
    Column(
        "assessment_id", Integer, ForeignKey("assessments.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("coding_id", Integer, ForeignKey("codings.id", ondelete="CASCADE"), primary_key=True),
)

# Framework-matrix summaries (Framework Method charting): one per (row case, column code).
matrix_summaries = Table(
    "matrix_summaries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("code_id", Integer, ForeignKey("codes.id", ondelete="CASCADE"), nullable=False),
    Column("text", Text, nullable=False),
    Column("author", String(200)),
    Column("evidence_fingerprint", String(64), nullable=False),  # hash of the linked codings
    *_timestamps(),
    UniqueConstraint("case_id", "code_id", name="uq_matrix_summaries_case_code"),
)

matrix_summary_codings = Table(
    "matrix_summary_codings",
    metadata,
    Column(
        "summary_id",
        Integer,
        ForeignKey("matrix_summaries.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("coding_id", Integer, ForeignKey("codings.id", ondelete="CASCADE"), primary_key=True),
)

# Web workspace: accounts, roles and the audit log.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(20)),  # owner | coder | viewer | NULL (no role in this project)
    Column("coder_id", Integer, ForeignKey("coders.id", ondelete="SET NULL")),
    Column("active", Boolean, nullable=False, default=True),
    *_timestamps(),
    CheckConstraint("role IS NULL OR role IN ('owner','coder','viewer')", name="role"),
)

# Signed-in sessions of the web workspace (issue 13). Only a SHA-256 hash of the session's
# token is kept, so a copy of the store does not sign anyone in. Timeouts are worked out from
# the times when a session is read; `ended_at` is set when it is ended on purpose.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column(
        "user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True
    ),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("last_seen_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Column("ended_reason", String(50)),
    Column("client", String(100), nullable=False),
    Column("user_agent", String(300), nullable=False),
)

# Failed sign-ins, counted per client address and user name by every web worker.
sign_in_failures = Table(
    "sign_in_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("client", String(100), nullable=False),
    Column("name", String(200), nullable=False),  # case-folded
)
Index("ix_sign_in_failures_client_at", sign_in_failures.c.client, sign_in_failures.c.at)

audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("action", String(50), nullable=False),
    Column("entity_type", String(50), nullable=False),
    Column("entity_id", String(100)),
    Column("before", JSON),
    Column("after", JSON),
)
Index("ix_audit_log_at", audit_log.c.at)

# Per-project key/value state that features need to persist (e.g. active-learning seeds).
settings = Table(
    "settings",
    metadata,
    Column("key", String(100), primary_key=True),
    Column("value", JSON, nullable=False),
)
