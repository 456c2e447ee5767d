"""Property tests for the digest renderer: hostile channel text cannot break layout or inject markup."""

from __future__ import annotations

import datetime as dt
import re

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.digest.policy import ALERT_REASONS, DigestEntry
from bot.digest.render import TELEGRAM_LIMIT, DigestView, render_alert, render_digest, telegram_length
from bot.model import ATTACK_TYPES, TARGETS, Incident, Source, post_link

FUZZ = settings(max_examples=50, deadline=None)

#: The only markup the renderer may emit: bold, italic and links to t.me posts.
_ALLOWED_TAG = re.compile(r'<(?:/?[bi]|/a|a href="https://t\.me/[A-Za-z0-9_]{1,64}(?:/[0-9]{1,20}){1,2}")>')
_ANY_TAG = re.compile(r"<[^<>]*>")

HOSTILE = st.sampled_from(
    [
        "<script>alert(1)</script>",
        '<a href="https://evil.example">click</a>',
        "</b></i><b>",
        "*bold* _it_ [x](https://evil.example) `code`",
        "\u202eevil\u202c",
        "\u200f\u200f\u200f",
        "🔥" * 500,
        "بغداد & <الكرخ>",
        "x" * 5000,
        "",
        " ",
        "\n\n\r\t",
        "&amp;&lt;",
    ]
)
texts = HOSTILE | st.text(max_size=300)
optional_texts = st.none() | texts
channels = texts.filter(bool) | st.from_regex(r"[a-z][a-z0-9_]{2,30}", fullmatch=True)
counts = st.none() | st.integers(min_value=0, max_value=10**15)
moments = st.datetimes(
    min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2100, 1, 1), timezones=st.just(dt.UTC)
)


@st.composite
def sources(draw: st.DrawFn) -> Source:
    channel = draw(channels)
    message_id = draw(st.integers(min_value=0, max_value=2**63 - 1))
    link = draw(st.sampled_from([post_link(channel, message_id), "javascript:alert(1)", "https://t.me/x/1"]))
    return Source(channel, message_id, draw(moments), link, draw(st.booleans()))


@st.composite
def incidents(draw: st.DrawFn) -> Incident:
    first = draw(moments)
    return Incident(
        incident_id=draw(st.integers(min_value=1, max_value=2**40)),
        date=first.date(),
        country=draw(st.sampled_from(["IQ", "SY", None])),
        admin1=draw(st.sampled_from(["IQ-BG", "IQ-QA", "SY-HA", None, "XX-<b>"])),
        place=draw(optional_texts),
        place_ar=draw(optional_texts),
        attack_type=draw(st.sampled_from(ATTACK_TYPES)),
        target=draw(st.sampled_from(TARGETS)),
        claimed_by=draw(optional_texts),
        killed=draw(counts),
        injured=draw(counts),
        lat=None,
        lon=None,
        first_seen=first,
        sources=tuple(draw(st.lists(sources(), min_size=1, max_size=25))),
    )


def _only_allowed_markup(message: str) -> bool:
    return all(_ALLOWED_TAG.fullmatch(tag) for tag in _ANY_TAG.findall(message))


@FUZZ
@given(incidents(), st.lists(st.sampled_from(ALERT_REASONS), min_size=1, max_size=4, unique=True))
def test_alert_fits_one_message_and_carries_no_foreign_markup(incident: Incident, reasons: list[str]) -> None:
    """Any incident renders to one alert within Telegram's limit with only our own tags."""
    message = render_alert(incident, reasons)  # type: ignore[arg-type]
    assert telegram_length(message) <= TELEGRAM_LIMIT
    assert _only_allowed_markup(message)
    assert "<script>" not in message


@FUZZ
@given(st.lists(incidents(), max_size=8), moments, st.sampled_from(["new", "updated"]))
def test_digest_messages_fit_and_carry_no_foreign_markup(
    found: list[Incident], end: dt.datetime, status: str
) -> None:
    """Any set of incidents renders to messages each within the limit, with only our own tags."""
    view = DigestView(
        title="Convoy attacks · digest",
        period_start=end - dt.timedelta(hours=6),
        period_end=end,
        zone=dt.timezone(dt.timedelta(hours=3)),
        entries=tuple(DigestEntry(incident, status) for incident in found),  # type: ignore[arg-type]
    )
    messages = render_digest(view)
    assert messages
    for message in messages:
        assert telegram_length(message) <= TELEGRAM_LIMIT
        assert _only_allowed_markup(message)
        assert "\u202e" not in message  # bidi overrides from channel text are stripped


def test_injected_markup_is_shown_as_text() -> None:
    """HTML and Markdown in a place name appear escaped, never as markup."""
    incident = Incident(
        incident_id=1,
        date=dt.date(2024, 2, 31 - 2),
        country="IQ",
        admin1="IQ-BG",
        place='<b>x</b><a href="https://evil.example">y</a>',
        place_ar=None,
        attack_type="ied",
        target="us_coalition",
        claimed_by="*Ashab* [al-Kahf](https://evil.example)",
        killed=999_999_999_999,
        injured=None,
        lat=None,
        lon=None,
        first_seen=dt.datetime(2024, 2, 3, tzinfo=dt.UTC),
        sources=(Source("chan", 5, dt.datetime(2024, 2, 3, tzinfo=dt.UTC), post_link("chan", 5)),),
    )
    message = render_alert(incident, ["claim", "casualties"])
    assert "&lt;b&gt;x&lt;/b&gt;" in message
    assert 'href="https://evil.example"' not in message
    assert "999999999999" in message
    assert _only_allowed_markup(message)
