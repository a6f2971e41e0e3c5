"""The digest's period (when it is due, what it covers) and its grouping by space and story."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from extractors.digest import due_period
from extractors.profile import DigestSettings, ProfileError, load_profile
from flows.stages.digest import compose_digest
from flows.stages.render import render
from storage.outbox import PendingAlert
from storage.tracker import ReportRow
from tests.support.paths import REPO


def test_a_daily_digest_is_due_from_its_hour_in_the_monitor_zone() -> None:
    daily = DigestSettings(enabled=True, hour=8)
    # 23:30 UTC on 4 December is 08:30 on 5 December in Seoul: the 5 December digest is due.
    period = due_period(datetime(2026, 12, 4, 23, 30, tzinfo=UTC), daily, "Asia/Seoul")
    assert period.key == "digest:day:2026-12-05"
    assert period.end == datetime(2026, 12, 4, 23, 0, tzinfo=UTC)
    assert period.start == datetime(2026, 12, 3, 23, 0, tzinfo=UTC)
    # at 07:59 in Seoul it is still the previous day's
    early = due_period(datetime(2026, 12, 4, 22, 59, tzinfo=UTC), daily, "Asia/Seoul")
    assert early.key == "digest:day:2026-12-04"


def test_a_weekly_digest_is_named_by_its_send_day_and_covers_seven_days() -> None:
    weekly = DigestSettings(enabled=True, every="week", hour=9, weekday="monday")
    period = due_period(datetime(2026, 12, 5, 12, 0, tzinfo=UTC), weekly, "UTC")  # a Saturday
    assert period.key == "digest:week:2026-11-30"
    assert (period.end - period.start).days == 7


def test_a_daylight_saving_change_keeps_the_local_hour() -> None:
    daily = DigestSettings(enabled=True, hour=8)
    # Berlin moves to summer time on 29 March 2026: 08:00 local is 06:00 UTC that day.
    period = due_period(datetime(2026, 3, 29, 12, 0, tzinfo=UTC), daily, "Europe/Berlin")
    assert period.end == datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    assert period.start == datetime(2026, 3, 28, 7, 0, tzinfo=UTC)


def test_an_unknown_time_zone_is_a_profile_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.toml"
    bad.write_text(
        f'extends = "{REPO / "seeds" / "monitor.toml"}"\n[monitor]\ntimezone = "Asia/Seol"\n',
        encoding="utf-8",
    )
    with pytest.raises(ProfileError, match="Asia/Seol"):
        load_profile(bad)


def _row(n: int, space: str, cluster: int | None, title: str) -> ReportRow:
    return ReportRow(
        article_id=n,
        canonical_url=f"https://o{n}.example/{n}",
        cluster_id=cluster,
        outlet=f"Outlet {n}",
        at=datetime(2026, 12, 4, 0, 0, tzinfo=UTC) + timedelta(minutes=n),
        space=space,
        action="talk",
        title=title,
        url=f"https://o{n}.example/{n}?utm_campaign=x",
        evidence=(),
    )


def test_the_digest_groups_stories_by_space_most_severe_first() -> None:
    profile = load_profile(REPO / "seeds" / "monitor.toml")
    period = due_period(
        datetime(2026, 12, 5, 9, 0, tzinfo=UTC), DigestSettings(enabled=True), "UTC"
    )
    rows = [
        _row(1, "economic", 5, "Ministers discuss export rules"),
        _row(2, "economic", 5, "Ministers discuss export rules (reprint)"),
        _row(3, "security", None, "Defence chiefs talk by phone"),
        _row(4, "", None, "<b>Students</b> meet in Busan"),
    ]
    alert = compose_digest(profile, period, rows)
    assert alert.key == "digest:day:2026-12-05" and alert.tags == ("digest",)
    assert alert.title.startswith("Daily digest: 3 stories with no stage change")
    headings = [s["heading"] for s in alert.payload["sections"]]
    assert headings == ["Security space", "Economic space", "Other relevant news"]
    assert [len(s["stories"]) for s in alert.payload["sections"]] == [1, 1, 1]
    assert "utm_" not in alert.body
    pending = PendingAlert.unsent(alert, period.end, id=1)
    message = render([pending])
    assert "&lt;b&gt;Students&lt;/b&gt;" in message.html and "<b>Students" not in message.html
    assert "Economic space" in message.html and "Economic space" in str(message.slack)


def test_a_long_digest_lists_the_most_carried_stories_and_says_so() -> None:
    profile = load_profile(REPO / "seeds" / "monitor.toml")
    period = due_period(datetime(2026, 12, 5, 9, 0, tzinfo=UTC), DigestSettings(), "UTC")
    rows = [_row(n, "diplomatic", None, f"Story number {n}") for n in range(1, 60)]
    alert = compose_digest(profile, period, rows)
    shown = sum(len(s["stories"]) for s in alert.payload["sections"])
    assert shown == profile.digest.max_stories
    assert f"The {shown} most widely carried of 59 stories are listed." in alert.body
