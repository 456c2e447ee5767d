"""Finding the parts of a post that each report one attack: list items, ordinals, counts."""

from __future__ import annotations

import pytest

from bot.extract.split import list_items, ordinal_segments, stated_count


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("Today:\n1) Diwaniya\n2) Hilla (Babil)\n3) Samawa", 3),
        ("حصيلة:\n١- الديوانية\n٢- السماوة", 2),
        ("حصيلة:\n١/ الديوانية\n٢/ السماوة", 2),
        ("١/٦/٢٠٢١ استهداف رتل\n٢/٦/٢٠٢١ استهداف رتل", 0),
        ("حصيلة:\n1️⃣ الديوانية: عبوة\n2️⃣ السماوة: عبوة\n3️⃣ الناصرية: عبوة", 3),
        ("Tally:\n• Mon – IED, Nasiriyah\n• Tue – IED, Samawah", 2),
        ("Log:\n14.06 – IED, Kut\n16.06 – ambush, Hit\n17.06 – IED, Samawah", 3),
        ("Log:\n14.06.2022 – IED, Kut\n16.06.2022: ambush, Hit", 2),
        ("ISIS claims two attacks:\n(1) an IED in Tarmiyah;\n(2) an ambush near Jalawla.", 2),
        ("Two attacks: (1) an IED in Tarmiyah; (2) an ambush near Jalawla.", 2),
        ("22.01.2021\nOn January 22, five convoys came under attack.", 0),
        ("🔴 عاجل | استهداف رتل في بابل", 0),
    ],
)
def test_list_items(text: str, count: int) -> None:
    """Numbered, keycap, Arabic-Indic and bulleted lines (two or more) are items; dates are not."""
    assert len(list_items(text)) == count


def test_items_cover_their_own_lines() -> None:
    """Each item spans its line, so its place and date stay with it."""
    text = "Today:\n1) Diwaniya\n2) Hilla"
    assert [text[item.start : item.end] for item in list_items(text)] == ["1) Diwaniya", "2) Hilla"]


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("The first attack took place in Nasiriyah. The second attack took place in Babylon.", 2),
        (
            "The first of the convoys was struck in Diwaniyah. The second convoy in Samawah. "
            "The third in Babil.",
            3,
        ),
        ("استهداف رتلين، الأول في المحمودية والثاني في اللطيفية.", 2),
        ("The first such report from Karbala in weeks.", 0),
        ("يوم ١٥ كانون الثاني استهداف رتل", 0),
        ("for the first time, and the second time today", 0),
        ("في الأول من أيار استهداف رتل، وفي الثاني من أيار استهداف آخر", 0),
        ("استهداف رتلين في الثاني من تشرين الأول: الأول في الكوت والثاني في الحي", 2),
    ],
)
def test_ordinals(text: str, count: int) -> None:
    """First/second... (and الأول/الثاني) split a post; a lone ordinal or a month name does not."""
    assert len(ordinal_segments(text, [])) == count


def test_ordinals_inside_group_names_are_ignored() -> None:
    """'ثورة العشرين الثانية' names a group, not a second attack."""
    text = "الأول في المحمودية. تعلن سرايا ثورة العشرين الثانية"
    start = text.index("سرايا")
    assert ordinal_segments(text, [(start, len(text))]) == []


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("five convoys carrying supplies came under attack", 5),
        ("Two US convoys targeted today", 2),
        ("convoys hit with IEDs in three places today", 3),
        ("استهداف رتلين للدعم اللوجستي", 2),
        ("ثلاثة أرتال تعرضت لهجمات", 3),
        ("two IEDs hit a convoy", None),
        ("two drivers injured in attacks on convoys", None),
        ("انفجار عبوتين ناسفتين استهدفتا رتلاً واحداً", None),
    ],
)
def test_stated_count(text: str, count: int | None) -> None:
    """How many convoys the post says were hit; two IEDs on one convoy is not two convoys."""
    assert stated_count(text) == count


@pytest.mark.parametrize(
    ("text", "count"),
    [
        ("An IED hit a convoy in Kut. That makes three attacks on convoys in Wasit this week.", None),
        ("IED hits convoy near Kufa, bringing to four the attacks on convoys in Najaf so far.", None),
        ("A convoy was hit in Hillah: the group says that's five attacks since Saturday.", None),
        ("انفجار عبوة على رتل في الكوت، ليرتفع عدد الهجمات إلى ثلاث هجمات خلال هذا الأسبوع", None),
        ("A total of three convoys were struck this morning in Babil.", 3),
        ("Two convoys were hit today near Kut and Hillah.", 2),
        ("استهداف ثلاثة أرتال اليوم في بابل", 3),
    ],
)
def test_a_running_tally_is_not_a_count_of_this_posts_attacks(text: str, count: int | None) -> None:
    """ "That makes three attacks this week" counts earlier attacks; "three convoys were struck" does not."""
    assert stated_count(text) == count


def test_thread_items_numbered_with_a_slash_are_items() -> None:
    """ "1/ ... 2/ ..." (a thread) are list items; "29/30 Jan" in a header is not."""
    text = "Overnight (29/30 Jan):\n1/ an IED near Shaddadi\n2/ a drone near Tal Tamr\n3/ context"
    items = list_items(text)
    assert [text[item.start : item.end][:2] for item in items] == ["1/", "2/", "3/"]


def test_arrow_lines_are_list_items() -> None:
    """ "→ 0815 IED at Kut" lines are items, like bullets; an arrow inside a sentence is not."""
    text = "Hit twice today:\n→ 0815 IED at Kut\n→ 1140 IED near Hillah\nKut → Hillah is the usual route."
    items = list_items(text)
    assert [text[item.start : item.end][:6] for item in items] == ["→ 0815", "→ 1140"]


def test_table_rows_are_list_items_and_the_rule_line_is_not() -> None:
    """ "| 0700 | Kut | IED |" rows are items; the "|---|---|" rule under the header is not."""
    text = "| Time | Place |\n|------|-------|\n| 0700 | Kut, IED |\n| 0900 | Hillah, IED |"
    items = list_items(text)
    assert [text[item.start : item.end].split("|")[1].strip() for item in items] == ["Time", "0700", "0900"]
