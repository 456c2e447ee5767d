"""Killed and injured figures read from English and Arabic casualty statements."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.extract.numbers import MAX_FIGURE, find_casualties


@pytest.mark.parametrize(
    ("text", "killed", "injured"),
    [
        ("Three contractors were injured in the blast.", None, 3),
        ("killing one officer and wounding two policemen", 1, 2),
        ("which it says killed 2 soldiers", 2, None),
        ("an ambush near Jalawla, wounding 3.", None, 3),
        ("A truck driver was killed and another wounded on Monday", 1, 1),
        ("Two fighters of the PMF were killed early on Sunday", 2, None),
        ("One driver lightly wounded.", None, 1),
        (
            "Three Iraqi guards, who escorted the convoy, and a female engineer were allegedly injured",
            None,
            4,
        ),
        ("the killing of two Iraqi soldiers in an IED attack", 2, None),
        ("injuring three Iraqi security contractors", None, 3),
        ("No casualties.", 0, 0),
        ("There were no casualties.", 0, 0),
        ("no casualties were reported in any of them", 0, 0),
        ("The blast caused material damage only.", 0, 0),
        ("No one was hurt.", 0, 0),
        ("no one killed", 0, None),
        ("A number of military advisers were allegedly injured.", None, None),
        ("No word on casualties yet.", None, None),
        ("No information on casualties so far.", None, None),
        ("Casualty figures not yet known.", None, None),
        ("Most attacks cause only material damage.", None, None),
        ("إصابة ثلاثة من عناصر الحماية", None, 3),
        ("استشهاد جنديين وإصابة ثلاثة آخرين", 2, 3),
        ("استشهاد ضابط برتبة ملازم أول وجندي بانفجار عبوة", 2, None),
        ("ما أسفر عن استشهاد مقاتل وإصابة أربعة آخرين", 1, 4),
        ("إصابة سائقين اثنين بانفجار عبوة ناسفة", None, 2),
        ("ما أدى إلى احتراق صهريج واحد وإصابة سائقه.", None, 1),
        ("إصابة أحد السائقين بجروح", None, 1),
        ("ولا خسائر بشرية.", 0, 0),
        ("من دون خسائر بشرية", 0, 0),
        ("ولم تُسجل إصابات بشرية.", 0, 0),
        ("ولم يسفر الانفجار عن أي إصابات.", 0, 0),
        ("دون ورود معلومات عن إصابات.", None, None),
        ("وأنباء عن وقوع إصابات في صفوف الجنود", None, None),
        ("وقد حققت العبوة إصابة مباشرة.", None, None),
        ("ولا توجد خسائر بشرية", 0, 0),
        ("سقوط ٣ جرحى", None, 3),
        ("مقتل ٢ من المنتسبين", 2, None),
        ("a convoy of 18 containers was hit", None, None),
        ("• Casualties: none", 0, 0),
        ("Two were killed and one was injured.", 2, 1),
        ("killing a soldier and injuring two others", 1, 2),
        ("injuring a driver", None, 1),
        ("No deaths were reported, but two drivers were injured.", 0, 2),
        ("الخسائر البشرية: لا توجد", 0, 0),
    ],
)
def test_casualty_statements(text: str, killed: int | None, injured: int | None) -> None:
    """Digits, number words, duals and 'no casualties' give figures; vague wording gives None."""
    found = find_casualties(text)
    assert (found.killed, found.injured) == (killed, injured)


@pytest.mark.parametrize(
    ("text", "killed", "injured"),
    [
        # who was hurt: "N of <group>" counts N, not N plus the group noun
        ("إصابة أربعة من منتسبي الحشد الشعبي بانفجار عبوة", None, 4),
        ("استشهاد اثنين من مقاتلي البيشمركة وإصابة ضابط", 2, 1),
        ("مقتل ثلاثة من عناصر الشرطة الاتحادية", 3, None),
        # "and a third", "وإصابة رابع": one more person
        ("استشهاد ثلاثة جنود وإصابة رابع", 3, 1),
        ("killing two soldiers and wounding a third", 2, 1),
        ("إصابة ثلاثة جنود كانوا في الرتل الثالث", None, 3),
        # a subset named after the total is not more people
        ("Three people, including two drivers, were injured.", None, 3),
        ("إصابة خمسة أشخاص بينهم سائقان", None, 5),
        # one named person
        ("the driver escaped with burns", None, 1),
        ("The blast killed the driver of the lead truck.", 1, None),
        ("two contractors suffered minor injuries", None, 2),
        # a speaker is not a casualty
        ("A police officer said nobody was hurt.", 0, 0),
        ("A security source told reporters no one was injured.", 0, 0),
        # no casualties vs silence about figures
        ("No casualty figures were released.", None, None),
        ("no casualties reported in any of them", 0, 0),
        ("US officials said there were no US casualties.", 0, 0),
        ("The drivers fled unharmed.", 0, 0),
        # no loss of life says nothing about the wounded
        ("وتضرر صهريج دون خسائر بالأرواح", 0, None),
        ("There was no loss of life.", 0, None),
        # numbers that are not about people
        ("Three IEDs hit a convoy of 12 trucks at 07:40; 3 trucks were destroyed.", None, None),
        ("استهدف رتلا للواء ٥١ من ١٥ شاحنة", None, None),
    ],
)
def test_who_was_hurt_and_scope_of_no_casualties(text: str, killed: int | None, injured: int | None) -> None:
    """Partitives, ordinals, named persons, speakers and 'no casualty figures' read right."""
    found = find_casualties(text)
    assert (found.killed, found.injured) == (killed, injured)


def test_a_number_beats_a_general_no_casualties() -> None:
    """A stated figure wins over background wording that says nobody was hurt."""
    found = find_casualties("A driver was killed. Most have damaged trucks without causing casualties.")
    assert found.killed == 1


def test_absurd_figures_are_not_trusted() -> None:
    """A year or a unit number next to 'killed' is not a casualty count."""
    found = find_casualties("2021 killed in the war, says a report")
    assert found.killed is None


@given(st.text(max_size=300))
def test_any_text_gives_sane_figures(text: str) -> None:
    """Arbitrary text never raises; figures are None or between 0 and the cap."""
    found = find_casualties(text)
    for value in (found.killed, found.injured):
        assert value is None or 0 <= value <= MAX_FIGURE


@pytest.mark.parametrize(
    ("text", "killed", "injured"),
    [
        ("No casualties mentioned.", None, None),
        ("No casualties were given in the statement.", None, None),
        ("No casualties were reported.", 0, 0),
        ("شاحنة احترقت ومحد تأذى الحمد لله", 0, 0),
        ("وماكو إصابات بين السواق", 0, 0),
        ("محد يعرف شنو صار بالضبط", None, None),
        ("لم تذكر المصادر وقوع إصابات", None, None),
        ("لم يشر البيان إلى خسائر", None, None),
        ("لم يتم الإبلاغ عن إصابات", 0, 0),
    ],
)
def test_not_stated_against_nobody_hurt(text: str, killed: int | None, injured: int | None) -> None:
    """ "No casualties mentioned" says nothing (None); colloquial "محد تأذى" says nobody was hurt (0)."""
    found = find_casualties(text)
    assert (found.killed, found.injured) == (killed, injured)


@pytest.mark.parametrize(
    ("text", "killed", "injured"),
    [
        ("أسفر القصف عن استشهاد ٣ من المقاتلين واحتراق أربع عجلات.", 3, None),
        ("مقتل سائقين اثنين وتدمير خمس شاحنات", 2, None),
        ("إصابة ثلاثة جنود بانفجار عبوة استهدفت رتلاً لشركة متعاقدة", None, 3),
        ("استشهاد جندي و اثنين من رفاقه", 3, None),
    ],
)
def test_arabic_counts_stop_at_what_is_not_people(text: str, killed: int | None, injured: int | None) -> None:
    """Vehicles burned or the words of the cause after the people are not counted as casualties."""
    found = find_casualties(text)
    assert (found.killed, found.injured) == (killed, injured)


@pytest.mark.parametrize(
    ("text", "killed", "injured"),
    [
        ("The driver died at the scene and his assistant was hurt.", 1, 1),
        ("One guard was killed and his companion injured.", 1, 1),
        ("Three soldiers were killed and a fourth was wounded near the bridge.", 3, 1),
        ("Two Peshmerga were killed and four wounded in the blast.", 2, 4),
        ("killing two policemen and wounding others", 2, None),
        ("Troops repelled the assault, killing three militants.", None, None),
        ("Four gunmen were killed when the escort returned fire.", None, None),
        ("The group's statement made no casualty claims.", None, None),
    ],
)
def test_english_people_named_by_role_and_the_attackers(
    text: str, killed: int | None, injured: int | None
) -> None:
    """'his assistant' and 'a fourth' are one person; 'others' is vague; dead attackers are not casualties."""
    found = find_casualties(text)
    assert (found.killed, found.injured) == (killed, injured)


@pytest.mark.parametrize(
    ("text", "killed", "injured"),
    [
        ("Militants claim 4 policemen KIA near the checkpoint.", 4, None),
        ("Claimed toll: 1 KIA / 3 WIA, unconfirmed.", 1, 3),
        ("IED vs supply convoy near Kut. No cas. Two trucks damaged.", 0, 0),
        ("لم تسجل أي أضرار بشرية جراء الانفجار", 0, 0),
        ("خلف الانفجار أضراراً مادية في شاحنتين", None, None),
        ("أسفر الهجوم عن سقوط قتيل وثلاثة جرحى", 1, 3),
        ("ثأراً للشهيد القائد استهدف المجاهدون رتلاً للاحتلال", None, None),
        ("الشاحنة احترگت بس السواق طلعو سالمين", 0, 0),
    ],
)
def test_abbreviations_human_harm_and_single_victims(
    text: str, killed: int | None, injured: int | None
) -> None:
    """KIA/WIA and 'No cas.' count; 'no human harm' is zero; a bare singular victim noun is one person."""
    found = find_casualties(text)
    assert (found.killed, found.injured) == (killed, injured)


@pytest.mark.parametrize(
    ("text", "killed", "injured"),
    [
        ("The death toll from Sunday's attack on the fuel convoy has risen to five.", 5, None),
        ("Three guards wounded in the ambush on the convoy later died in hospital.", None, None),
        ("MOSUL, Jan 9 – Two soldiers were wounded when a bomb hit their convoy.", None, 2),
    ],
)
def test_tolls_the_wounded_who_died_and_datelines(text: str, killed: int | None, injured: int | None) -> None:
    """'death toll rose to N' is N killed; the wounded who died are not injured; a dateline counts no one."""
    found = find_casualties(text)
    assert (found.killed, found.injured) == (killed, injured)


@pytest.mark.parametrize(
    ("text", "killed", "injured"),
    [
        ("انفجرت العبوة بالشاحنة الأولى ولم يصب أحد من السائقين بأذى.", 0, 0),
        ("احترقت عجلة، ولم يصب أحد.", 0, 0),
        ("قتل سائق ولم يصب أحد من المرافقين.", 1, 0),
        ("لم يصب أحدهم الهدف.", None, None),
        ("انفجرت العبوة دون أن يصاب أحد من السائقين.", 0, 0),
        ("قتل سائق من دون أن يصاب أحد من المرافقين.", 1, 0),
        ("The bomb went off beside the trucks without anyone being hurt.", 0, 0),
    ],
)
def test_nobody_was_hit(text: str, killed: int | None, injured: int | None) -> None:
    """'لم يصب أحد' / 'دون أن يصاب أحد' (nobody was hit) is no casualties, not one; stated tolls count."""
    found = find_casualties(text)
    assert (found.killed, found.injured) == (killed, injured)
