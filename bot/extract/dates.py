"""Dates an attack report states, resolved against the post's own date (pure, no clock).

English ("On 23 January", "January 22, 2021", "22.01.2021", "on Sunday", "yesterday",
"last night", "this morning") and Arabic (both month-name systems, كانون الثاني and
يناير; Arabic-Indic digits; أمس، ليلة أمس، فجر اليوم، صباح اليوم، قبل قليل; يوم الأحد).
A day and month without a year is the latest such date not after the post's date; a
weekday is the latest such day not after it. Dates after the post's date are dropped:
a post cannot report an attack that has not happened.
"""

from __future__ import annotations

import datetime as dt
import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import Literal

from bot.extract.folding import Folded, fold
from bot.extract.spans import Coverage

#: A digits-only day/month ("بتاريخ ٢/٣") counts only this many days before the post.
CUED_DM_DAYS = 31

DateKind = Literal["absolute", "day_month", "weekday", "relative"]

_EN_MONTHS = {
    "january": 1,
    "jan": 1,
    "february": 2,
    "feb": 2,
    "march": 3,
    "mar": 3,
    "april": 4,
    "apr": 4,
    "may": 5,
    "june": 6,
    "jun": 6,
    "july": 7,
    "jul": 7,
    "august": 8,
    "aug": 8,
    "september": 9,
    "sept": 9,
    "sep": 9,
    "october": 10,
    "oct": 10,
    "november": 11,
    "nov": 11,
    "december": 12,
    "dec": 12,
}
# Folded spellings (hamza/alef folded, ة->ه, ى->ي): Syriac-derived (Iraq, Levant) and
# Latin-derived (Egypt, Gulf) month names.
_AR_MONTHS = {
    "كانون الثاني": 1,
    "يناير": 1,
    "شباط": 2,
    "فبراير": 2,
    "اذار": 3,
    "مارس": 3,
    "نيسان": 4,
    "ابريل": 4,
    "ايار": 5,
    "مايو": 5,
    "حزيران": 6,
    "يونيو": 6,
    "يونيه": 6,
    "تموز": 7,
    "يوليو": 7,
    "يوليه": 7,
    "اب": 8,
    "اغسطس": 8,
    "ايلول": 9,
    "سبتمبر": 9,
    "تشرين الاول": 10,
    "اكتوبر": 10,
    "تشرين الثاني": 11,
    "نوفمبر": 11,
    "كانون الاول": 12,
    "ديسمبر": 12,
}
_EN_WEEKDAYS = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
_AR_WEEKDAYS = {
    "الاثنين": 0,
    "الاتنين": 0,
    "الثلاثاء": 1,
    "الثلاثا": 1,
    "الاربعاء": 2,
    "الاربعا": 2,
    "الخميس": 3,
    "الجمعه": 4,
    "السبت": 5,
    "الاحد": 6,
}


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(word).replace(r"\ ", r"\s+") for word in sorted(words, key=len, reverse=True))


