"""Loading the program file and the environment into typed settings.

Every problem in a program file becomes one line that says where it is (file, line, the
path of the setting) and what would fix it, the same for ``mentorbot check-config`` and
for any command that starts with a bad file.
"""

from __future__ import annotations

import copy as copy_module
import difflib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from handlers import (
    Clock,
    FixedClock,
    Location,
    Problem,
    ProgramFile,
    Programs,
    SystemClock,
    check_file,
    program_notes,
    resolve,
)
from storage import DEFAULT_DATABASE_URL

DEFAULT_CONFIG_PATH = "./app.yaml"
#: Where the shell writes the files it is sent (meeting invites).
DEFAULT_FILES_DIR = "./mentorbot-files"


class ProgramFileError(Exception):
    """A program file that cannot be used; ``lines`` holds one message per problem."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = lines


@dataclass(frozen=True)
class Environment:
    """The settings that come from environment variables (see DESIGN.md).

    Secrets are excluded from repr so that logging a settings object cannot leak them.
    """

    database_url: str = field(repr=False)
    config_path: str
    slack_bot_token: str | None = field(default=None, repr=False)
    slack_signing_secret: str | None = field(default=None, repr=False)
    slack_app_token: str | None = field(default=None, repr=False)
    slack_api_url: str | None = None
    teams_app_id: str | None = None
    teams_app_password: str | None = field(default=None, repr=False)
    teams_tenant_id: str | None = None
    teams_app_type: str | None = None
    teams_allow_unauthenticated: bool = False
    teams_openid_metadata_url: str | None = None
    #: Microsoft 365 tenants served besides ``teams_tenant_id`` (lower case).
    teams_tenants: frozenset[str] = frozenset()
    #: Serve every tenant: an explicit opt-in, since anyone with Teams could then enrol.
    teams_any_tenant: bool = False
    tick_seconds: float = 30.0
    #: Summaries of session notes: any OpenAI-compatible server; no key, no summaries.
    openai_api_key: str | None = field(default=None, repr=False)
    openai_base_url: str | None = None
    summary_model: str | None = None
    #: ``MENTORBOT_NOW``: the instant every command takes as "now", or None for the real clock.
    fixed_now: datetime | None = None
    #: ``MENTORBOT_PUBLIC_URL``: the bot's public base URL (calendar feed links), or None.
    public_url: str | None = None
    #: ``MENTORBOT_FILES_DIR``: where the shell writes the files it is sent.
    files_dir: str = DEFAULT_FILES_DIR

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Environment:
        """Read the environment (``os.environ`` unless another mapping is given).

        Raises:
            SettingsError: a variable has a value that cannot work.
        """
        env = os.environ if environ is None else environ
        tick = env.get("MENTORBOT_TICK_SECONDS") or "30"
        try:
            tick_seconds = float(tick)
        except ValueError:
            raise SettingsError(
                f"MENTORBOT_TICK_SECONDS={tick!r} is not a number of seconds (e.g. 30)"
            ) from None
        if not 1 <= tick_seconds <= 3600:
            raise SettingsError("MENTORBOT_TICK_SECONDS must be between 1 and 3600")
        return cls(
            database_url=env.get("MENTORBOT_DATABASE_URL") or DEFAULT_DATABASE_URL,
            config_path=env.get("MENTORBOT_CONFIG") or DEFAULT_CONFIG_PATH,
            slack_bot_token=env.get("SLACK_BOT_TOKEN") or None,
            slack_signing_secret=env.get("SLACK_SIGNING_SECRET") or None,
            slack_app_token=env.get("SLACK_APP_TOKEN") or None,
            slack_api_url=env.get("SLACK_API_URL") or None,
            teams_app_id=env.get("MicrosoftAppId") or None,
            teams_app_password=env.get("MicrosoftAppPassword") or None,
            teams_tenant_id=env.get("MicrosoftAppTenantId") or None,
            teams_app_type=env.get("MicrosoftAppType") or None,
            teams_allow_unauthenticated=env.get("MENTORBOT_TEAMS_ALLOW_UNAUTHENTICATED") == "1",
            teams_openid_metadata_url=env.get("MENTORBOT_TEAMS_OPENID_METADATA_URL") or None,
            teams_tenants=parse_tenants(env.get("MENTORBOT_TEAMS_TENANTS") or ""),
            teams_any_tenant=env.get("MENTORBOT_TEAMS_ANY_TENANT") == "1",
            tick_seconds=tick_seconds,
            openai_api_key=env.get("OPENAI_API_KEY") or None,
            openai_base_url=env.get("OPENAI_BASE_URL") or None,
            summary_model=env.get("MENTORBOT_SUMMARY_MODEL") or None,
            fixed_now=parse_now(env.get("MENTORBOT_NOW") or ""),
            public_url=parse_public_url(env.get("MENTORBOT_PUBLIC_URL") or ""),
            files_dir=env.get("MENTORBOT_FILES_DIR") or DEFAULT_FILES_DIR,
        )

    def clock(self) -> Clock:
        """Where every command takes time from: ``MENTORBOT_NOW`` when set, else the real clock."""
        return FixedClock(self.fixed_now) if self.fixed_now is not None else SystemClock()

    def teams_problem(self, host: str, *, loopback: bool) -> str | None:
        """Why the Teams settings cannot work on this host, or None."""
        if bool(self.teams_app_id) != bool(self.teams_app_password):
            missing = "MicrosoftAppPassword" if self.teams_app_id else "MicrosoftAppId"
            return f"Teams needs both MicrosoftAppId and MicrosoftAppPassword; {missing} is unset"
        app_type = (self.teams_app_type or "MultiTenant").lower()
        if app_type not in ("multitenant", "singletenant", "usermanagedidentity"):
            return (
                f"MicrosoftAppType={self.teams_app_type!r} is not one of MultiTenant, "
                "SingleTenant, UserManagedIdentity"
            )
        if app_type == "singletenant" and not self.teams_tenant_id:
            return "MicrosoftAppType=SingleTenant needs MicrosoftAppTenantId"
        if self.teams_allow_unauthenticated and not self.teams_app_id and not loopback:
            return (
                f"MENTORBOT_TEAMS_ALLOW_UNAUTHENTICATED=1 accepts Teams requests without a token, "
                f"which is only safe on a loopback address; refusing to listen on {host}. Bind "
                "to 127.0.0.1 (the default) or set MicrosoftAppId and MicrosoftAppPassword."
            )
        if (
            self.teams_on
            and not self.teams_tenant_id
            and not self.teams_tenants
            and not self.teams_any_tenant
        ):
            # Without an allow-list any Microsoft 365 tenant could talk to the bot, and a
            # stranger whose roster email reads as a colleague's would be taken for them.
            return (
                "Teams serves no tenant: set MicrosoftAppTenantId or MENTORBOT_TEAMS_TENANTS "
                "(comma-separated tenant ids), or MENTORBOT_TEAMS_ANY_TENANT=1 to serve every "
                "Microsoft 365 tenant"
            )
        return None

    @property
    def teams_on(self) -> bool:
        """Whether /api/messages answers (with an app id, or unauthenticated for local use)."""
        return bool(self.teams_app_id) or self.teams_allow_unauthenticated

    def slack_problem(self) -> str | None:
        """Why Slack is half-configured, or None when it is fully on or fully off."""
        token, secret = self.slack_bot_token, self.slack_signing_secret
        if bool(token) != bool(secret):
            missing = "SLACK_SIGNING_SECRET" if token else "SLACK_BOT_TOKEN"
            return f"Slack needs both SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET; {missing} is unset"
        if token and not token.startswith("xoxb-"):
            return "SLACK_BOT_TOKEN should be a bot token starting with xoxb-"
        if self.slack_app_token and not self.slack_app_token.startswith("xapp-"):
            return "SLACK_APP_TOKEN should be an app-level token starting with xapp-"
        return None


def parse_tenants(text: str) -> frozenset[str]:
    """The tenant ids in a comma-separated list, in lower case; blanks and empty items dropped.

    Args:
        text: ``MENTORBOT_TEAMS_TENANTS``, e.g. ``"72f988bf-..., 9188040d-..."``.
    """
    return frozenset(item.strip().lower() for item in text.split(",") if item.strip())


def parse_public_url(text: str) -> str | None:
    """``MENTORBOT_PUBLIC_URL`` without a trailing slash, or None when unset.

    Raises:
        SettingsError: it is not an http(s) address.
    """
    text = text.strip()
    if not text:
        return None
    if not re.fullmatch(r"https?://[^\s/?#]+(/[^\s?#]*)?", text):
        raise SettingsError(
            f"MENTORBOT_PUBLIC_URL={text!r} is not a web address; write the address people "
            "reach the bot at, e.g. https://mentorbot.example.com"
        )
    return text.rstrip("/")


def parse_now(text: str) -> datetime | None:
    """``MENTORBOT_NOW`` as an aware instant (UTC when no offset is given), or None when unset.

    Args:
        text: The variable's value, e.g. ``"2026-12-01T09:30"`` or ``"2026-12-01T09:30+01:00"``.

    Raises:
        SettingsError: the value is not an ISO-8601 time.
    """
    text = text.strip()
    if not text:
        return None
    moment = parse_instant(text)
    if moment is None:
        raise SettingsError(
            f"MENTORBOT_NOW={text!r} is not an ISO-8601 time; write e.g. {INSTANT_EXAMPLES}, "
            "or unset it for the real clock"
        )
    return moment


#: Examples of an instant, for the messages that refuse one.
INSTANT_EXAMPLES = "2026-12-01T09:30 or 2026-12-01T09:30+01:00"


def parse_instant(text: str) -> datetime | None:
    """An ISO-8601 instant (UTC when it names no offset), or None when it is not one.

    For MENTORBOT_NOW and ``run-due --now``.
    """
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class SettingsError(Exception):
    """An environment variable that cannot work; the message says which and why."""


def load_programs(path: str | Path) -> Programs:
    """Read, validate and resolve a program file.

    Raises:
        ProgramFileError: the file is missing, not YAML, or not a valid program.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProgramFileError(
            [f"{path}: no such file; point MENTORBOT_CONFIG at your program file"]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProgramFileError([f"{path}: cannot read the file ({exc})"]) from None
    return parse_programs(text, source=str(path))


def check_program_file(path: str | Path) -> tuple[Programs, list[str]]:
    """Load a program file as :func:`load_program` does, with notes on what was adjusted.

    Returns:
        The program, and one located line per note (e.g. weights that were scaled).

    Raises:
        ProgramFileError: the file is missing, not YAML, or not a valid program.
    """
    path = Path(path)
    programs = load_programs(path)
    # The file was just read successfully; reading it again for locations is cheap.
    text = path.read_text(encoding="utf-8")
    root, data = _read_yaml(text)
    file = ProgramFile.model_validate(data)
    return programs, _format(program_notes(file), root, str(path))


#: libyaml's parser where PyYAML has it (its wheels do): the same documents and errors,
#: several times faster than the pure-Python one on a program file.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _read_yaml(text: str) -> tuple[yaml.Node | None, Any]:
    """The YAML text's node tree (for line numbers) and its data, from one parse.

    Text libyaml refuses is read again by the pure-Python parser, whose errors point at
    the line to fix and name what is wrong there (a tab, say) more precisely.
    """
    try:
        return _parse(_LOADER, text)
    except yaml.YAMLError:
        if _LOADER is yaml.SafeLoader:
            raise
        return _parse(yaml.SafeLoader, text)


def _parse(loader_class: type[yaml.SafeLoader], text: str) -> tuple[yaml.Node | None, Any]:
    loader = loader_class(text)
    try:
        root = loader.get_single_node()
        return root, loader.construct_document(root) if root is not None else None
    finally:
        loader.dispose()


def parse_programs(text: str, *, source: str = "app.yaml") -> Programs:
    """Validate program-file text; see :func:`load_program`."""
    try:
        root, data = _read_yaml(text)
    except yaml.MarkedYAMLError as exc:
        raise ProgramFileError([_yaml_problem(exc, text, source)]) from None
    except yaml.YAMLError as exc:
        raise ProgramFileError([f"{source}: not valid YAML: {exc}"]) from None
    if data is None:
        raise ProgramFileError([f"{source}: the file is empty; start from the shipped app.yaml"])
    if not isinstance(data, dict):
        raise ProgramFileError(
            [f"{source}:1: the file must be a mapping of settings (program:, competencies:, ...)"]
        )
    try:
        file = ProgramFile.model_validate(data)
    except ValidationError as exc:
        problems = [_from_pydantic(error) for error in exc.errors()]
        problems += _cross_field_problems_despite(data, exc, already=problems)
        raise ProgramFileError(_format(problems, root, source)) from None
    problems = check_file(file)
    if problems:
        raise ProgramFileError(_format(problems, root, source))
    return resolve(file)


def _cross_field_problems_despite(
    data: dict[str, Any], exc: ValidationError, *, already: list[Problem]
) -> list[Problem]:
    """The cross-field problems of a file that also has schema errors.

    So that one pass of ``check-config`` shows everything (a bad question type *and* a
    choice question with no options), the settings the schema refused are cut out of a
    copy of the file until the rest validates, and :func:`check_program` runs on that.
    Problems at or around a cut-out setting are dropped: they could be artefacts of the
    cut (e.g. "no competencies question" when it is that question whose type was wrong).
    """
    copy = copy_module.deepcopy(data)
    # Where each list's surviving items were in the file, keyed by the list's own path.
    origins: dict[Location, list[int]] = {}
    cut: list[Location] = []
    errors = exc.errors()
    for _ in range(50):
        for error in errors:
            loc = _real_loc(tuple(error["loc"]))
            if error["type"] == "missing" or (
                error["type"] == "too_short" and not _exists(copy, loc)
            ):
                loc = loc[:-1]  # a required setting: cut what holds it
            if not _cut(copy, loc, origins, cut):
                return []
        try:
            file = ProgramFile.model_validate(copy)
        except ValidationError as again:
            errors = again.errors()
            continue
        break
    else:
        return []
    seen = {p.loc for p in already}
    found = []
    for problem in check_file(file):
        loc = _original(problem.loc, origins)
        near = any(loc[: len(c)] == c or c[: len(loc)] == loc for c in cut)
        if not near and loc not in seen:
            found.append(Problem(loc=loc, message=problem.message))
    return found


def _real_loc(loc: tuple[Any, ...]) -> Location:
    # Pydantic names union members as path parts ("list[str]", "literal[...]"); drop them.
    return tuple(
        p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("literal")))
    )


