"""Where a post lists several attacks: list items, ordinals, and stated counts (pure).

Posts list attacks as numbered or bulleted lines ("1) Diwaniya", "1️⃣ الديوانية:",
"١- ٢٠٢١/٥/١٦ : ...", "• Mon 10 Jan – IED, Nasiriyah"), inline numbers ("(1) ... (2) ..."),
or ordinals ("The first attack ... The second ...", "الأول في ... والثاني في ..."). Each
item is a ``Segment``; the text outside every item (a preamble, a closing line such as
"No casualties reported in any of them" or "all five were claimed by ...") is shared by
all of them. Without such structure a post may still state how many convoys were hit
("two convoys", "رتلين", "five convoys"): ``stated_count`` reads it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.extract.folding import fold
from bot.extract.numbers import AR_NUMBERS, EN_NUMBERS
from bot.extract.spans import Overlaps, search_before

_LINE_ITEM = re.compile(
    r"^[ \t]*(?:"
    r"\(?(?P<num>\d{1,2})\s*[).:\-/]\s|"  # 1) 1. 1- (1) 1/ (a thread), never 22.01.2021 or 29/30
    r"\((?P<pnum>\d{1,2})\)|"
    r"(?P<ar>[١-٩][٠-٩]?)\s*(?:[-–).:]|/(?![٠-٩\d]))|"  # ١- ٢) ٣/, never ١/٦/٢٠٢١
    r"(?P<key>\d)\ufe0f?\u20e3|"  # keycap emoji 1️⃣
    # "05.09 – IED, Musayyib": a dated log line
    r"(?P<dated>\d{1,2}[./]\d{1,2}(?:[./](?:\d{4}|\d{2}))?)[ \t]*[-\u2013\u2014:|][ \t]|"
    r"(?P<bullet>[•·▪◾◽▫●○■□►▶➖➤→⇒➔➜🔹🔸🔺🔻🔘✔☑✅◆◇\-*\u2013\u2014])\ufe0f?\s|"  # "– Hilla": a dash too
    r"(?P<row>\|)[ \t]*(?=[^\s|\-:])"  # "| 0610 | Diwaniyah | IED | ... |": a table row, not "|---|"
    r")"
)
_INLINE_ITEM = re.compile(r"(?:(?<=\s)|^)\((?P<num>[1-9])\)")
_EN_ORDINALS = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
}
_AR_ORDINALS = {
    "اول": 1,
    "اولي": 1,
    "ثاني": 2,
    "ثانيه": 2,
    "ثالث": 3,
    "ثالثه": 3,
    "رابع": 4,
    "رابعه": 4,
    "خامس": 5,
    "خامسه": 5,
    "سادس": 6,
    "سادسه": 6,
    "سابع": 7,
    "سابعه": 7,
    "ثامن": 8,
    "ثامنه": 8,
}
_ORDINAL = re.compile(
    r"\b(?P<en>" + "|".join(_EN_ORDINALS) + r")\b|"
    r"(?<![\u0621-\u064a])(?P<lead>[وف]?)ال(?P<ar>"
    + "|".join(sorted(_AR_ORDINALS, key=len, reverse=True))
    + r")"
    r"(?![\u0621-\u064a])"
)
#: Words before an Arabic ordinal that make it part of a name, not a list position.
_NOT_LIST = re.compile(
    r"(?:كانون|تشرين|ربيع|جمادي|ملازم|الفوج|اللواء|الفرقه|الفيلق|العشرين|الجيل|الصف|الدرجه|المرتبه|الطريق)\s*$"
)
#: "الثاني من تشرين الأول" is a date, not the second item.
_AR_DATE_AFTER = re.compile(
    r"^\s+من\s+(?:شهر\s+)?(?:كانون|شباط|اذار|نيسان|ايار|حزيران|تموز|اب|ايلول|تشرين|يناير|فبراير|مارس|ابريل|مايو|"
    r"يونيو|يونيه|يوليو|يوليه|اغسطس|سبتمبر|اكتوبر|نوفمبر|ديسمبر)"
)
_EN_NOT_LIST = re.compile(r"(?:for\s+the|the\s+very|at|in\s+the|for)\s*$")
#: At least as many non-space characters as a match of ``_NOT_LIST``/``_EN_NOT_LIST`` holds.
NOT_LIST_LETTERS = 16
#: ``_AR_DATE_AFTER`` matched from a position inside the text (``^`` would fail there).
_AR_DATE_AFTER_AT = re.compile(_AR_DATE_AFTER.pattern.removeprefix("^"))

#: English count words of a multi-attack post ("two IEDs"): the casualty reader's, two to ten.
_EN_COUNT = {word: value for word, value in EN_NUMBERS.items() if 2 <= value <= 10} | {"both": 2}
#: Counted attacks ("ثلاث هجمات"): the number words of the casualty reader, two to seven.
_AR_COUNT = {word: n for word, n in AR_NUMBERS.items() if 2 <= n <= 7}
_COUNT_EN = re.compile(
    r"\b(?P<n>" + "|".join(_EN_COUNT) + r"|[2-9])\s+"
    r"(?:(?!(?:were|was|are|in|on|at|by|of|and|the|killed|injured|wounded|dead|people|soldiers|drivers)\b)"
    r"[a-z'-]+\s+){0,4}?"
    r"(?:convoys|attacks|ieds?\s+attacks|operations|columns|bombings|places|locations|strikes|ambushes)\b"
)
_COUNT_AR = re.compile(
    r"(?<![\u0621-\u064a])(?:[وب]?(?:ال)?(?:رتلين|رتلان|قافلتين|قافلتان|هجومين|هجومان|عمليتين|عمليتان))(?![\u0621-\u064a])|"
    r"(?<![\u0621-\u064a])(?P<n>"
    + "|".join(_AR_COUNT)
    + r"|[2-9])\s+(?:[وب]?(?:ال)?)(?:ارتال|قوافل|هجمات|عمليات|رتلا)"
)

#: "That makes four attacks this week", "ليرتفع عدد الهجمات إلى أربع": a running tally, not this
#: post's attacks.
_TALLY_BEFORE = re.compile(
    r"(?:\b(?:makes?|making|made|brings?|bringing|brought|that's|marks?)"
    r"(?:\s+(?:it|the|this|that|total|tally|count|number|of|to|up))*\s+|(?<![\u0621-\u064a])(?:عدد|حصيله|ليرتفع|يرتفع|ارتفع|ترتفع|ليصل|يصل)"
    r"(?:\s+[\u0621-\u064a]+){0,3}\s+(?:الي\s+)?)$"
)
_TALLY_AFTER = re.compile(
    r"^(?:\s+[\w'-]+){0,4}?\s+(?:(?:so\s+far|to\s+date|in\s+total|by\s+our\s+count|since)\b|"
    r"(?:this|last|past)\s+(?:week|month|year)\b.{0,40}?\b(?:so\s+far|by\s+our\s+count|alone)\b)|"
    r"^(?:\s+[\u0621-\u064a]+){0,4}?\s+(?:منذ|حتي\s+الان|لحد\s+الان|خلال\s+(?:هذا\s+)?(?:الاسبوع|الشهر|العام))"
)


#: The end of a sentence inside a paragraph: a full stop (not "U.S."), "!", "?", "؟" or a line break.
_SENTENCE_END = re.compile(r"(?<!\b[A-Z])[.!?\u061f](?=\s)|\n")
#: Words that speak of every attack of a list: "in either", "both", "all three", "any of them", "كلا".
_OF_ALL = re.compile(
    r"\b(?:either|neither|both\s+(?:of\s+them|attacks|convoys|columns|incidents|blasts|bombings|were|are|have)|"
    r"(?:in|for|from)\s+both|each\s+(?:of\s+them|attack|convoy|one)|all\s+(?:of\s+them|two|three|four|five|"
    r"six|the\s+(?:attacks|convoys))|any\s+of\s+(?:them|the\s+(?:attacks|convoys|three|four|five)))\b|"
    r"(?<![\u0621-\u064a])(?:كلا|كلتا|كلاهما|كليهما|جميعها|(?:اي|كل)\s+منهما|(?:اي|كل)\s+منها|"
    r"(?:ال)?(?:هجومين|عمليتين|رتلين|هجمات\s+(?:ال)?(?:ثلاث|اربع|خمس))|جميع\s+(?:ال)?(?:هجمات|عمليات|ارتال))(?![\u0621-\u064a])"
)


def _is_tally(body: str, start: int, end: int) -> bool:
    before, after = body[max(0, start - 40) : start], body[end : end + 80]
    return bool(_TALLY_BEFORE.search(before) or _TALLY_AFTER.match(after))


@dataclass(frozen=True, slots=True)
class Segment:
    """A part of a post's text (original offsets) that reports one attack."""

    start: int
    end: int
    kind: str  # "item" | "ordinal"


