"""Rendering digests and alerts: escaping, Arabic, grouping, counts, splitting at the limit."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.digest.policy import AlertReason, DigestEntry
from bot.digest.render import (
    FSI,
    PDI,
    TELEGRAM_LIMIT,
    DigestView,
    clean,
    render_alert,
    render_blocks,
    render_caption,
    render_digest,
    split_blocks,
    telegram_length,
    to_plain,
)
from bot.model import Incident, Source

BAGHDAD = zoneinfo.ZoneInfo("Asia/Baghdad")
T0 = dt.datetime(2026, 11, 21, 4, 0, tzinfo=dt.UTC)
ALLOWED_TAGS = {"b", "i", "a"}


def make_incident(
    incident_id: int = 1,
    *,
    place: str | None = "Abu Ghraib",
    place_ar: str | None = "أبو غريب",
    admin1: str | None = "IQ-BG",
    claimed_by: str | None = None,
    killed: int | None = None,
    injured: int | None = None,
    day: int = 21,
    sources: tuple[Source, ...] | None = None,
    attack_type: str = "ied",
) -> Incident:
    """An incident with sensible defaults."""
    if sources is None:
        sources = (
            Source("sabreen_s1", 100 + incident_id, T0, f"https://t.me/sabreen_s1/{100 + incident_id}"),
        )
    return Incident(
        incident_id=incident_id,
        date=dt.date(2026, 11, day),
        country="IQ",
        admin1=admin1,
        place=place,
        place_ar=place_ar,
        attack_type=attack_type,
        target="us_coalition",
        claimed_by=claimed_by,
        killed=killed,
        injured=injured,
        lat=33.3,
        lon=44.2,
        first_seen=T0 + dt.timedelta(minutes=incident_id),
        sources=sources,
    )


def view(*entries: DigestEntry) -> DigestView:
    """A digest view over the twelve hours before T0."""
    return DigestView("Convoy attacks · digest", T0 - dt.timedelta(hours=12), T0, BAGHDAD, tuple(entries))


class TagChecker(HTMLParser):
    """Collects tags and checks they nest and close."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack.pop() != tag:
            self.errors.append(f"unbalanced </{tag}>")


def check_tags(html: str) -> TagChecker:
    """Parse Telegram HTML, asserting only allowed, balanced tags and t.me links."""
    checker = TagChecker()
    checker.feed(html)
    checker.close()
    assert not checker.errors, checker.errors
    assert not checker.stack, f"unclosed {checker.stack}"
    for tag, attrs in checker.tags:
        assert tag in ALLOWED_TAGS, tag
        if tag == "a":
            assert set(attrs) == {"href"}
            assert (attrs["href"] or "").startswith("https://t.me/")
    return checker


