"""The run's context: the configuration values a run starts from, and what it builds once.

``RunConfig`` holds values (the database URL, the profile's path, batch size, workers);
``RunContext.build`` reads the profile once and builds the scorer, the stage classifier,
the escalation and health rules, the fetch policy and the engine, and every stage takes
it. ``check_profile`` builds the same at start so a mistake stops a command at once. The
run's record (``start_run``, ``finish_run``) is kept here too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from extractors.escalation import EscalationRules
from extractors.fetch import FetchPolicy
from extractors.health import HealthRules
from extractors.profile import Profile, ProfileError, load_profile, require_seed, shown
from extractors.relevance import RelevanceScorer
from extractors.stages import StageClassifier
from extractors.topics import derive_topics
from storage import fetch_state
from storage import queries as q
from storage.db import make_engine, migrate, write_session

log = logging.getLogger("straitwatch")


@dataclass(frozen=True)
class RunConfig:
    """Everything a stage needs, as values: built once from Settings at the edge."""

    db_url: str
    profile_path: Path
    batch_size: int = 100
    extract_workers: int = 2
    # Loopback or private networks the fetcher may reach (tests and the demo only).
    extra_allowed_networks: tuple[str, ...] = ()


class RunContext:
    """What one run works with, built once at its start: the profile and everything built
    from it (scorer, stage classifier, escalation and health rules, fetch policy) and the
    database engine. Stages receive it; none of them reads the profile again.

    Not a dataclass on purpose: Prefect walks a task's dataclass arguments field by field,
    and a run's scorer is large. To Prefect this is one opaque value.
    """

    __slots__ = (
        "classifier",
        "config",
        "engine",
        "escalation",
        "fetch_policy",
        "health",
        "profile",
        "scorer",
    )

    def __init__(
        self,
        config: RunConfig,
        profile: Profile,
        scorer: RelevanceScorer,
        classifier: StageClassifier,
        escalation: EscalationRules,
        health: HealthRules,
        engine: Engine,
    ) -> None:
        self.config = config
        self.profile = profile
        self.scorer = scorer
        self.classifier = classifier
        self.escalation = escalation
        self.health = health
        self.engine = engine
        self.fetch_policy = _fetch_policy(profile, config.extra_allowed_networks)

    @classmethod
    def build(cls, config: RunConfig) -> RunContext:
        """Read the profile and build what the run needs; raise ProfileError if any fails."""
        profile, scorer, classifier, escalation, health = _built(config.profile_path)
        return cls(
            config, profile, scorer, classifier, escalation, health, make_engine(config.db_url)
        )

    @property
    def monitor(self) -> str:
        """The monitor's name, which keys every row it owns."""
        return self.profile.monitor.name


def _built(
    path: Path,
) -> tuple[Profile, RelevanceScorer, StageClassifier, EscalationRules, HealthRules]:
    """Load the profile and build everything from it, naming the file in any error.

    The topics, the relevance scorer, the stage classifier and the escalation and health
    rules are built at the start of a command and kept for the run: a mistake in a table
    they own (an unknown key, a bad value, an unreadable seed) stops the command before
    anything is fetched, instead of crashing on the first new article, after its page was
    fetched and before it was recorded, on every run.
    """
    path = Path(path).resolve()
    profile = load_profile(path)
    try:
        require_seed(profile)
        topics = derive_topics(profile.seed_text(), profile)
        return (
            profile,
            RelevanceScorer(topics, profile),
            StageClassifier(profile),
            EscalationRules.from_profile(profile),
            HealthRules.from_profile(profile),
        )
    except ProfileError as exc:
        message = str(exc).removeprefix(f"{path}: ")
        if message.startswith(shown(path)):
            raise
        raise ProfileError(f"{shown(path)}: {message}") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{shown(profile.seed_path)}: seed not readable: {exc}") from exc
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        # The owners name the table and the key; the file is named here.
        raise ProfileError(f"{shown(path)}: {_one_line(exc)}") from exc


def check_profile(path: Path) -> Profile:
    """Return the profile once everything built from it builds; raise ProfileError if not."""
    return _built(path)[0]


def scoring_of_profile(path: Path) -> tuple[RelevanceScorer, StageClassifier]:
    """Return the relevance scorer and stage classifier of a profile (evaluations)."""
    _, scorer, classifier, _, _ = _built(path)
    return scorer, classifier


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if isinstance(exc, ValueError) else f"{type(exc).__name__}: {text}"


def _fetch_policy(profile: Profile, extra_networks: Sequence[str]) -> FetchPolicy:
    """Return the fetch policy of the profile, widened by the run's extra networks."""
    f = profile.fetch
    return FetchPolicy(
        user_agent=f.user_agent,
        connect_timeout=f.connect_timeout_seconds,
        timeout=f.timeout_seconds,
        max_bytes=f.max_bytes,
        max_redirects=f.max_redirects,
        per_host_concurrency=f.per_host_concurrency,
        per_host_delay=f.per_host_delay_seconds,
        concurrency=f.concurrency,
        respect_robots=f.respect_robots,
        allowed_networks=tuple(f.allowed_networks) + tuple(extra_networks),
    )


def prepare_database(run: RunContext) -> None:
    """Migrate the schema and register the profile's sources."""
    migrate(run.engine)
    with write_session(run.engine) as session:
        fetch_state.sync_sources(
            session,
            run.monitor,
            [(s.name, s.kind, s.url) for s in run.profile.sources if s.enabled],
        )


def start_run(run: RunContext, flow: str, now: datetime) -> int:
    """Record a run's start; return its id."""
    with write_session(run.engine) as session:
        return q.start_run(session, run.monitor, flow, now)


def finish_run(
    run: RunContext, run_id: int, status: str, counts: Mapping[str, int], now: datetime
) -> None:
    """Record a run's end."""
    with write_session(run.engine) as session:
        q.finish_run(session, run_id, status, dict(counts), now)
