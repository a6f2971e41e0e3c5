"""The monitor profile: what straitwatch knows about its subject, read from a TOML file.

A profile names the dispute, the seed article, the two parties, the sources to read, the
fetch politeness, and the sections that the scoring modules read for themselves
(``topics``, ``relevance``, ``stages``, ``escalation``). A profile may say
``extends = "other.toml"``: the other file is read first and this one's tables are merged
over it (tables merge key by key, lists and values replace), so a user profile can reuse
the shipped ladder and swap only the sources.

Loading checks the whole file at once, so a mistake stops a command before it fetches
anything: unknown keys anywhere (a misspelt key would otherwise silently keep its
default) and value types; ``require_seed`` checks that the seed file exists.
``[relevance]``, ``[stages]``, ``[escalation]`` and ``[health]`` are parsed by the modules
that own them, which reject unknown keys themselves; building them at start
(``flows.stages.context.check_profile``) is how those tables are checked. Every error is a
ProfileError of one line that names the file.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

SourceKind = Literal["feed", "gdelt", "sitemap", "urls"]


class ProfileError(ValueError):
    """The profile file is missing, not TOML, or does not fit the schema (one line)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MonitorInfo(_Frozen):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str = ""
    schedule_cron: str = "*/15 * * * *"
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            message = f"unknown time zone {value!r} (an IANA name, e.g. Asia/Seoul)"
            raise ValueError(message) from None
        return value


class SeedInfo(_Frozen):
    file: str
    title: str = ""
    outlet: str = ""
    published: date | None = None
    url: str = ""


class Party(_Frozen):
    """One side of the dispute and every name that refers to it."""

    key: str
    name: str
    aliases: tuple[str, ...] = ()
    # Full names of the party's people (leaders, ministers). Each is also an alias, and
    # in an article that gives the full name, the surname alone names the party too.
    people: tuple[str, ...] = ()
    # Names that stand for the party only in its own language ("정부", the government, in
    # a Korean article), unless the other party's name stands just before them.
    home_language: str = ""
    home_names: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases, *self.people)


class TopicAddition(_Frozen):
    phrase: str
    weight: float = 1.0
    aliases: tuple[str, ...] = ()


class TopicsTable(_Frozen):
    """The schema of ``[topics]``; the table itself reaches topics.py as read."""

    max_derived: int = 30
    min_count: int = 2
    drop: tuple[str, ...] = ()
    aliases: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    add: tuple[TopicAddition, ...] = ()


class FetchSettings(_Frozen):
    user_agent: str = "straitwatch/0.1 (news monitor; respects robots.txt)"
    connect_timeout_seconds: float = 10.0
    timeout_seconds: float = 30.0
    max_bytes: int = 5_000_000
    max_redirects: int = 5
    per_host_concurrency: int = 2
    per_host_delay_seconds: float = 1.0
    concurrency: int = 16
    respect_robots: bool = True
    # Networks (CIDR) that may be fetched although they are not public. Empty: public only.
    allowed_networks: tuple[str, ...] = ()
    max_attempts: int = 3
    # New candidates taken from one source in one run; the rest wait for the next runs.
    max_candidates_per_source: int = Field(default=200, ge=1)


class DigestSettings(_Frozen):
    """The opt-in digest of relevant articles that confirmed no transition."""

    enabled: bool = False
    every: Literal["day", "week"] = "day"
    # Sent by the first run at or after this hour, in the monitor's timezone ...
    hour: int = Field(default=8, ge=0, le=23)
    # ... on this day of the week, for a weekly digest.
    weekday: Literal[
        "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
    ] = "monday"
    max_stories: int = Field(default=40, ge=1, le=500)


class Source(_Frozen):
    """A place to find candidate articles."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    kind: SourceKind
    url: str = ""
    query: str = ""  # gdelt: the DOC API query
    outlet: str = ""
    expected_interval_minutes: int = 24 * 60
    # Seconds to wait before each request to this source (GDELT asks for about 5).
    min_interval_seconds: float = 0.0
    enabled: bool = True

    @field_validator("url")
    @classmethod
    def _url_scheme(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://", "file:")):
            raise ValueError(f"source url must be http(s) or file: {value!r}")
        return value

    @property
    def can_look_back(self) -> bool:
        """True for sources that can list articles of a past window (backfills)."""
        return self.kind in ("gdelt", "sitemap", "urls")


class Profile(_Frozen):
    path: Path
    monitor: MonitorInfo
    seed: SeedInfo
    parties: tuple[Party, Party]
    fetch: FetchSettings = FetchSettings()
    digest: DigestSettings = DigestSettings()
    sources: tuple[Source, ...] = ()
    # Sections owned by the scoring modules; each parses its own.
    topics: Mapping[str, Any] = Field(default_factory=dict)
    relevance: Mapping[str, Any] = Field(default_factory=dict)
    stages: Mapping[str, Any] = Field(default_factory=dict)
    escalation: Mapping[str, Any] = Field(default_factory=dict)
    health: Mapping[str, Any] = Field(default_factory=dict)

    @property
    def seed_path(self) -> Path:
        return (self.path.parent / self.seed.file).resolve()

    def seed_text(self) -> str:
        return self.seed_path.read_text(encoding="utf-8")

    def source(self, name: str) -> Source:
        for source in self.sources:
            if source.name == name:
                return source
        raise KeyError(name)


_Table = TypeVar("_Table", bound=BaseModel)


def read_table(model: type[_Table], table: Mapping[str, Any], name: str, where: str) -> _Table:
    """Return a table another module owns, validated by its model; a bad table is one
    ProfileError line that names the file, the table and the key."""
    try:
        return model.model_validate(dict(table))
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        why = "unknown key" if first["type"] == "extra_forbidden" else first["msg"]
        raise ProfileError(f"{where}: [{name}] {key}: {why}") from exc


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def shown(path: Path) -> str:
    """Return a path as a person typed it: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


