"""The digest's picture: where and when, as PNG bytes (matplotlib, Agg, no global state).

Left: a map-like scatter of incident coordinates over Iraq's outline and governorate points
(incidents without coordinates sit on their governorate's point, hollow). Right: incidents
per governorate and incidents per day over the period. Labels are English only: matplotlib
does not shape Arabic.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.digest.governorates import GOVERNORATES, IRAQ_OUTLINE, governorate_name
from bot.digest.render import ATTACK_LABELS, clean
from bot.model import Incident

if TYPE_CHECKING:
    from matplotlib.axes import Axes

_COLOURS = {
    "ied": "#d62728",
    "rocket": "#ff7f0e",
    "drone": "#9467bd",
    "gunfire": "#1f77b4",
    "arson": "#8c564b",
    "unknown": "#7f7f7f",
}
_MAX_PLACE_LABELS = 25


def _point(incident: Incident) -> tuple[float, float, bool] | None:
    if incident.lat is not None and incident.lon is not None:
        return incident.lon, incident.lat, True
    row = GOVERNORATES.get(incident.admin1 or "")
    return (row.lon, row.lat, False) if row else None


def _period(start: dt.datetime | None, end: dt.datetime, zone: dt.tzinfo) -> str:
    fmt = "%d %b %Y %H:%M"
    begin = start.astimezone(zone).strftime(fmt) if start else "start"
    return f"{begin} – {end.astimezone(zone).strftime(fmt)} ({zone})"


def render_chart(
    incidents: Sequence[Incident],
    *,
    title: str,
    period_start: dt.datetime | None,
    period_end: dt.datetime,
    zone: dt.tzinfo,
) -> bytes:
    """A PNG (about 1400x800) of the incidents: map, per governorate, per day."""
    # Imported here: matplotlib takes seconds to import and only digests with charts need it.
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415
    from matplotlib.figure import Figure  # noqa: PLC0415

    figure = Figure(figsize=(14, 8), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    grid = figure.add_gridspec(2, 2, width_ratios=(1.25, 1))
    map_axes = figure.add_subplot(grid[:, 0])
    governorate_axes = figure.add_subplot(grid[0, 1])
    day_axes = figure.add_subplot(grid[1, 1])
    figure.suptitle(
        f"{title}: {len(incidents)} incident{'s' if len(incidents) != 1 else ''}\n"
        f"{_period(period_start, period_end, zone)}",
        fontsize=13,
    )
    _draw_map(map_axes, incidents)
    _draw_governorates(governorate_axes, incidents)
    _draw_days(day_axes, incidents)
    figure.text(
        0.01,
        0.005,
        "Place coordinates: GeoNames (CC BY 4.0) via the convoywatch gazetteer. "
        "Border and governorate points are approximate.",
        fontsize=7,
        color="#666666",
    )
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


#: Degrees per typographic point on the map axes (about 47 points per degree at 1400x800).
_DEG_PER_POINT = 0.0213
#: Label candidates around a point: x/y offset in points and horizontal alignment.
_OFFSETS: tuple[tuple[float, float, str], ...] = (
    (7, -3, "left"),
    (-7, -3, "right"),
    (0, 7, "center"),
    (0, -15, "center"),
)

Box = tuple[float, float, float, float]


class _LabelSpace:
    """Places labels where they overlap no earlier label or marker (approximate boxes, in degrees)."""

    def __init__(self) -> None:
        self.boxes: list[Box] = []

    @staticmethod
    def box(lon: float, lat: float, text: str, offset: tuple[float, float, str], size: float) -> Box:
        dx, dy, ha = offset
        width = len(text) * size * 0.62 * _DEG_PER_POINT
        height = size * 1.25 * _DEG_PER_POINT
        x = lon + dx * _DEG_PER_POINT
        x0 = x if ha == "left" else x - width if ha == "right" else x - width / 2
        y0 = lat + dy * _DEG_PER_POINT
        return (x0, y0, x0 + width, y0 + height)

    def free(self, box: Box) -> bool:
        return all(box[2] <= b[0] or b[2] <= box[0] or box[3] <= b[1] or b[3] <= box[1] for b in self.boxes)

    def place(self, lon: float, lat: float, text: str, size: float) -> tuple[float, float, str] | None:
        for offset in _OFFSETS:
            box = self.box(lon, lat, text, offset, size)
            if self.free(box):
                self.boxes.append(box)
                return offset
        return None


def _draw_map(ax: Axes, incidents: Sequence[Incident]) -> None:
    from matplotlib.collections import PathCollection  # noqa: PLC0415
    from matplotlib.patches import Polygon  # noqa: PLC0415

    outline = Polygon(IRAQ_OUTLINE, closed=True, facecolor="#f4f1ea", edgecolor="#888888", linewidth=1)
    ax.add_patch(outline)
    space = _LabelSpace()
    points = [point for incident in incidents if (point := _point(incident)) is not None]
    markers = [(lon, lat, 0.14) for lon, lat, _ in points]
    markers += [(g.lon, g.lat, 0.06) for g in GOVERNORATES.values()]
    for lon, lat, radius in markers:  # every marker is an obstacle for every label
        space.boxes.append((lon - radius, lat - radius, lon + radius, lat + radius))
    seen_attack: set[str] = set()
    labelled: set[tuple[str, float, float]] = set()
    for incident in sorted(incidents, key=lambda i: (-(i.killed or 0) - (i.injured or 0), i.incident_id)):
        point = _point(incident)
        if point is None:
            continue
        lon, lat, exact = point
        colour = _COLOURS.get(incident.attack_type, "#7f7f7f")
        size = 60 + 25 * min((incident.killed or 0) + (incident.injured or 0), 12)
        label = (
            ATTACK_LABELS.get(incident.attack_type, "other")
            if incident.attack_type not in seen_attack
            else None
        )
        seen_attack.add(incident.attack_type)
        ax.scatter(
            [lon],
            [lat],
            s=size,
            facecolors=colour if exact else "none",
            edgecolors=colour,
            linewidths=1.5,
            alpha=0.8,
            zorder=3,
            label=label,
        )
        name = clean(incident.place, 24) if incident.place else ""
        spot = (name, round(lon, 2), round(lat, 2))
        if not name or spot in labelled or len(labelled) >= _MAX_PLACE_LABELS:
            continue
        placed = space.place(lon, lat, name, 8)
        if placed is None:
            continue
        labelled.add(spot)
        dx, dy, ha = placed
        ax.annotate(
            name,
            (lon, lat),
            xytext=(dx, dy),
            textcoords="offset points",
            ha=ha,
            fontsize=8,
            fontweight="bold",
            color="#222222",
            zorder=4,
        )
    for row in GOVERNORATES.values():
        ax.plot(row.lon, row.lat, marker="s", markersize=4, color="#555555", zorder=2)
        placed = space.place(row.lon, row.lat, row.name, 7)
        if placed is None:
            continue
        dx, dy, ha = placed
        ax.annotate(
            row.name,
            (row.lon, row.lat),
            xytext=(dx, dy),
            textcoords="offset points",
            ha=ha,
            fontsize=7,
            color="#555555",
        )
    ax.set_xlim(38.5, 49.0)
    ax.set_ylim(28.8, 37.6)
    ax.set_aspect("equal")
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title("Where (filled: reported coordinates; hollow: governorate only)", fontsize=10)
    ax.grid(visible=True, linewidth=0.3, alpha=0.5)
    if seen_attack:
        legend = ax.legend(loc="lower left", fontsize=8, title="attack, size = casualties", title_fontsize=8)
        for handle in legend.legend_handles:
            if isinstance(handle, PathCollection):
                handle.set_sizes([60])
    else:
        ax.text(43.7, 33.2, "No incidents in this period", ha="center", fontsize=12, color="#444444")


def _draw_governorates(ax: Axes, incidents: Sequence[Incident]) -> None:
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415

    counts = Counter(governorate_name(incident.admin1) for incident in incidents)
    ranked = sorted(counts.items(), key=lambda item: (item[1], item[0]))[-15:]
    names = [clean(name, 24) for name, _ in ranked]
    ax.barh(names, [count for _, count in ranked], color="#d62728")
    ax.set_title("Incidents per governorate", fontsize=10)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if not ranked:
        ax.text(0.5, 0.5, "none", ha="center", va="center", transform=ax.transAxes)


def _draw_days(ax: Axes, incidents: Sequence[Incident]) -> None:
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415

    counts = Counter(incident.date for incident in incidents)
    if counts:
        first, last = min(counts), max(counts)
        span = (last - first).days
        days = [first + dt.timedelta(days=offset) for offset in range(min(span, 60) + 1)]
        ax.bar([day.strftime("%d %b") for day in days], [counts.get(day, 0) for day in days], color="#1f77b4")
        ax.tick_params(axis="x", labelrotation=45, labelsize=8)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    else:
        ax.text(0.5, 0.5, "none", ha="center", va="center", transform=ax.transAxes)
    years = sorted({incident.date.year for incident in incidents})
    suffix = f", {years[0]}" if len(years) == 1 else f", {years[0]}-{years[-1]}" if years else ""
    ax.set_title(f"Incidents per day (date of the attack{suffix})", fontsize=10)
