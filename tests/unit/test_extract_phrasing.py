"""Report phrasings read into event fields: closing lines about every attack, bombs defused before
the report, Iraqi spellings, devices, short place names, claims in translated statements, casualties
joined by "و"."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.analysis import Analyser
from bot.extract.actors import Groups, find_claims, load_groups
from bot.extract.events import load_extractor
from bot.extract.gazetteer import load_gazetteer
from bot.extract.numbers import find_casualties
from bot.extract.split import ordinal_segments
from bot.model import Event, Post
from bot.rules.engine import load_ruleset
from bot.rules.matcher import Matcher
from bot.rules.text import tokenise

POSTED = dt.datetime(2021, 6, 3, 9, 0, tzinfo=dt.UTC)  # Thursday, 12:00 in Iraq


@pytest.fixture(scope="module")
def analyser() -> Analyser:
    return Analyser.build(
        load_ruleset(Path("config/rules")),
        load_extractor(Path("config/gazetteer"), Path("config/groups.yaml")),
    )


def events(analyser: Analyser, text: str) -> tuple[Event, ...]:
    analysis = analyser.analyse(Post(channel="t", message_id=1, date=POSTED, text=text))
    assert analysis.classification.relevant
    return analysis.events


@pytest.mark.parametrize(
    ("text", "killed", "injured"),
    [
        ("استشهاد سائق وخمسة حراس بانفجار عبوة ناسفة", 6, None),
        ("إصابة ضابط و2 جنود بانفجار عبوة", None, 3),
        ("مقتل منتسب وثلاثة عناصر وإصابة اثنين آخرين", 4, 2),
        ("إصابة سائقين اثنين باستهداف رتل", None, 2),
    ],
)
def test_arabic_people_joined_by_and_add_up(text: str, killed: int | None, injured: int | None) -> None:
    """ "سائق وخمسة حراس" is one and five; "سائقين اثنين" still restates the two drivers."""
    found = find_casualties(text)
    assert (found.killed, found.injured) == (killed, injured)


@pytest.mark.parametrize(
    "closing",
    [
        "No casualties in either.",
        "Neither caused casualties.",
        "ولم تسجل إصابات في أي منهما.",
    ],
)
def test_a_closing_sentence_about_every_attack_ends_the_last_part(closing: str) -> None:
    """The last ordinal's part stops before a sentence that speaks of all the attacks."""
    text = "Two convoys were hit: the first near Kut, the second near Hayy. " + closing
    segments = ordinal_segments(text, [])
    assert len(segments) == 2
    assert text[segments[-1].start : segments[-1].end].strip() == "second near Hayy."


@pytest.mark.parametrize("after", ["Two drivers were hurt there.", "Both drivers were hurt."])
def test_a_later_sentence_about_the_last_attack_stays_with_it(after: str) -> None:
    """Without words for every attack ("both drivers" are the last convoy's), the sentences after
    the last ordinal are its own."""
    text = "Two convoys were hit: the first near Kut, the second near Hayy. " + after
    assert ordinal_segments(text, [])[-1].end == len(text)


@pytest.mark.parametrize(
    ("text", "claimed_by", "casualties"),
    [
        (
            "Two coalition supply convoys were struck in Dhi Qar on Sunday: the first by a bomb near "
            "Shatra, the second by a bomb outside Rifai. No casualties in either.",
            None,
            (0, 0),
        ),
        (
            "استهداف رتلين للتحالف اليوم: الأول بعبوة ناسفة قرب الرميثة، والثاني بعبوة ناسفة قرب الخضر. "
            "ولم تسجل إصابات في أي منهما.",
            None,
            (0, 0),
        ),
    ],
)
def test_no_casualties_in_either_is_for_both_attacks(
    analyser: Analyser, text: str, claimed_by: str | None, casualties: tuple[int, int]
) -> None:
    """ "No casualties in either" after "the first ..., the second ..." gives 0/0 to both events."""
    found = events(analyser, text)
    assert len(found) == 2
    assert [(e.claimed_by, (e.killed, e.injured)) for e in found] == [(claimed_by, casualties)] * 2


def test_a_bomb_defused_before_the_report_is_not_its_place(analyser: Analyser) -> None:
    """A round-up that opens with a bomb defused near one town reports the attack of its next sentence."""
    text = (
        "In Basra, police defused a bomb planted on the road used by supply trucks near Zubair. "
        "Later in Babil, a bomb exploded under a coalition convoy near Musayyib, wounding one driver."
    )
    assert [(e.admin1, e.place, e.injured) for e in events(analyser, text)] == [("IQ-BB", "Musayyib", 1)]