_ABSENT = object()


def _at(data: Any, loc: Location) -> Any:
    """The value at ``loc`` in parsed YAML, or ``_ABSENT``."""
    node = data
    for part in loc:
        if isinstance(node, list) and isinstance(part, int):
            node = node[part] if 0 <= part < len(node) else _ABSENT
        else:
            node = node.get(part, _ABSENT) if isinstance(node, dict) else _ABSENT
        if node is _ABSENT:
            break
    return node


def _exists(data: Any, loc: Location) -> bool:
    return _at(data, loc) is not _ABSENT


def _cut(data: Any, loc: Location, origins: dict[Location, list[int]], cut: list[Location]) -> bool:
    """Remove the setting at ``loc`` (in the copy's current indices); False at the root."""
    if not loc:
        return False
    parent = _at(data, loc[:-1])
    if parent is _ABSENT:
        return True  # already cut with something that held it
    last = loc[-1]
    original = _original(loc, origins)
    if isinstance(parent, dict) and last in parent:
        del parent[last]
    elif isinstance(parent, list) and isinstance(last, int) and 0 <= last < len(parent):
        list_loc = _original(loc[:-1], origins)
        indices = origins.setdefault(list_loc, list(range(len(parent))))
        del parent[last]
        del indices[last]
    else:
        return True
    cut.append(original)
    return True


