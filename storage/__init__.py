"""Storage: SQLModel tables, the async engine, queries and Alembic migrations.

The lowest layer: it imports nothing from the rest of mentorbot.
"""

from storage.database import (
    DEFAULT_DATABASE_URL,
    Database,
    SchemaOutOfDate,
    StorageError,
)
from storage.models import (
    OPEN_PAIRING,
    ConversationRef,
    ConversationState,
    DueItem,
    DueKind,
    DueStatus,
    Enrollment,
    EnrollmentStatus,
    Feedback,
    FeedbackStatus,
    Milestone,
    MilestoneStatus,
    Outbox,
    OutboxStatus,
    Pairing,
    PairingStatus,
    Person,
    PlatformAccount,
    ProcessedEvent,
    Role,
    SessionLog,
    SummaryStatus,
)

__all__ = [
    "DEFAULT_DATABASE_URL",
    "OPEN_PAIRING",
    "ConversationRef",
    "ConversationState",
    "Database",
    "DueItem",
    "DueKind",
    "DueStatus",
    "Enrollment",
    "EnrollmentStatus",
    "Feedback",
    "FeedbackStatus",
    "Milestone",
    "MilestoneStatus",
    "Outbox",
    "OutboxStatus",
    "Pairing",
    "PairingStatus",
    "Person",
    "PlatformAccount",
    "ProcessedEvent",
    "Role",
    "SchemaOutOfDate",
    "SessionLog",
    "StorageError",
    "SummaryStatus",
]
