"""The report page: plain values in, one self-contained HTML file out.

Charts are Matplotlib SVG written inline: no script, no font or style sheet to fetch, so
the file opens offline, prints, and weighs a few hundred KB (Plotly with its JavaScript
embedded starts at 4.8 MB). Web text (titles, outlets, URLs) never enters the SVG; it goes
through Jinja2 with autoescape, and only http(s) links become anchors. A Content Security
Policy forbids the page any request of its own.
A run's report keeps its charts between runs (``kept_charts``): a quiet run redraws none.

Somewhat over 350 lines: the page's values and its two charts stay in one module, since the
charts' lanes, colours and transition numbers must match the tables beside them.
"""

from __future__ import annotations

import hashlib
import io
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import metadata, resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from extractors.timeline import ActiveWindow
from flows.stages.kept_charts import kept_svg
from storage.report_queries import SourceRow as SourceNow  # a source's state now

COOPERATION = "cooperation"
COLOURS = {
    "history": "#8d6e63",
    "diplomatic": "#3f7fbf",
    "economic": "#e69a28",
    "security": "#c62828",
    COOPERATION: "#2e8b57",
}
_OTHER_COLOUR = "#7f7f7f"


@dataclass(frozen=True)
class StoryLink:
    """One story behind a transition: its title, the outlets that carried it, one link."""

    title: str
    outlets: tuple[str, ...]
    url: str

    @property
    def safe_url(self) -> str | None:
        """Return the URL if it is http(s), else None: other schemes are never linked."""
        return self.url if urlsplit(self.url).scheme.lower() in ("http", "https") else None


@dataclass(frozen=True)
class TransitionEntry:
    kind: str  # escalation | de-escalation
    space: str
    severity: str
    day: date
    outlets: tuple[str, ...]
    stories: tuple[StoryLink, ...]


@dataclass(frozen=True)
class DailyCount:
    day: date
    space: str
    count: int


@dataclass(frozen=True)
class SourceTrouble:
    """A day on which a whole source (feed or API) failed, ``failures`` times."""

    source: str
    day: date
    failures: int
    reason: str