def _original(loc: Location, origins: dict[Location, list[int]]) -> Location:
    """A location in the cut-down copy, as it is in the file."""
    result: list[str | int] = []
    for part in loc:
        indices = origins.get(tuple(result))
        if isinstance(part, int) and indices is not None and part < len(indices):
            part = indices[part]
        result.append(part)
    return tuple(result)


def _yaml_problem(exc: yaml.MarkedYAMLError, text: str, source: str) -> str:
    """One line locating a YAML syntax error at the line that is broken.

    PyYAML marks the token where it gave up, which is often a line after the mistake: an
    unclosed ``[`` is noticed at the next ``key:``, an over-indented line at the line
    after it. Point at the line a person has to fix instead.
    """
    mark, context = exc.problem_mark, exc.context_mark
    problem = exc.problem or str(exc)
    if mark is None:
        return f"{source}: not valid YAML: {problem}; check indentation and quoting"
    lines = text.splitlines()
    if context is not None and (exc.context or "").startswith("while parsing a flow"):
        # The bracket opened on the context line was never closed.
        opener = "[" if "sequence" in (exc.context or "") else "{"
        closer = "]" if opener == "[" else "}"
        return (
            f"{source}:{context.line + 1}:{context.column + 1}: not valid YAML: this "
            f"{opener} is not closed; add the {closer} at the end of the list"
        )
    if "'\\t'" in problem:
        return (
            f"{source}:{mark.line + 1}:{mark.column + 1}: not valid YAML: a tab character; "
            "YAML indents with spaces only"
        )
    if problem.startswith("expected <block end>"):
        # A line indented differently from the one before it: the odd line comes before
        # the token PyYAML stopped at (the first line back that is indented more deeply).
        here = mark.line
        indent = mark.column
        for number in range(here - 1, -1, -1):
            line = lines[number] if number < len(lines) else ""
            stripped = line.lstrip(" ")
            if not stripped or stripped.startswith("#"):
                continue
            if len(line) - len(stripped) > indent:
                return (
                    f"{source}:{number + 1}:{len(line) - len(stripped) + 1}: not valid YAML: "
                    f"this line is indented differently from line {here + 1}; check "
                    "indentation"
                )
            break
    return (
        f"{source}:{mark.line + 1}:{mark.column + 1}: not valid YAML: {problem}; "
        "check indentation and quoting"
    )


