"""The monitor profile: what straitwatch knows about its subject, read from a TOML file.

A profile names the dispute, the seed article, the two parties, the sources to read, the
fetch politeness, and the sections that the scoring modules read for themselves
(``topics``, ``relevance``, ``stages``, ``escalation``). A profile may say
``extends = "other.toml"``: the other file is read first and this one's tables are merged
over it (tables merge key by key, lists and values replace), so a user profile can reuse
the shipped ladder and swap only the sources.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

SourceKind = Literal["feed", "gdelt", "sitemap", "urls"]


class ProfileError(ValueError):
    """The profile file is missing, not TOML, or does not fit the schema."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class MonitorInfo(_Frozen):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    title: str = ""
    schedule_cron: str = "*/15 * * * *"
    timezone: str = "UTC"


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


def _merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def _read_toml(path: Path, seen: tuple[Path, ...] = ()) -> dict[str, Any]:
    path = path.resolve()
    if path in seen:
        raise ProfileError(f"profile extends itself: {' -> '.join(map(str, (*seen, path)))}")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ProfileError(f"profile not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"profile {path} is not valid TOML: {exc}") from exc
    parent = data.pop("extends", None)
    if parent is None:
        return data
    base = _read_toml(path.parent / parent, (*seen, path))
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


def load_profile(path: str | Path) -> Profile:
    """Read and validate a monitor profile; raise ProfileError with the reason."""
    path = Path(path)
    data = _read_toml(path)
    parties = data.pop("parties", {})
    if not isinstance(parties, Mapping) or len(parties) != 2:
        raise ProfileError(f"profile {path}: [parties] must name exactly two parties")
    try:
        return Profile(
            path=path.resolve(),
            parties=tuple(Party(key=key, **value) for key, value in parties.items()),
            **data,
        )
    except ValidationError as exc:
        raise ProfileError(f"profile {path} does not fit the schema:\n{exc}") from exc