@dataclass(frozen=True)
class ReportData:
    """Everything the page shows; built from the database or from a replay."""

    title: str
    start: date
    end: date
    generated_at: datetime
    ladder: tuple[str, ...]
    windows: tuple[ActiveWindow, ...]
    transitions: tuple[TransitionEntry, ...]
    daily: tuple[DailyCount, ...]
    origin: str  # what the report was drawn from, in words
    troubles: tuple[SourceTrouble, ...] = ()
    sources: tuple[SourceNow, ...] = ()
    run_days: tuple[date, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def lanes(self) -> tuple[str, ...]:
        """Return the lanes bottom to top: cooperation, then the ladder upwards."""
        return (COOPERATION, *self.ladder)


def render_report(data: ReportData, charts: Path | None = None) -> str:
    """Return the report as one HTML document with its charts inline.

    ``charts``: a folder where drawn charts are kept, to be reused while what they draw
    stays the same (None: draw every chart)."""
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = env.from_string(
        resources.files("flows.stages").joinpath("report.html").read_text(encoding="utf-8")
    )
    active_at_end = [w.space for w in data.windows if w.end >= data.end]
    kinds = Counter(t.kind for t in data.transitions)
    return template.render(
        data=data,
        colours=COLOURS,
        timeline_svg=_markup(
            _chart(charts, "timeline", _timeline_inputs(data), lambda: timeline_svg(data))
        ),
        active_at_end=active_at_end,
        escalations=kinds.get("escalation", 0),
        de_escalations=kinds.get("de-escalation", 0),
        matches=sum(c.count for c in data.daily),
        daily_rows=_daily_rows(data),
        health_svg=_markup(_chart(charts, "health", _health_inputs(data), lambda: health_svg(data)))
        if data.sources or data.troubles
        else None,
    )


def _timeline_inputs(data: ReportData) -> tuple[Any, ...]:
    transitions = [(t.kind, t.space, t.severity, t.day) for t in data.transitions]
    return (data.start, data.end, data.ladder, data.windows, transitions, data.daily)


def _health_inputs(data: ReportData) -> tuple[Any, ...]:
    troubles = [(t.source, t.day, t.failures) for t in data.troubles]
    names = sorted(s.name for s in data.sources)
    return (data.start, data.end, names, troubles, data.run_days)


def _chart(folder: Path | None, kind: str, inputs: tuple[Any, ...], draw: Callable[[], str]) -> str:
    # The drawing code and Matplotlib's version decide the picture too.
    return kept_svg(folder, kind, (inputs, _CODE, metadata.version("matplotlib")), draw)


_CODE = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()


def _markup(svg: str) -> Any:
    from markupsafe import Markup

    return Markup(svg)  # noqa: S704 - Matplotlib's own SVG; no web text is drawn into it


def _daily_rows(data: ReportData) -> list[tuple[date, dict[str, int]]]:
    rows: dict[date, dict[str, int]] = {}
    for count in data.daily:
        rows.setdefault(count.day, {})[count.space] = count.count
    return sorted(rows.items(), reverse=True)


def _bin_days(start: date, end: date) -> int:
    span = (end - start).days + 1
    return 1 if span <= 120 else 7 if span <= 730 else 30


def timeline_svg(data: ReportData) -> str:
    """Return the lanes (active windows, numbered transitions) over the matches chart."""
    from matplotlib import dates as mdates
    from matplotlib.figure import Figure

    lanes = data.lanes
    figure = Figure(figsize=(14, 6.2))
    grid = figure.add_gridspec(2, 1, height_ratios=(3, 1.6), hspace=0.08)
    ax = figure.add_subplot(grid[0])
    bars = figure.add_subplot(grid[1], sharex=ax)
    x0, x1 = mdates.date2num(data.start), mdates.date2num(data.end + timedelta(days=1))

    for y, space in enumerate(lanes):
        lane = ax.axhspan(y - 0.45, y + 0.45, color="#f4f4f4" if y % 2 else "#ebebeb", lw=0)
        lane.set_gid(f"lane-{space}")
    for window in data.windows:
        y = lanes.index(window.space)
        start = mdates.date2num(window.start)
        span = ax.broken_barh(
            [(start, mdates.date2num(window.end + timedelta(days=1)) - start)],
            (y - 0.38, 0.76),
            facecolors=COLOURS.get(window.space, _OTHER_COLOUR),
            alpha=0.45,
        )
        span.set_gid(f"active-{window.space}-{window.start.isoformat()}")

    groups: dict[int, list[list[tuple[float, int]]]] = {}
    for number, transition in enumerate(data.transitions, start=1):
        y = lanes.index(transition.space) if transition.space in lanes else 0
        x = mdates.date2num(transition.day) + 0.5
        up = transition.kind == "escalation"
        (marker,) = ax.plot(
            [x],
            [y],
            marker="^" if up else "v",
            markersize=13,
            color=COLOURS.get(transition.space, _OTHER_COLOUR),
            markeredgecolor="black",
            markeredgewidth=0.8,
            linestyle="none",
            zorder=5,
        )
        marker.set_gid(f"marker-{number}")
        marker.set_url(f"#transition-{number}")
        # Markers too close to label apart share one label ("12–14").
        row = groups.setdefault(y, [])
        if row and x - row[-1][-1][0] < (x1 - x0) / 25:
            row[-1].append((x, number))
        else:
            row.append([(x, number)])
    for y, row in groups.items():
        for group in row:
            ax.annotate(
                _numbers([number for _, number in group]),
                (sum(x for x, _ in group) / len(group), y),
                xytext=(0, 12),
                textcoords="offset points",
                ha="center",
                fontsize=9,
                fontweight="bold",
            )

    ax.set_yticks(range(len(lanes)), [space.capitalize() for space in lanes], fontsize=11)
    ax.set_ylim(-0.6, len(lanes) - 0.4)
    ax.set_xlim(*_x_limits(data))
    ax.tick_params(axis="x", labelbottom=False)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.set_title(
        "Active fronts (shaded) · ▲ escalation · ▼ de-escalation (numbers: list below)",
        loc="left",
        fontsize=11,
    )

    _match_bars(bars, data, lanes)
    locator = mdates.AutoDateLocator(minticks=6, maxticks=14)
    bars.xaxis.set_major_locator(locator)
    bars.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    figure.subplots_adjust(left=0.09, right=0.99, top=0.94, bottom=0.08)
    return _svg(figure)


def _match_bars(ax: Any, data: ReportData, lanes: Sequence[str]) -> None:
    from matplotlib import dates as mdates

    width = _bin_days(data.start, data.end)
    binned: dict[str, Counter[date]] = {space: Counter() for space in lanes}
    for count in data.daily:
        offset = (count.day - data.start).days // width * width
        binned.setdefault(count.space, Counter())[data.start + timedelta(days=offset)] += (
            count.count
        )
    bottoms: Counter[date] = Counter()
    for space in lanes:
        days = sorted(binned[space])
        if not days:
            continue
        heights = [binned[space][day] for day in days]
        ax.bar(
            [mdates.date2num(day) for day in days],
            heights,
            width=width * 0.9,
            bottom=[bottoms[day] for day in days],
            align="edge",
            color=COLOURS.get(space, _OTHER_COLOUR),
            label=space,
        )
        for day, height in zip(days, heights, strict=True):
            bottoms[day] += height
    unit = {1: "day", 7: "week"}.get(width, "30 days")
    ax.set_ylabel(f"matches per {unit}", fontsize=10)
    ax.yaxis.get_major_locator().set_params(integer=True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if data.daily:
        ax.legend(loc="upper left", ncols=len(lanes), fontsize=9, frameon=False)


def health_svg(data: ReportData) -> str:
    """Return one row per source: a tick for each day with a run, a red dot per bad day."""
    from matplotlib import dates as mdates
    from matplotlib.figure import Figure

    names = sorted({s.name for s in data.sources} | {t.source for t in data.troubles})
    figure = Figure(figsize=(14, 0.9 + 0.32 * len(names)))
    ax = figure.add_subplot()
    if data.run_days:
        ax.vlines(
            [mdates.date2num(day) + 0.5 for day in sorted(set(data.run_days))],
            -0.5,
            len(names) - 0.5,
            color="#d0d0d0",
            lw=1,
            gid="health-runs",
        )
    for y, name in enumerate(names):
        days = [t for t in data.troubles if t.source == name]
        if days:
            ax.scatter(
                [mdates.date2num(t.day) + 0.5 for t in days],
                [y] * len(days),
                s=[min(160, 30 + 10 * t.failures) for t in days],
                color="#c62828",
                zorder=3,
                gid=f"health-{name}",  # profile names: letters, digits, ._-
            )
    ax.set_yticks(range(len(names)), [_short(name, 18) for name in names], fontsize=9)
    ax.set_ylim(len(names) - 0.4, -0.6)  # first name on top, as in the table below
    ax.set_xlim(*_x_limits(data))
    locator = mdates.AutoDateLocator(minticks=6, maxticks=14)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    figure.subplots_adjust(left=0.09, right=0.99, top=0.95, bottom=0.5 / figure.get_figheight())
    return _svg(figure)


def _numbers(numbers: Sequence[int]) -> str:
    """Return "10–14" for a run of numbers, "2, 4" for others: a label never claims a gap."""
    runs: list[list[int]] = []
    for number in numbers:
        if runs and number == runs[-1][-1] + 1:
            runs[-1].append(number)
        else:
            runs.append([number])
    return ", ".join(
        str(run[0])
        if len(run) == 1
        else f"{run[0]}, {run[1]}"
        if len(run) == 2
        else f"{run[0]}–{run[-1]}"
        for run in runs
    )


def _x_limits(data: ReportData) -> tuple[float, float]:
    """Return the charts' x range: the window, with room for markers at its edges."""
    from matplotlib import dates as mdates

    x0, x1 = mdates.date2num(data.start), mdates.date2num(data.end + timedelta(days=1))
    return x0 - (x1 - x0) / 80, x1 + (x1 - x0) / 80


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# Matplotlib's default RDF block (creator, format, type URIs) says nothing to a reader.
_SVG_METADATA = ("Creator", "Date", "Format", "Type")


def _svg(figure: Any) -> str:
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "straitwatch"}):
        figure.savefig(buffer, format="svg", metadata=dict.fromkeys(_SVG_METADATA))
    svg = buffer.getvalue()
    # The XML prologue and DOCTYPE belong to a file, not to an element inside HTML.
    svg = svg[svg.index("<svg") :] if "<svg" in svg else svg
    # Markers link to their entry further down this page, not to a new tab.
    return svg.replace(' target="_blank"', "")