def _format(problems: list[Problem], root: yaml.Node | None, source: str) -> list[str]:
    lines = []
    for problem in problems:
        line = _line_of(root, problem.loc)
        where = f"{source}:{line}" if line else source
        path = _dotted(problem.loc)
        lines.append(
            f"{where}: {path}: {problem.message}" if path else f"{where}: {problem.message}"
        )
    return lines


_PLAIN_KEY = re.compile(r"[\w-]+")


def _dotted(loc: Location) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif not _PLAIN_KEY.fullmatch(str(part)):
            # A blank or odd key (" ", "a: b") would vanish into the message; quote it.
            text += f"[{str(part)!r}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def _line_of(root: yaml.Node | None, loc: Location) -> int | None:
    """The 1-based line of the deepest node the location reaches."""
    node = root
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == part:
                    child = value
                    line = key.start_mark.line + 1
                    break
        elif (
            isinstance(node, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(node.value)
        ):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


def _all_setting_names() -> list[str]:
    names: set[str] = set()
    pending: list[type[BaseModel]] = [ProgramFile]
    seen: set[type[BaseModel]] = set()
    while pending:
        model = pending.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, info in model.model_fields.items():
            names.add(name)
            for candidate in _models_in(info.annotation):
                pending.append(candidate)
    return sorted(names)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        found.append(annotation)
    for arg in getattr(annotation, "__args__", ()) or ():
        found.extend(_models_in(arg))
    return found


def _from_pydantic(error: Any) -> Problem:
    loc: Location = tuple(error["loc"])
    kind = error["type"]
    value = error.get("input")
    if kind == "missing":
        message = "this setting is required"
    elif kind == "extra_forbidden" and "eligibility" in loc:
        message = (
            f"{str(loc[-1])!r} is not a field of the directory; eligibility rules use "
            "department, level, location, title, manager, or attributes (any imported "
            "column, e.g. attributes: {hipo: yes})"
        )
    elif kind == "extra_forbidden":
        name = str(loc[-1]) if loc else ""
        close = difflib.get_close_matches(name, _all_setting_names(), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else "; remove it or check its spelling"
        message = f"unknown setting {name!r}{hint}"
    else:
        shown = repr(value) if not isinstance(value, dict | list) else type(value).__name__
        message = f"{error['msg']} (got {shown})"
        if kind == "string_pattern_mismatch" and loc and loc[-1] == "id":
            message = (
                f"{value!r} is not a valid id: use lowercase letters, digits, - and _, "
                "starting with a letter"
            )
    # Pydantic reports union members as extra path parts (e.g. "list[str]"); drop them.
    loc = tuple(
        p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("literal")))
    )
    return Problem(loc=loc, message=message)
