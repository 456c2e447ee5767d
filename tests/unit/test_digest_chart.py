"""The digest chart: a PNG of where and when, also for an empty period."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import zoneinfo

from matplotlib.image import imread

from bot.digest.chart import render_chart
from tests.unit.test_digest_render import T0, make_incident

BAGHDAD = zoneinfo.ZoneInfo("Asia/Baghdad")
PNG = b"\x89PNG\r\n\x1a\n"


def test_chart_is_a_png_of_the_expected_size() -> None:
    """Incidents with and without coordinates draw a 1400x800 PNG."""
    incidents = [
        make_incident(1),
        dataclasses.replace(make_incident(2, admin1="IQ-BA", place=None), lat=None, lon=None),
        make_incident(3, admin1="IQ-AN", place="<b>Rutba</b>", day=19, killed=4),
    ]
    data = render_chart(
        incidents, title="Digest", period_start=T0 - dt.timedelta(days=3), period_end=T0, zone=BAGHDAD
    )
    assert data.startswith(PNG)
    image = imread(io.BytesIO(data), format="png")
    assert image.shape[:2] == (800, 1400)


def test_empty_chart_still_renders() -> None:
    """No incidents: the chart says so instead of failing."""
    data = render_chart([], title="Digest", period_start=None, period_end=T0, zone=BAGHDAD)
    assert data.startswith(PNG)


def test_chart_differs_with_the_incidents() -> None:
    """The picture depends on the incidents (it is drawn, not a fixed image)."""
    one = render_chart([make_incident(1)], title="Digest", period_start=None, period_end=T0, zone=BAGHDAD)
    two = render_chart(
        [make_incident(1), make_incident(2, admin1="IQ-DQ", day=20)],
        title="Digest",
        period_start=None,
        period_end=T0,
        zone=BAGHDAD,
    )
    assert one != two
