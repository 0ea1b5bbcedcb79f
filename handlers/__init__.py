"""What the bot does, platform-neutral: the conversation engine and one module per journey.

handlers/ never imports a platform SDK: channels hand it an :class:`Inbound` and render
the :class:`Reply` objects it returns.
"""

from __future__ import annotations

from handlers.circles.answers import expire_circles
from handlers.circles.formation import CirclePlan, PlannedCircle
from handlers.circles.lapses import remind_lapsing_circles
from handlers.circles.review import (
    approve_circles,
    circle_round_data,
    how_close,
    plan_circle_round,
)
from handlers.commands import build_engine, greeting, home, welcome
from handlers.core.archived import recall_archived_circles
from handlers.core.audit import entries, record
from handlers.core.engine import Engine, FormResult, TurnResult
from handlers.core.errors import (
    FORM_FAILED,
    TURN_FAILED,
    InvalidAnswer,
    MentorbotError,
    NotALead,
    UserError,
    error_type,
    log_failure,
)
from handlers.core.figures import (
    Chart,
    Point,
    Report,
    Table,
    as_csv,
    as_json,
    as_text,
    cell_text,
    numeric_columns,
    shown_series,
    table_csv,
)
from handlers.core.messages import (
    Action,
    Attachment,
    Form,
    Inbound,
    Option,
    PersonProfile,
    Prompt,
    PromptKind,
    Reply,
    Submission,
    plural,
)
from handlers.core.outbox import (
    backlog,
    count_by_status,
    delivered,
    enqueue,
    expire_messages,
    failed_messages,
    take_waiting,
    unreachable_people,
)
from handlers.core.ports import (
    Clock,
    FixedClock,
    GroupPlace,
    GroupSender,
    Recipient,
    Sender,
    SystemClock,
    TransientDeliveryError,
    Unreachable,
    group_sender,
)
from handlers.core.program import (
    Meaning,
    Program,
    ProgramType,
    Question,
    QuestionType,
)
from handlers.core.program_file import (
    Location,
    Problem,
    ProgramFile,
    check_file,
    program_notes,
    resolve,
)
from handlers.core.programs import Programs
from handlers.core.refs import NotASelection, option_index, parse_ref, parse_selection
from handlers.cycle.batch import CycleReport
from handlers.cycle.due_pass import process_due
from handlers.cycle.pause import resume_due_pauses
from handlers.cycle.schedule import DueWork
from handlers.intake.form import INTAKE_FORM, intake_target
from handlers.matching.by_hand import LeadResult, lift_exclusion, one_person, pair_by_hand
from handlers.matching.lapses import expire_proposals, remind_lapsing
from handlers.matching.review import approve, plan_round, remember_round, round_data
from handlers.matching.waitlist import waitlist_positions
from handlers.people.directory import CsvFormatError, find_or_create_person, import_people, is_email
from handlers.people.eligibility import Facts, rules_verdict
from handlers.people.erasure import forget_person
from handlers.people.invitations import InviteResult, invite_people
from handlers.people.privacy import export_person
from handlers.people.retention import expire_notes
from handlers.reports.catalogue import CATALOGUE, run_report, stored_program
from handlers.reports.standing import Standing, standings
from handlers.sessions.summaries import (
    Owner,
    Summarizer,
    Summary,
    SummaryContext,
    SummaryError,
    SummaryUnavailable,
    both_sides_notes,
    chat_messages,
    gave_up_reply,
    parse_summary,
    redact,
    summary_reply,
)

__all__ = [
    "CATALOGUE",
    "FORM_FAILED",
    "INTAKE_FORM",
    "TURN_FAILED",
    "Action",
    "Attachment",
    "Chart",
    "CirclePlan",
    "Clock",
    "CsvFormatError",
    "CycleReport",
    "DueWork",
    "Engine",
    "Facts",
    "FixedClock",
    "Form",
    "FormResult",
    "GroupPlace",
    "GroupSender",
    "Inbound",
    "InvalidAnswer",
    "InviteResult",
    "LeadResult",
    "Location",
    "Meaning",
    "MentorbotError",
    "NotALead",
    "NotASelection",
    "Option",
    "Owner",
    "PersonProfile",
    "PlannedCircle",
    "Point",
    "Problem",
    "Program",
    "ProgramFile",
    "ProgramType",
    "Programs",
    "Prompt",
    "PromptKind",
    "Question",
    "QuestionType",
    "Recipient",
    "Reply",
    "Report",
    "Sender",
    "Standing",
    "Submission",
    "Summarizer",
    "Summary",
    "SummaryContext",
    "SummaryError",
    "SummaryUnavailable",
    "SystemClock",
    "Table",
    "TransientDeliveryError",
    "TurnResult",
    "Unreachable",
    "UserError",
    "approve",
    "approve_circles",
    "as_csv",
    "as_json",
    "as_text",
    "backlog",
    "both_sides_notes",
    "build_engine",
    "cell_text",
    "chat_messages",
    "check_file",
    "circle_round_data",
    "count_by_status",
    "delivered",
    "enqueue",
    "entries",
    "error_type",
    "expire_circles",
    "expire_messages",
    "expire_notes",
    "expire_proposals",
    "export_person",
    "failed_messages",
    "find_or_create_person",
    "forget_person",
    "gave_up_reply",
    "greeting",
    "group_sender",
    "home",
    "how_close",
    "import_people",
    "intake_target",
    "invite_people",
    "is_email",
    "lift_exclusion",
    "log_failure",
    "numeric_columns",
    "one_person",
    "option_index",
    "pair_by_hand",
    "parse_ref",
    "parse_selection",
    "parse_summary",
    "plan_circle_round",
    "plan_round",
    "plural",
    "process_due",
    "program_notes",
    "recall_archived_circles",
    "record",
    "redact",
    "remember_round",
    "remind_lapsing",
    "remind_lapsing_circles",
    "resolve",
    "resume_due_pauses",
    "round_data",
    "rules_verdict",
    "run_report",
    "shown_series",
    "standings",
    "stored_program",
    "summary_reply",
    "table_csv",
    "take_waiting",
    "unreachable_people",
    "waitlist_positions",
    "welcome",
]