#: "Sun 13/6": the short English weekdays that cue a day and month in digits.
_SHORT_WEEKDAY_NAMES = ("mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun")
_EN_MONTH = _alternation(list(_EN_MONTHS))
_AR_MONTH = _alternation(list(_AR_MONTHS))
_AR_PROCLITIC = r"(?:[وفب]|ل)?"
_ORD = r"(?:st|nd|rd|th)?"
_YEAR = r"(?:19|20)\d{2}"

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "ymd",
        re.compile(rf"(?<!\d)(?P<y>{_YEAR})\s?[-/.]\s?(?P<m>\d{{1,2}})\s?[-/.]\s?(?P<d>\d{{1,2}})(?!\d)"),
    ),
    (
        "dmy",
        re.compile(rf"(?<![\d.:/])(?P<d>\d{{1,2}})[./-](?P<m>\d{{1,2}})[./-](?P<y>{_YEAR}|\d{{2}})(?![\d:])"),
    ),
    (
        # "بتاريخ ٢٢/١", "on 22/1", "ليلة ١٤/٣", "الأحد ١٣/٦", "Sun 13/6": a day and month in digits,
        # only after a date cue (a weekday is one)
        "cued_dm",
        re.compile(
            r"(?:(?<![\u0621-\u064a])[وف]?(?:يوم|بتاريخ|تاريخ|الموافق|ليله|مساء|صباح|فجر|ظهر|عصر|"
            + "|".join(_AR_WEEKDAYS)
            + r")[,\u060c]?|\b(?:on|dated|night\s+of|morning\s+of|evening\s+of|"
            + "|".join([*_EN_WEEKDAYS, *_SHORT_WEEKDAY_NAMES])
            + r")\.?,?)\s+"
            r"(?P<d>\d{1,2})\s?[./]\s?(?P<m>\d{1,2})(?![\d./]|:\d)"
        ),
    ),
    (
        # "05.09 – IED, Musayyib": a day and month in digits heading a line of a dated log
        "cued_dm",
        re.compile(r"(?m)^[ \t]*(?P<d>\d{1,2})\s?[./]\s?(?P<m>\d{1,2})(?=[ \t]*[-\u2013\u2014:|][ \t])"),
    ),
    (
        "d_month",
        re.compile(
            rf"(?<![\d:])(?P<d>\d{{1,2}}){_ORD}(?:\s+of)?\s*-?\s*(?P<mon>{_EN_MONTH})\b\.?(?:,?\s+(?P<y>{_YEAR}))?(?!\d)"
        ),
    ),
    (
        "month_d",
        re.compile(
            rf"\b(?P<mon>{_EN_MONTH})\.?\s+(?P<d>\d{{1,2}}){_ORD}(?![\d:])(?:,?\s+(?P<y>{_YEAR}))?(?!\d)"
        ),
    ),
    (
        "ar_d_month",
        re.compile(
            rf"(?<![\d:])(?P<d>\d{{1,2}})\s*(?:من\s+)?(?:شهر\s+)?{_AR_PROCLITIC}(?P<mon>{_AR_MONTH})(?![\u0621-\u064a])"
            rf"(?:\s*(?:\(\s*\d{{1,2}}\s*\)\s*)?(?:عام|سنه)?\s*(?P<y>{_YEAR}))?(?!\d)"
        ),
    ),
)

#: "Sat – IED, Yusufiyah", "Mon 10 Jan": a capitalised short weekday (matched in the original text)
#: counts before a dash, colon, comma or a day number, so "sat", "Sun" the newspaper do not;
#: after "on" it counts at a clause's end too ("an IED ... on Mon.", "on Tue, 3 KIA").
_EN_SHORT_WEEKDAY = re.compile(
    r"(?<![A-Za-z])(?P<wd>Mon|Tue|Tues|Wed|Thu|Thur|Thurs|Fri|Sat|Sun)\.?(?=\s*(?:[-\u2013\u2014:,]|\d))"
    r"|(?<=\bon\s)(?P<on>Mon|Tue|Tues|Wed|Thu|Thur|Thurs|Fri|Sat|Sun)\b\.?(?=\s*(?:[.;,)]|$))"
)
_SHORT_WEEKDAYS = {
    "mon": 0,
    "tue": 1,
    "tues": 1,
    "wed": 2,
    "thu": 3,
    "thur": 3,
    "thurs": 3,
    "fri": 4,
    "sat": 5,
    "sun": 6,
}
#: A weekday written next to the date it names ("Monday 21 March", "الخميس ٢٣ تشرين الثاني").
_NEXT_TO = re.compile(r"^[\s,.(\-]*(?:the\s+)?$")
#: The same, matched from a position inside the text (``^`` would fail there).
_NEXT_TO_AT = re.compile(_NEXT_TO.pattern.removeprefix("^"))

#: A vague time word next to the day it falls on ("overnight (30 Aug)", "overnight on Monday",
#: "Saturday overnight"): the day says it; between them only these words.
_VAGUE_BEFORE_DAY = re.compile(r"[\s,(\-]*(?:on\s+|of\s+)?(?:the\s+)?")
_VAGUE_AFTER_DAY = re.compile(r"[\s,)\-]*")