def test_a_sentence_that_also_defuses_a_second_bomb_is_still_the_report(analyser: Analyser) -> None:
    """A bomb that went off, then a second one defused in the same sentence: the first is the attack."""
    text = (
        "A bomb exploded under a coalition supply convoy near Mahmudiyah, wounding a driver, and engineers "
        "later defused a second device nearby. Its burning trucks blocked the road in Yusufiyah for hours."
    )
    assert [(e.admin1, e.place) for e in events(analyser, text)] == [("IQ-BG", "Mahmudiyah")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("استهداف رتل للتحالف قرب الناصرية وحرگ ثلاث شاحنات منه فجر اليوم", ["arson"]),
        (
            "هجومان على ارتال التحالف اليوم:\n- الاول بعبوة ناسفة قرب الرميثة / المثنى\n"
            "- الثاني حرگوا شاحنات الرتل قرب الزبير / البصرة",
            ["ied", "arson"],
        ),
        ("انفجار مجهول السبب يطال رتلاً للتحالف قرب الناصرية وحرگ شاحنتين", ["unknown"]),
        ("انفجار عبوة ناسفة على رتل للتحالف قرب الناصرية واحترگت شاحنة", ["ied"]),
    ],
)
def test_trucks_burned_in_iraqi_spelling_is_arson(analyser: Analyser, text: str, expected: list[str]) -> None:
    """ "حرگ", "حرگوا" (burned, with gaf) is arson; a truck that caught fire, or an unknown cause, is not."""
    assert [e.attack_type for e in events(analyser, text)] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A convoy of coalition supply trucks was hit by a roadside device near Kut this morning.", "ied"),
        ("The group said it detonated a device against a coalition supply convoy near Kut.", "ied"),
        ("A drone dropped a device on a coalition supply convoy near Kut.", "drone"),
    ],
)
def test_a_device_at_a_convoy_is_an_ied(analyser: Analyser, text: str, expected: str) -> None:
    """ "a roadside device", "detonated a device" name a bomb; a drone named with it still wins."""
    assert [e.attack_type for e in events(analyser, text)] == [expected]


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("انفجار عبوة على رتل للتحالف قرب ناحية الحمزة في الديوانية", "Hamzah"),
        ("انفجار عبوة على رتل للتحالف قرب ناحية الحمزة الشرقي في الديوانية", "Hamzah al-Sharqi"),
    ],
)
def test_an_arabic_short_name_gives_the_short_english_name(analyser: Analyser, text: str, place: str) -> None:
    """الحمزة is "Hamzah", its full name الحمزة الشرقي "Hamzah al-Sharqi"."""
    assert [(e.admin1, e.place) for e in events(analyser, text)] == [("IQ-QA", place)]


def test_a_variant_with_its_english_name_is_read_from_the_csv(tmp_path: Path) -> None:
    """ "الحمزة=Hamzah" in variants_ar is the spelling الحمزة with its English name; plain ones have none."""
    csv_file = tmp_path / "places.csv"
    csv_file.write_text(
        "id,name_en,variants_en,name_ar,variants_ar,kind,country,governorate,lat,lon,source,geonameid,"
        "ambiguous,notes\n"
        "iq-qadisiyyah-gov,Al-Qadisiyyah,Al-Qadisiyah,القادسية,,governorate,IQ,Al-Qadisiyyah,"
        "31.9,45.0,manual,,,\n"
        "iq-x,Hamzah al-Sharqi,,الحمزة الشرقي,الحمزة=Hamzah|الحمزه,town,IQ,Al-Qadisiyyah,31.7,44.9,"
        "manual,,,\n",
        encoding="utf-8",
    )
    place = load_gazetteer([csv_file]).places["iq-x"]
    assert [place.name_for(term) for term in ("الحمزة", "الحمزه", "الحمزة الشرقي")] == [
        "Hamzah",
        "Hamzah al-Sharqi",
        "Hamzah al-Sharqi",
    ]


