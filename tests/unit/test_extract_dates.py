"""Attack dates stated in English and Arabic, resolved against the post's local date."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.extract.dates import find_dates

# Thursday 2021-03-04 (Iraq time)
POSTED = dt.date(2021, 3, 4)


def first_date(text: str, reference: dt.date = POSTED) -> dt.date | None:
    found = find_dates(text, reference)
    return found[0].date if found else None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("On 23 January, three convoys came under attack", dt.date(2021, 1, 23)),
        ("On January 22, five convoys were hit", dt.date(2021, 1, 22)),
        ("22.01.2021 - IED attack", dt.date(2021, 1, 22)),
        ("Mon 1 Mar – IED, Nasiriyah", dt.date(2021, 3, 1)),
        ("on 2nd of March", dt.date(2021, 3, 2)),
        ("March 3rd, 2021", dt.date(2021, 3, 3)),
        ("an IED hit a convoy on Tuesday near Hillah", dt.date(2021, 3, 2)),
        ("on Thursday morning", dt.date(2021, 3, 4)),
        ("late on Friday", dt.date(2021, 2, 26)),
        ("yesterday evening near Kufa", dt.date(2021, 3, 3)),
        ("last night on the highway", dt.date(2021, 3, 3)),
        ("this morning in Samawah", dt.date(2021, 3, 4)),
        ("the day before yesterday", dt.date(2021, 3, 2)),
        ("استهداف رتل أمس في الديوانية", dt.date(2021, 3, 3)),
        ("ليلة أمس على الطريق السريع", dt.date(2021, 3, 3)),
        ("مساء أمس قرب الناصرية", dt.date(2021, 3, 3)),
        ("فجر اليوم الخميس", dt.date(2021, 3, 4)),
        ("صباح اليوم", dt.date(2021, 3, 4)),
        ("قبل قليل", dt.date(2021, 3, 4)),
        ("يوم الأحد الموافق ٢٨ شباط ٢٠٢١", dt.date(2021, 2, 28)),
        ("في ٢٨ فبراير", dt.date(2021, 2, 28)),
        ("١- ٢٠٢١/٢/١٦ : استهداف رتل", dt.date(2021, 2, 16)),
        ("يوم الثلاثاء الماضي", dt.date(2021, 3, 2)),
        ("١٥ كانون الثاني", dt.date(2021, 1, 15)),
        ("15 كانون الأول", dt.date(2020, 12, 15)),
        ("أول أمس", dt.date(2021, 3, 2)),
        ("صباح اليوم الثلاثاء", dt.date(2021, 3, 4)),
    ],
)
def test_stated_dates_resolve_against_the_post(text: str, expected: dt.date) -> None:
    """Each way of stating a date gives the attack day relative to the post's date."""
    assert first_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "IED attacks rose in 2021",
        "at 10:03 am the convoy",
        "a 4×4 vehicle and 18 containers",
        "أحد السائقين أصيب",
        "وصل الرتل إلى الاثنين من المواقع",
        "5 out of 18 containers",
        "the score was 3/4 on Highway 1",
        "at 10.30 on 3/4",
    ],
)
def test_text_without_a_date_gives_none(text: str) -> None:
    """Times, counts and the words that look like weekdays are not dates."""
    assert first_date(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("• Tuesday 2 March: an IED hit an army convoy", dt.date(2021, 3, 2)),
        ("Sunday, 28 February – a drone hit a convoy", dt.date(2021, 2, 28)),
        ("on 1 March (Monday) near Kut", dt.date(2021, 3, 1)),
        ("▪️ Wed – IED, Mahmudiyah", dt.date(2021, 3, 3)),
        ("Tue: rockets on a convoy near Kufa", dt.date(2021, 3, 2)),
        ("a bomb went off overnight near Afak", dt.date(2021, 3, 4)),
        ("انفجار عبوة في الثاني من آذار قرب الكوت", dt.date(2021, 3, 2)),
        ("يوم الخامس والعشرين من شهر شباط ٢٠٢١", dt.date(2021, 2, 25)),
        ("في العاشر من كانون الثاني", dt.date(2021, 1, 10)),
        ("an IED hit a convoy two days ago", dt.date(2021, 3, 2)),
        ("استهداف رتل قبل يومين", dt.date(2021, 3, 2)),
        ("منذ ثلاثة أيام", dt.date(2021, 3, 1)),
        ("انفجار عبوة على رتل الليلة الماضية", dt.date(2021, 3, 3)),
        ("استهداف رتل بتاريخ ٢/٣", dt.date(2021, 3, 2)),
        ("an IED hit a convoy on 1/3 near Kut", dt.date(2021, 3, 1)),
    ],
)
def test_weekdays_short_forms_ordinals_and_overnight(text: str, expected: dt.date) -> None:
    """A weekday beside a stated date defers to it; short weekdays, Arabic ordinal days, overnight."""
    assert [mention.date for mention in find_dates(text, POSTED)] == [expected]