#: "في الثاني من تشرين الأول": a day written as an Arabic ordinal (folded spellings).
_AR_ORDINAL_DAYS = {
    "الاول": 1,
    "الثاني": 2,
    "الثالث": 3,
    "الرابع": 4,
    "الخامس": 5,
    "السادس": 6,
    "السابع": 7,
    "الثامن": 8,
    "التاسع": 9,
    "العاشر": 10,
    "الحادي عشر": 11,
    "الثاني عشر": 12,
    "الثالث عشر": 13,
    "الرابع عشر": 14,
    "الخامس عشر": 15,
    "السادس عشر": 16,
    "السابع عشر": 17,
    "الثامن عشر": 18,
    "التاسع عشر": 19,
    "العشرين": 20,
    "الحادي والعشرين": 21,
    "الثاني والعشرين": 22,
    "الثالث والعشرين": 23,
    "الرابع والعشرين": 24,
    "الخامس والعشرين": 25,
    "السادس والعشرين": 26,
    "السابع والعشرين": 27,
    "الثامن والعشرين": 28,
    "التاسع والعشرين": 29,
    "الثلاثين": 30,
    "الحادي والثلاثين": 31,
}
_AR_ORDINAL_DATE = re.compile(
    rf"(?<![\u0621-\u064a])(?P<ord>{_alternation(list(_AR_ORDINAL_DAYS))})\s+من\s+(?:شهر\s+)?{_AR_PROCLITIC}"
    rf"(?P<mon>{_AR_MONTH})(?![\u0621-\u064a])(?:\s*(?:عام|سنه)?\s*(?P<y>{_YEAR}))?(?!\d)"
)

_EN_WEEKDAY = re.compile(rf"\b(?P<wd>{'|'.join(_EN_WEEKDAYS)})(?:'s)?\b")
_AR_WEEKDAY = re.compile(
    rf"(?P<lead>(?:(?:يوم|ليله|ليلة|ليل|صباح|مساء|فجر|ظهر|عصر|ضحي|اليوم|ظهيره)\s+))?"
    rf"(?P<wd>{'|'.join(_AR_WEEKDAYS)})(?![\u0621-\u064a])(?P<trail>\s+(?:الماضي|المنصرم|الموافق|\d))?"
)

# Relative expressions: (pattern, days before the post's date).
_RELATIVE: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"\bthe\s+day\s+before\s+yesterday\b"), 2),
    (re.compile(r"(?<![\u0621-\u064a])(?:اول\s+(?:من\s+)?امس|امس\s+الاول)(?![\u0621-\u064a])"), 2),
    (re.compile(r"\byesterday\b|\blast\s+night\b"), 1),
    (
        re.compile(
            r"(?<![\u0621-\u064a])(?:[وفب]?(?:ال)?امس|البارحه|[وف]?ليله\s+امس|[وفب]?الليله\s+الماضيه)(?![\u0621-\u064a])"
        ),
        1,
    ),
    (
        re.compile(
            r"\b(?:today|tonight|overnight|this\s+(?:morning|afternoon|evening)|earlier\s+today|"
            r"(?:an?\s+|few\s+|several\s+)?(?:hours?|minutes?|moments?)\s+ago|just\s+now)\b"
        ),
        0,
    ),
    (
        re.compile(
            # not "بنفس اليوم" / "في ذات اليوم" (the same day as the attack told before)
            r"(?<![\u0621-\u064a])(?<!نفس\s)(?<!ذات\s)(?:[وف]?(?:فجر|صباح|ظهر|عصر|مساء|ليله|ضحي)\s+)?(?:هذا\s+)?[وفل]?اليوم(?![\u0621-\u064a])|"
            r"(?<![\u0621-\u064a])(?:قبل|منذ)\s+(?:قليل|ساعه|ساعات|دقائق|لحظات)(?![\u0621-\u064a])|"
            r"(?<![\u0621-\u064a])الليله(?![\u0621-\u064a])"
        ),
        0,
    ),
)


_COUNT_WORDS = {
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "ثلاثه": 3,
    "ثلاث": 3,
    "اربعه": 4,
    "اربع": 4,
    "خمسه": 5,
}
#: "two days ago", "قبل يومين", "منذ ثلاثة أيام": that many days before the post.
_DAYS_AGO = re.compile(
    r"\b(?:(?P<n>[2-7])|(?P<en>two|three|four|five))\s+days\s+ago\b|"
    r"(?<![\u0621-\u064a])(?:قبل|منذ)\s+(?:يومين|(?P<ar>ثلاثه|ثلاث|اربعه|اربع|خمسه|[2-7])\s+ايام)(?![\u0621-\u064a])"
)


@dataclass(frozen=True, slots=True)
class DateMention:
    """A date stated in a text: the resolved day, how it was stated and where (original offsets)."""

    date: dt.date
    kind: DateKind
    start: int
    end: int