HOSTILE = [
    "<b>bold</b>",
    '<a href="https://evil.example">click</a>',
    "</a></b><i>",
    "&amp; &lt;script&gt;",
    'x" onclick="alert(1)',
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_place_and_claimant_come_out_literal(text: str) -> None:
    """Channel text with tags or entities is escaped: no tag gets through and plain text is the original."""
    incident = make_incident(place=text, claimed_by=text, place_ar=text)
    html = "".join(render_blocks(view(DigestEntry(incident))))
    check_tags(html)
    assert 'evil.example"' not in html.replace("&quot;", "")
    assert to_plain(html).count(text) >= 2


def test_hostile_source_link_is_not_a_link() -> None:
    """A source whose link is not a plain t.me post link is shown as text, never as an anchor."""
    bad = Source('x"><b>', 5, T0, 'javascript:alert("x")')
    incident = make_incident(sources=(bad,))
    html = "".join(render_blocks(view(DigestEntry(incident))))
    checker = check_tags(html)
    assert [tag for tag, _ in checker.tags if tag == "a"] == []
    assert 'x"&gt;&lt;b&gt;/5' in html.replace("&quot;", '"')


def test_alert_escapes_and_states_reasons() -> None:
    """An alert names why it fired and escapes the claimant."""
    incident = make_incident(claimed_by="<i>Ashab al-Kahf</i>", killed=2, injured=1)
    html = render_alert(incident, ("casualties", "claim"))
    check_tags(html)
    plain = to_plain(html)
    assert "3 casualties" in plain
    assert "claimed by <i>Ashab al-Kahf</i>" in plain
    assert telegram_length(html) <= TELEGRAM_LIMIT


def test_arabic_names_are_isolated_beside_english() -> None:
    """Arabic text is wrapped in first-strong/pop isolates; English is left alone."""
    html = "".join(render_blocks(view(DigestEntry(make_incident(claimed_by="عصبة الثائرين")))))
    assert f"<b>Abu Ghraib</b> {FSI}أبو غريب{PDI}" in html
    assert f"<b>{FSI}عصبة الثائرين{PDI}</b>" in html
    assert f"📍 <b>Baghdad</b> {FSI}بغداد{PDI}" in html


def test_bidi_overrides_in_channel_text_are_removed() -> None:
    """Bidi override characters cannot reorder a line: clean() strips them and line breaks."""
    assert clean("Rut\u202eab\u202c\nfoo\u2066") == "Rutab foo"


def test_only_arabic_place_is_shown_bold() -> None:
    """An incident with only an Arabic place name shows it as the place."""
    html = "".join(render_blocks(view(DigestEntry(make_incident(place=None, place_ar="الرطبة")))))
    assert f"• <b>{FSI}الرطبة{PDI}</b>" in html


def test_counts_at_the_top_and_grouping_by_day_then_governorate() -> None:
    """Counts head the digest; newest day first; governorates by count within a day."""
    entries = (
        DigestEntry(make_incident(1, admin1="IQ-AN", place="Rutba", place_ar=None, day=20, killed=1)),
        DigestEntry(make_incident(2, admin1="IQ-BG", killed=2, injured=3, claimed_by="X")),
        DigestEntry(make_incident(3, admin1="IQ-DQ", place="Nasiriyah", place_ar=None), "updated"),
        DigestEntry(make_incident(4, admin1="IQ-DQ", place="Suq al-Shuyukh", place_ar=None)),
    )
    plain = to_plain("".join(render_blocks(view(*entries))))
    lines = plain.splitlines()
    assert lines[2] == "4 incidents (3 new, 1 updated) · 3 killed · 3 injured · 1 claimed"
    assert lines[3] == "Dhi Qar 2 · Anbar 1 · Baghdad 1"
    order = [plain.index(name) for name in ("Saturday 21 Nov", "📍 Dhi Qar", "Nasiriyah", "Suq al-Shuyukh")]
    order += [plain.index(name) for name in ("📍 Baghdad", "Friday 20 Nov", "📍 Anbar", "Rutba")]
    assert order == sorted(order)
    assert "• 🔄 update · Nasiriyah" in plain


def test_incident_lines_show_every_detail_and_every_source() -> None:
    """Place, type, target, claimant, casualties, corroboration and each source link are shown."""
    sources = (
        Source("chan_a", 11, T0, "https://t.me/chan_a/11"),
        Source("chan_b", 12, T0 + dt.timedelta(minutes=1), "https://t.me/chan_b/12", deleted=True),
        Source("chan_a", 13, T0 + dt.timedelta(minutes=2), "https://t.me/chan_a/13"),
    )
    incident = make_incident(claimed_by="Ashab al-Kahf", killed=0, injured=2, sources=sources)
    html = "".join(render_blocks(view(DigestEntry(incident))))
    plain = to_plain(html)
    assert "IED · US-led coalition convoy" in plain
    assert "0 killed, 2 injured · claimed by Ashab al-Kahf" in plain
    assert "2 channels, 3 posts" in plain
    for source in sources:
        assert f'<a href="{source.link}">' in html
    assert "https://t.me/chan_b/12 (deleted)" in plain


def test_many_sources_are_capped_with_a_count_of_the_rest() -> None:
    """An incident with hundreds of sources stays in one message and says how many are not linked."""
    sources = tuple(
        Source(f"channel_{n:03d}", n, T0, f"https://t.me/channel_{n:03d}/{n}") for n in range(300)
    )
    blocks = render_blocks(view(DigestEntry(make_incident(sources=sources))))
    assert all(telegram_length(block) <= TELEGRAM_LIMIT for block in blocks)
    assert "more" in blocks[-1]
    assert "300 channels, 300 posts" in blocks[-1]


def test_empty_period_says_so() -> None:
    """A digest with no entries is one short message saying nothing is new."""
    parts = render_digest(view())
    assert len(parts) == 1
    assert to_plain(parts[0]).splitlines() == [
        "Convoy attacks · digest",
        "20 Nov 19:00 – 21 Nov 07:00 (Asia/Baghdad)",
        "No new incidents.",
    ]


def test_caption_fits_the_caption_limit() -> None:
    """The chart caption carries no channel text and stays short."""
    caption = render_caption(view(DigestEntry(make_incident(place="<b>" * 500))))
    assert "<b>" * 2 not in caption
    assert telegram_length(caption) < 200


def test_split_keeps_blocks_whole() -> None:
    """Blocks are packed greedily and never cut when each fits the limit."""
    blocks = ["a" * 40 + "\n\n", "b" * 40 + "\n\n", "c" * 40]
    assert split_blocks(blocks, 90) == (blocks[0] + blocks[1], blocks[2])


def test_split_refuses_a_line_longer_than_the_limit() -> None:
    """A single line that cannot fit is an error, not a silently broken tag."""
    with pytest.raises(ValueError, match="does not fit"):
        split_blocks(["<b>" + "x" * 100 + "</b>"], 50)


def test_telegram_length_counts_utf16_units() -> None:
    """Characters outside the BMP (emoji) count twice, as Telegram counts them."""
    assert telegram_length("a📅") == 3


# ------------------------------------------------------------------ property tests
_text = st.text(st.characters(codec="utf-8"), max_size=120)
_sources = st.lists(
    st.builds(
        Source,
        channel=st.from_regex(r"[a-z][a-z0-9_]{3,31}", fullmatch=True),
        message_id=st.integers(1, 10**7),
        posted_at=st.just(T0),
        link=st.one_of(st.just("https://t.me/x_chan/1"), _text),
        deleted=st.booleans(),
    ),
    min_size=1,
    max_size=60,
)
_incidents = st.builds(
    Incident,
    incident_id=st.integers(1, 10**6),
    date=st.dates(dt.date(2026, 11, 1), dt.date(2026, 11, 30)),
    country=st.just("IQ"),
    admin1=st.sampled_from(["IQ-BG", "IQ-AN", "IQ-DQ", "IQ-BA", None]),
    place=st.one_of(st.none(), _text),
    attack_type=st.sampled_from(["ied", "rocket", "drone", "gunfire", "arson", "unknown"]),
    target=st.sampled_from(["us_coalition", "iraqi_forces", "other", "unknown"]),
    claimed_by=st.one_of(st.none(), _text),
    killed=st.one_of(st.none(), st.integers(0, 500)),
    injured=st.one_of(st.none(), st.integers(0, 500)),
    lat=st.none(),
    lon=st.none(),
    first_seen=st.just(T0),
    sources=_sources.map(tuple),
    place_ar=st.one_of(st.none(), _text),
)
_entries = st.lists(
    st.builds(DigestEntry, incident=_incidents, status=st.sampled_from(["new", "updated", "seen"])),
    max_size=40,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=_entries)
def test_parts_rejoin_to_the_whole_and_fit(entries: list[DigestEntry]) -> None:
    """Whatever the incidents, the parts rejoin to the whole digest, each within 4096 with balanced tags."""
    digest = view(*entries)
    whole = "".join(render_blocks(digest))
    parts = render_digest(digest)
    assert "".join(parts) == whole
    for part in parts:
        assert telegram_length(part) <= TELEGRAM_LIMIT
        check_tags(part)
    # no incident is cut: each incident's first line and its sources line are in the same part
    for part in parts:
        lines = part.splitlines()
        starts = sum(1 for line in lines if line.startswith("• "))
        ends = sum(1 for line in lines if re.match(r"   \d+ channels?, \d+ posts?", line))
        assert starts == ends


@settings(max_examples=80, deadline=None)
@given(
    blocks=st.lists(st.text(st.characters(codec="utf-8"), max_size=300), max_size=30),
    limit=st.integers(300, 5000),
)
def test_split_blocks_property(blocks: list[str], limit: int) -> None:
    """Packing arbitrary blocks: parts rejoin exactly, each within the limit, blocks that fit stay whole."""
    blocks = [block.replace("\n", " ") + "\n" for block in blocks]
    parts = split_blocks(blocks, limit)
    assert "".join(parts) == "".join(blocks)
    assert all(telegram_length(part) <= limit for part in parts)
    boundaries = {0}
    position = 0
    for block in blocks:
        position += len(block)
        boundaries.add(position)
    position = 0
    for part in parts:
        position += len(part)
        assert position in boundaries


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    incident=_incidents, reasons=st.lists(st.sampled_from(["casualties", "claim", "sources", "governorate"]))
)
def test_alert_always_fits_one_message(incident: Incident, reasons: list[AlertReason]) -> None:
    """Whatever the incident, an alert is one message within 4096 with only allowed, balanced tags."""
    html = render_alert(incident, reasons)
    assert telegram_length(html) <= TELEGRAM_LIMIT
    check_tags(html)