def _lines(text: str) -> list[tuple[int, int]]:
    bounds = []
    position = 0
    for line in text.split("\n"):
        bounds.append((position, position + len(line)))
        position += len(line) + 1
    return bounds


def list_items(text: str) -> list[Segment]:
    """Numbered or bulleted lines (two or more), each a segment; [] if there is no list."""
    items: list[Segment] = []
    for start, end in _lines(text):
        line = text[start:end]
        if _LINE_ITEM.match(line) and line.strip():
            items.append(Segment(start, end, "item"))
    if len(items) >= 2:
        return items
    inline = list(_INLINE_ITEM.finditer(text))
    numbers = [int(match["num"]) for match in inline]
    if len(inline) >= 2 and numbers == list(range(1, len(numbers) + 1)):
        segments = []
        for index, match in enumerate(inline):
            stop = (
                inline[index + 1].start() if index + 1 < len(inline) else _paragraph_end(text, match.start())
            )
            segments.append(Segment(match.start(), stop, "item"))
        return segments
    return []


def _paragraph_end(text: str, position: int) -> int:
    found = re.compile(r"\n[ \t]*\n").search(text, position)
    return found.start() if found else len(text)


def ordinal_segments(text: str, protected: list[tuple[int, int]]) -> list[Segment]:
    """ "The first attack ... The second ..." / "الأول ... والثاني": one segment per ordinal.

    ``protected`` spans (group names such as "ثورة العشرين الثانية") hold no ordinals. Needs
    at least the first and the second; each later one must follow in order.
    """
    folded = fold(text)
    body = folded.text
    names = Overlaps(protected)
    found: list[tuple[int, int]] = []  # (ordinal, original start)
    for match in _ORDINAL.finditer(body):
        start, _ = folded.span(match.start(), match.end())
        if names.hit(start, start + 1):
            continue
        if match["en"]:
            if search_before(_EN_NOT_LIST, body, match.start(), NOT_LIST_LETTERS):
                continue
            value = _EN_ORDINALS[match["en"]]
        else:
            if search_before(_NOT_LIST, body, match.start(), NOT_LIST_LETTERS) or _AR_DATE_AFTER_AT.match(
                body, match.end()
            ):
                continue
            value = _AR_ORDINALS[match["ar"]]
        found.append((value, start))
    sequence: list[tuple[int, int]] = []
    for value, start in found:
        if value == len(sequence) + 1:
            sequence.append((value, start))
    if len(sequence) < 2:
        return []
    segments = []
    for index, (_, start) in enumerate(sequence):
        stop = sequence[index + 1][1] if index + 1 < len(sequence) else _closing_start(text, start)
        segments.append(Segment(start, stop, "ordinal"))
    return segments