def _year_for(day: int, month: int, reference: dt.date) -> dt.date | None:
    """The latest date with this day and month that is not after ``reference``."""
    for year in (reference.year, reference.year - 1):
        try:
            candidate = dt.date(year, month, day)
        except ValueError:
            continue
        if candidate <= reference:
            return candidate
    return None


def _absolute(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _month(name: str, table: dict[str, int]) -> int:
    return table[re.sub(r"\s+", " ", name).rstrip(".")]


def _weekday(weekday: int, reference: dt.date) -> dt.date:
    return reference - dt.timedelta(days=(reference.weekday() - weekday) % 7)


def _names_a_date(body: str, start: int, end: int, stated: list[tuple[int, int]]) -> bool:
    """Whether a weekday stands next to a stated date ("Monday 21 March", "21 March (Monday)").

    ``stated``: the stated dates, sorted, not overlapping. Only the nearest date on each side
    can stand next to it: the text up to a further one holds the nearer one's digits (or
    Arabic month), which ``_NEXT_TO`` never matches.
    """
    after = bisect_left(stated, (end, end))
    if after < len(stated) and _NEXT_TO_AT.match(body, end, stated[after][0]):
        return True
    ends = [other_end for _, other_end in stated]
    before = bisect_right(ends, start) - 1
    return before >= 0 and bool(_NEXT_TO_AT.match(body, ends[before], start))


#: "(3–9 July)", "28 Jan–3 Feb", "between 3 and 9 July": a period (a round-up's week), not a day.
_RANGE_BEFORE = re.compile(
    # "3–9 July", "3 – 9 July", "Jan–3 Feb"; not a list's number "1- 9 July" or "١- ٢٠٢١/٥/١٦"
    rf"(?:\b(?:{_EN_MONTH})\.?\s*[\u2013\u2014-]\s*|"
    rf"(?<=[ (\t])\d{{1,2}}{_ORD}(?:[\u2013\u2014-]|\s[\u2013\u2014-]\s))$|"
    r"\bbetween\s+\d{1,2}(?:st|nd|rd|th)?\s+and\s+$"
)
_RANGE_AFTER = re.compile(
    rf"\s*[\u2013\u2014-]\s*(?:\d{{1,2}}{_ORD}\s*(?:{_EN_MONTH})\b|(?:{_EN_MONTH})\.?\s+\d)"
)


def _drop_ranges(
    body: str, found: list[tuple[int, int, dt.date, DateKind]]
) -> list[tuple[int, int, dt.date, DateKind]]:
    """Without the dates that open or close a period ("3–9 July", "28 Jan–3 Feb")."""
    return [
        item
        for item in found
        if item[3] not in ("day_month", "absolute")
        or not (
            _RANGE_BEFORE.search(body[max(0, item[0] - 24) : item[0]]) or _RANGE_AFTER.match(body, item[1])
        )
    ]


def _drop_vague_beside_day(
    body: str, found: list[tuple[int, int, dt.date, DateKind]]
) -> list[tuple[int, int, dt.date, DateKind]]:
    """Without the relative mentions ("overnight", "last night") written right next to a
    weekday or a stated date ("overnight on Monday", "Overnight (30 Aug)"), which names their day."""
    ordered = sorted(found, key=lambda item: item[0])
    kept = []
    for position, (start, end, date, kind) in enumerate(ordered):
        if kind == "relative":
            after = ordered[position + 1] if position + 1 < len(ordered) else None
            before = ordered[position - 1] if position > 0 else None
            if after is not None and after[3] != "relative":
                match = _VAGUE_BEFORE_DAY.match(body, end)
                if match is not None and match.end() == after[0]:
                    continue
            if before is not None and before[3] != "relative":
                match = _VAGUE_AFTER_DAY.match(body, before[1])
                if match is not None and match.end() == start:
                    continue
        kept.append((start, end, date, kind))
    return kept


def find_dates(text: str, reference: dt.date, *, folded: Folded | None = None) -> list[DateMention]:
    """Every date the text states, resolved against ``reference`` (the post's local date), in text order."""
    source = folded or fold(text)
    body = source.text
    found: list[tuple[int, int, dt.date, DateKind]] = []
    taken = Coverage(len(body))
    latest = reference + dt.timedelta(days=1)
    for name, pattern in _PATTERNS:
        for match in pattern.finditer(body):
            if taken.overlaps(match.start(), match.end()):
                continue
            groups = match.groupdict()
            month = (
                int(groups["m"])
                if groups.get("m")
                else _month(groups["mon"], _EN_MONTHS if name in ("d_month", "month_d") else _AR_MONTHS)
            )
            day = int(groups["d"])
            year_text = groups.get("y")
            if year_text:
                year = int(year_text)
                if year < 100:
                    year += 2000
                resolved = _absolute(year, month, day)
                kind: DateKind = "absolute"
            else:
                resolved = _year_for(day, month, reference)
                kind = "day_month"
            if resolved is None or resolved > latest:
                continue
            if name == "cued_dm" and (reference - resolved).days > CUED_DM_DAYS:
                continue  # "on 3/4" a month back or more is likelier a month/day or a score
            found.append((match.start(), match.end(), resolved, kind))
            taken.add(match.start(), match.end())
    for match in _AR_ORDINAL_DATE.finditer(body):
        if taken.overlaps(match.start(), match.end()):
            continue
        day, month = _AR_ORDINAL_DAYS[re.sub(r"\s+", " ", match["ord"])], _month(match["mon"], _AR_MONTHS)
        resolved = _absolute(int(match["y"]), month, day) if match["y"] else _year_for(day, month, reference)
        if resolved is not None and resolved <= latest:
            found.append((match.start(), match.end(), resolved, "absolute" if match["y"] else "day_month"))
            taken.add(match.start(), match.end())
    for match in _EN_WEEKDAY.finditer(body):
        if not taken.overlaps(match.start(), match.end()):
            found.append(
                (match.start(), match.end(), _weekday(_EN_WEEKDAYS[match["wd"]], reference), "weekday")
            )
            taken.add(match.start(), match.end())
    for match in _EN_SHORT_WEEKDAY.finditer(text):
        start, end = source.position(match.start()), source.position(match.end())
        if not taken.overlaps(start, end):
            found.append(
                (
                    start,
                    end,
                    _weekday(_SHORT_WEEKDAYS[(match["wd"] or match["on"]).casefold()], reference),
                    "weekday",
                )
            )
            taken.add(start, end)
    for match in _AR_WEEKDAY.finditer(body):
        # "الاحد"/"الاثنين" are also "the one"/"the two": a weekday needs a cue around it.
        if not (match["lead"] or match["trail"]):
            continue
        trail = (match["trail"] or "").strip()
        if trail == "الموافق" or trail.isdigit():
            continue  # "يوم الأحد الموافق ١٣ أيلول": the stated date says it
        if taken.overlaps(match.start("wd"), match.end("wd")):
            continue
        resolved = _weekday(_AR_WEEKDAYS[match["wd"]], reference)
        lead = (match["lead"] or "").strip()
        if lead == "اليوم" and (reference - resolved).days > 1:
            resolved = reference  # "اليوم الثلاثاء" is today, whatever weekday the post got wrong
        found.append((match.start(), match.end(), resolved, "weekday"))
        taken.add(match.start(), match.end())
    for match in _DAYS_AGO.finditer(body):
        if taken.overlaps(match.start(), match.end()):
            continue
        count = match["n"] or match["en"] or match["ar"] or "2"  # يومين: the dual, two days
        days = int(count) if count.isdigit() else _COUNT_WORDS.get(count, 2)
        if 1 <= days <= 7:
            found.append((match.start(), match.end(), reference - dt.timedelta(days=days), "relative"))
            taken.add(match.start(), match.end())
    for pattern, days_before in _RELATIVE:
        for match in pattern.finditer(body):
            if taken.overlaps(match.start(), match.end()):
                continue
            found.append((match.start(), match.end(), reference - dt.timedelta(days=days_before), "relative"))
            taken.add(match.start(), match.end())
    found = _drop_vague_beside_day(body, _drop_ranges(body, found))
    stated = sorted((start, end) for start, end, _, kind in found if kind in ("absolute", "day_month"))
    found = [
        item for item in found if item[3] != "weekday" or not _names_a_date(body, item[0], item[1], stated)
    ]
    mentions = []
    for start, end, date, kind in sorted(found, key=lambda item: item[0]):
        first, last = source.span(start, end)
        mentions.append(DateMention(date, kind, first, last))
    return mentions
