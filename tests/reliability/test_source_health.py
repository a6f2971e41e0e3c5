"""A source that fails N runs in a row, or goes quiet past its expected interval, raises one
source-health alert per episode and one "recovered" notice, not one per run."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import apprise

from tests.reliability.harness import SourceSpec, Tally, Workspace, profile_text
from tests.reliability.pages import Item, plain_story, rss
from tests.support.wire import HostileServer, first_then, reply

received: list[tuple[str, str]] = []


@apprise.decorators.notify(on="healthrec")
def _record(body: str, title: str, *args: Any, **kwargs: Any) -> bool:
    received.append((title, body))
    return True


def _feed(server: HostileServer, prefix: str, count: int) -> bytes:
    items = []
    for n in range(count):
        server.routes[f"{prefix}/story-{n}"] = reply(plain_story(f"{prefix}-{n}"))
        items.append(Item(f"Story {n}", server.url(f"{prefix}/story-{n}"), guid=f"{prefix}{n}"))
    return rss(items).encode()


def _kinds() -> list[str]:
    # Other alerts waiting in the copied database (its escalation) are delivered too.
    heads = [title.split(" — ", 1)[0] for title, _ in received]
    return [head for head in heads if head.startswith("Source ")]


def _rollups() -> list[tuple[str, str]]:
    return [(t, b) for t, b in received if " sources " in t.split(" — ", 1)[0]]


def test_failing_source_alerts_once_then_recovers_once(
    workspace: Workspace, hostile: HostileServer, tally: Tally
) -> None:
    received.clear()
    prefix = "/health-fail"
    good = reply(_feed(hostile, prefix, 1), content_type="application/rss+xml")
    hostile.routes[f"{prefix}/feed.xml"] = first_then(reply("down", 500), good, times=4)
    profile = workspace.root / "failing.toml"
    profile.write_text(
        f'extends = "{workspace.profile([])}"\n'
        f'[[sources]]\nname = "flaky"\nkind = "feed"\n'
        f'url = "{hostile.url(prefix + "/feed.xml")}"\n',
        encoding="utf-8",
    )
    per_run = []
    for _ in range(6):  # 4 failures, then the source is back
        summary = workspace.run(profile, urls=("healthrec://desk",))
        per_run.append(list(summary.source_health))
    assert per_run == [[], [], ["health:flaky:1"], [], ["recovered:flaky:1"], []]
    kinds = _kinds()
    assert kinds == ["Source flaky is failing", "Source flaky recovered"]
    assert any("3 failed attempts in a row (http_500)" in body for _, body in received)
    tally.fault(
        "source failing 4 runs in a row",
        survived=True,
        duplicates=len(kinds) - len(set(kinds)),
        lost=2 - len(kinds),
    )


def test_quiet_source_alerts_once_per_episode(
    workspace: Workspace, hostile: HostileServer, tally: Tally
) -> None:
    received.clear()
    prefix = "/health-quiet"
    feed = f"{prefix}/feed.xml"
    hostile.routes[feed] = reply(_feed(hostile, prefix, 1), content_type="application/rss+xml")
    profile = workspace.root / "quiet.toml"
    profile.write_text(
        f'extends = "{workspace.profile([])}"\n'
        f'[[sources]]\nname = "quiet"\nkind = "feed"\nurl = "{hostile.url(feed)}"\n'
        "expected_interval_minutes = 60\n",
        encoding="utf-8",
    )
    start = datetime.now(UTC)
    hours = [0, 1, 3, 4, 5]  # new entries at 0; quiet past 2 × 1 h from hour 3 on
    per_run = []
    for hour in hours:
        if hour == 5:  # news again
            hostile.routes[feed] = reply(
                _feed(hostile, prefix, 2), content_type="application/rss+xml"
            )
        summary = workspace.run(
            profile, now=start + timedelta(hours=hour), urls=("healthrec://desk",)
        )
        per_run.append(list(summary.source_health))
    assert per_run == [[], [], ["health:quiet:1"], [], ["recovered:quiet:1"]]
    kinds = _kinds()
    assert kinds == ["Source quiet is silent", "Source quiet recovered"]
    tally.fault(
        "source silent past its expected interval",
        survived=True,
        duplicates=len(kinds) - len(set(kinds)),
        lost=2 - len(kinds),
    )


def _down(hostile: HostileServer, prefix: str, count: int) -> list[SourceSpec]:
    specs = []
    for n in range(count):
        hostile.routes[f"{prefix}/{n}.xml"] = reply("down", 500)
        specs.append(SourceSpec(f"down-{n}", hostile.url(f"{prefix}/{n}.xml")))
    return specs


def test_ten_sources_failing_at_once_give_one_notice_naming_the_network(
    workspace: Workspace, hostile: HostileServer, tally: Tally
) -> None:
    received.clear()
    profile = workspace.root / "all-down.toml"
    profile.write_text(profile_text(_down(hostile, "/rollup-all", 10)), encoding="utf-8")
    for _ in range(4):
        workspace.run(profile, urls=("healthrec://desk",))
    notices = _rollups() + [(t, b) for t, b in received if t.startswith("Source ")]
    assert len(notices) == 1, [t for t, _ in notices]
    title, body = notices[0]
    assert title.startswith("All 10 sources are failing: check the network or DNS")
    assert all(f"- down-{n} is failing" in body for n in range(10))
    tally.fault(
        "ten sources failing in one run",
        survived=True,
        duplicates=len(notices) - 1,
        lost=1 - len(notices),
    )


def test_several_sources_failing_at_once_give_one_notice_that_lists_them(
    workspace: Workspace, hostile: HostileServer
) -> None:
    received.clear()
    profile = workspace.profile(_down(hostile, "/rollup-some", 3))  # the demo's sources work
    for _ in range(4):
        workspace.run(profile, urls=("healthrec://desk",))
    notices = _rollups()
    assert [t.split(" — ", 1)[0] for t, _ in notices] == [
        "3 sources failing: down-0, down-1, down-2"
    ]
    assert not any(t.startswith("Source ") for t, _ in received)