_TOML_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def _read_toml(
    path: Path, seen: tuple[Path, ...] = (), chain: list[tuple[Path, dict[str, Any]]] | None = None
) -> dict[str, Any]:
    path = path.resolve()
    if path in seen:
        raise ProfileError(f"profile extends itself: {' -> '.join(map(str, (*seen, path)))}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ProfileError(f"{shown(path)}: profile not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{shown(path)}: profile not readable: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        where = _TOML_AT.search(message)
        at = f":{where[1]}:{where[2]}" if where else ""
        reason = _TOML_AT.sub("", message)
        raise ProfileError(f"{shown(path)}{at}: not valid TOML: {reason}") from exc
    if chain is not None:
        chain.append((path, data))
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise ProfileError(f"{shown(path)}: extends must be a file name")
    base = _read_toml(path.parent / parent, (*seen, path), chain)
    # Relative file names in the parent (the seed) stay relative to the parent.
    base_dir = (path.parent / parent).resolve().parent
    seed = base.get("seed")
    if isinstance(seed, dict) and "file" in seed and "file" not in data.get("seed", {}):
        seed["file"] = str(base_dir / seed["file"])
    model = base.get("stages", {}).get("model")
    if isinstance(model, dict) and model.get("file"):
        if "file" not in data.get("stages", {}).get("model", {}):
            model["file"] = str(base_dir / model["file"])
    return _merge(base, data)


def _holder(chain: Sequence[tuple[Path, dict[str, Any]]], loc: Sequence[str | int]) -> Path:
    """Return the file of the chain (the profile first, then what it extends) that holds loc."""
    for path, data in chain:
        node: Any = data
        for part in loc:
            if isinstance(node, Mapping) and part in node:
                node = node[part]
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
            else:
                break
        else:
            return path
    return chain[0][0]


def _table_name(loc: Sequence[str | int]) -> str:
    if not loc:
        return "the profile"
    if loc[0] == "sources" and len(loc) > 1:
        return f"[[sources]] #{int(loc[1]) + 1}"
    if loc[0] == "topics" and len(loc) > 2 and loc[1] == "add":
        return f"[[topics.add]] #{int(loc[2]) + 1}"
    return "[" + ".".join(str(part) for part in loc) + "]"


def _problems(
    exc: ValidationError, prefix: tuple[str | int, ...], chain: list[tuple[Path, dict[str, Any]]]
) -> str:
    """Return the first problem of a validation error as one line naming file, table and key."""
    error = exc.errors()[0]
    loc = (*prefix, *error["loc"])
    if error["type"] == "extra_forbidden":
        table = _table_name(loc[:-1]) if len(loc) > 1 else "the profile"
        what = f"{table} has an unknown key {loc[-1]!r}"
    else:
        what = f"{_table_name(loc[:-1])} {loc[-1]}: {error['msg']}"
        if "input" in error and not isinstance(error["input"], Mapping | list):
            what += f" (got {error['input']!r})"
    more = len(exc.errors()) - 1
    return f"{shown(_holder(chain, loc))}: {what}" + (f" (and {more} more)" if more else "")


def load_profile(path: str | Path) -> Profile:
    """Read and validate a monitor profile; raise ProfileError with the reason in one line."""
    path = Path(path)
    chain: list[tuple[Path, dict[str, Any]]] = []
    data = _read_toml(path, chain=chain)
    parties = data.pop("parties", {})
    if not isinstance(parties, Mapping) or len(parties) != 2:
        raise ProfileError(f"{shown(path)}: [parties] must name exactly two parties")
    built = []
    for key, value in parties.items():
        try:
            built.append(Party(key=key, **(value if isinstance(value, Mapping) else {})))
        except (ValidationError, TypeError) as exc:
            if isinstance(exc, ValidationError):
                raise ProfileError(_problems(exc, ("parties", key), chain)) from exc
            raise ProfileError(f"{shown(path)}: [parties.{key}] is not a table") from exc
    try:
        TopicsTable.model_validate(data.get("topics", {}))
    except ValidationError as exc:
        raise ProfileError(_problems(exc, ("topics",), chain)) from exc
    try:
        return Profile(path=path.resolve(), parties=(built[0], built[1]), **data)
    except ValidationError as exc:
        raise ProfileError(_problems(exc, (), chain)) from exc


def require_seed(profile: Profile) -> None:
    """Raise ProfileError unless the seed file exists.

    Not part of ``load_profile``: some readers of a profile (its escalation thresholds,
    its sources) never need the seed; every command that scores articles checks it.
    """
    if not profile.seed_path.is_file():
        raise ProfileError(
            f"{shown(profile.path)}: [seed] file {profile.seed.file!r} not found"
            f" ({profile.seed_path})"
        )