@pytest.mark.parametrize("text", ["we sat - waiting for news", "sun: 45 degrees in Basra", "Mon Dieu"])
def test_short_weekdays_need_a_capital_and_a_separator(text: str) -> None:
    """Lower-case 'sat'/'sun' and 'Mon' without a separator after it are not weekdays."""
    assert first_date(text) is None


def test_day_month_without_year_is_the_latest_not_after_the_post() -> None:
    """A day and month after the post's date is last year's."""
    assert first_date("On 23 December", dt.date(2022, 1, 24)) == dt.date(2021, 12, 23)
    assert first_date("On 23 January", dt.date(2022, 1, 24)) == dt.date(2022, 1, 23)


def test_dates_after_the_post_are_dropped() -> None:
    """A post cannot report an attack after it was posted."""
    assert first_date("On 20 March 2021", dt.date(2021, 3, 4)) is None


def test_offsets_point_into_the_original_text() -> None:
    """The mention's span is in the original text even after Arabic folding."""
    text = "انفجار عبوةٍ ناسفة يوم الأحد الموافق ١٣ أيلول ٢٠٢٠ في اليوسفية"
    found = find_dates(text, dt.date(2020, 9, 13))
    assert found
    assert "١٣ أيلول ٢٠٢٠" in text[found[0].start : found[0].end]


@given(st.text(max_size=200), st.dates(min_value=dt.date(2001, 1, 1), max_value=dt.date(2098, 12, 31)))
def test_any_text_gives_dates_not_after_the_post(text: str, reference: dt.date) -> None:
    """Arbitrary text never raises and never yields a date more than a day after the post."""
    for mention in find_dates(text, reference):
        assert mention.date <= reference + dt.timedelta(days=1)
        assert 0 <= mention.start <= mention.end <= len(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("انفجار عبوة على رتل ليلة ٣/٣ قرب الحلة", dt.date(2021, 3, 3)),
        ("استهداف رتل فجر ٢/٣ في الديوانية", dt.date(2021, 3, 2)),
        ("on the night of 1/3 near Kut", dt.date(2021, 3, 1)),
        ("منتصف ليل الثلاثاء قرب الكوت", dt.date(2021, 3, 2)),
        ("ظهيرة الأربعاء", dt.date(2021, 3, 3)),
    ],
)
def test_a_digits_day_month_after_a_time_of_day_cue(text: str, expected: dt.date) -> None:
    """ "ليلة ٣/٣", "the night of 1/3", "منتصف ليل الثلاثاء": a date after a time-of-day cue."""
    assert first_date(text) == expected


def test_a_day_and_month_heading_a_log_line_is_a_date() -> None:
    """ "02.03 – IED, ..." at the start of a line is 2 March; the same digits mid-sentence are not a date."""
    text = "Log:\n02.03 – IED, Kut\n03.03 – rockets, Hit"
    assert [mention.date for mention in find_dates(text, POSTED)] == [
        dt.date(2021, 3, 2),
        dt.date(2021, 3, 3),
    ]
    assert find_dates("The convoy had 02.03 tonnes of spare parts aboard.", POSTED) == []


def test_a_short_weekday_after_on_closes_a_clause() -> None:
    """ "... near Baiji on Mon." is Monday; "on Sun TV" names a channel, not a day."""
    assert first_date("An IED hit an army convoy near Baiji on Mon.") == dt.date(2021, 3, 1)
    assert first_date("Militants ambushed a convoy on Tue, 2 KIA.") == dt.date(2021, 3, 2)
    assert find_dates("The footage was aired on Sun TV.", POSTED) == []