def _closing_start(text: str, start: int) -> int:
    """Where the last ordinal's part ends: its paragraph's end, or the first later sentence
    that speaks of all the attacks ("No casualties in either.", "Both were claimed by ...",
    "ولم تسجل خسائر في أي منهما"), which is shared by every part."""
    end = _paragraph_end(text, start)
    for stop in _SENTENCE_END.finditer(text, start, end):
        following = _SENTENCE_END.search(text, stop.end(), end)
        sentence = text[stop.end() : following.end() if following else end]
        if _OF_ALL.search(fold(sentence).text):
            return stop.end()
    return end


def stated_count(text: str) -> int | None:
    """How many convoys/attacks the post says were hit ("five convoys", "رتلين"), if it says."""
    body = fold(text).text
    counts: list[int] = []
    for match in _COUNT_EN.finditer(body):
        if not _is_tally(body, match.start(), match.end()):
            counts.append(_EN_COUNT.get(match["n"]) or int(match["n"]))
    for match in _COUNT_AR.finditer(body):
        if _is_tally(body, match.start(), match.end()):
            continue
        counts.append(_AR_COUNT.get(match["n"]) or int(match["n"]) if match["n"] else 2)
    return max(counts) if counts else None


def segments_are_lines(segments: list[Segment]) -> bool:
    """Whether the segments are list lines (each dated on its own, if at all)."""
    return bool(segments) and all(segment.kind == "item" for segment in segments)