@pytest.fixture(scope="module")
def groups() -> Groups:
    return load_groups(Path("config/groups.yaml"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The mujahideen of Ashab al-Kahf struck a logistics convoy near Diwaniyah.", ["Ashab al-Kahf"]),
        ("Kataib Hezbollah (translated): our men targeted a convoy near Samawah.", ["Kataib Hezbollah"]),
        ("Qasim al-Jabbarin [statement]: a convoy was hit near Kut.", ["Qasim al-Jabbarin"]),
        ("Police sources (translated): Ashab al-Kahf is suspected in the attack.", []),
    ],
)
def test_claims_in_translated_statements(groups: Groups, text: str, expected: list[str]) -> None:
    """A statement's "mujahideen of X" and a heading "X (translated):" are claims; a suspicion is not."""
    doc = tokenise(text)
    found = find_claims(doc, Matcher(groups.entries).scan(doc), groups)
    assert list(dict.fromkeys(claim.group for claim in found)) == expected


@pytest.mark.parametrize(
    ("text", "killed", "injured"),
    [
        ("ولا خسائر في صفوف المجاهدين.", None, None),
        ("No losses among our mujahideen.", None, None),
        ("No casualties on our side.", None, None),
        ("دون خسائر في صفوف القوات الأمنية.", 0, 0),
        ("No casualties; the bomb was on the side of the road.", 0, 0),
    ],
)
def test_no_losses_among_the_attackers_says_nothing_of_the_convoy(
    text: str, killed: int | None, injured: int | None
) -> None:
    """A claim's "no losses among our mujahideen" is not 0/0 for the convoy; security forces' is."""
    found = find_casualties(text)
    assert (found.killed, found.injured) == (killed, injured)


@pytest.mark.parametrize(
    ("text", "posted", "day"),
    [
        (
            "The Islamic State claimed responsibility on Tuesday for a bomb that hit an army supply convoy "
            "near Baiji on Monday night.",
            dt.datetime(2021, 6, 8, 8, 0, tzinfo=dt.UTC),
            dt.date(2021, 6, 7),
        ),
        (
            "تبنت سرايا أولياء الدم يوم الثلاثاء استهداف رتل للتحالف بعبوة ناسفة قرب الكوت مساء الاثنين",
            dt.datetime(2021, 6, 8, 8, 0, tzinfo=dt.UTC),
            dt.date(2021, 6, 7),
        ),
        (
            "أعلنت الشرطة أن رتلا للتحالف استهدف يوم الاثنين بعبوة ناسفة قرب الكوت، "
            "وذكرت اليوم أن التحقيق مستمر",
            dt.datetime(2021, 6, 8, 8, 0, tzinfo=dt.UTC),
            dt.date(2021, 6, 7),
        ),
    ],
)
def test_the_day_of_a_claim_is_not_the_attack_day(
    analyser: Analyser, text: str, posted: dt.datetime, day: dt.date
) -> None:
    """ "claimed responsibility on Tuesday for ... on Monday night", "تبنت X يوم الثلاثاء": Monday."""
    analysis = analyser.analyse(Post(channel="t", message_id=1, date=posted, text=text))
    assert [e.date for e in analysis.events] == [day]


def test_a_nahiya_of_kirkuk_is_in_kirkuk(analyser: Analyser) -> None:
    """ناحية سركران is Sargaran, Kirkuk."""
    text = "استشهاد منتسب بانفجار عبوة ناسفة استهدفت رتلاً للشرطة في ناحية سركران مساء اليوم"
    assert [(e.admin1, e.place) for e in events(analyser, text)] == [("IQ-KI", "Sargaran")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "An IED struck a coalition supply convoy on Route Tampa in Muthanna province this morning.",
            ("IQ-MU", "Highway 1"),
        ),
        (
            "انفجار عبوة ناسفة على رتل للتحالف على الطريق الدولي السريع رقم 1 في محافظة ذي قار",
            ("IQ-DQ", "Highway 1"),
        ),
        (
            "An IED struck a coalition supply convoy on Route Tampa near Samawah this morning.",
            ("IQ-MU", "Samawah"),
        ),
        (
            "An IED struck a coalition supply convoy in Muthanna this morning; the convoy was heading "
            "to Route Tampa.",
            ("IQ-MU", None),
        ),
    ],
)
def test_a_long_road_named_with_a_governorate_is_the_place(
    analyser: Analyser, text: str, expected: tuple[str, str | None]
) -> None:
    """ "on Route Tampa in Muthanna" is Highway 1 in Muthanna; a town on it wins; a destination is no site."""
    assert [(e.admin1, e.place) for e in events(analyser, text)] == [expected]
