"""Report phrasings read into event fields: closing lines about every attack, bombs defused before
the report, Iraqi spellings, devices, short place names, claims in translated statements, casualties
joined by "و"; weekday-dated list lines, dash bullets, casualties after "على إثره", the road to a
town whose name is a word, local names, a convoy's destination or cargo, a weapon left in doubt;
hashtag signatures, news-agency claims, blame, blessing one's own fighters, casualty idioms, roads
named by their ends or lying in a city, trucks the US hired; a bare "driver injured", a column of
US vehicles, a trader's trucks, a dropped list item's toll."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.analysis import Analyser
from bot.extract.actors import Groups, find_claims, load_groups
from bot.extract.dates import find_dates
from bot.extract.events import load_extractor
from bot.extract.gazetteer import load_gazetteer
from bot.extract.numbers import find_casualties
from bot.extract.split import list_items, ordinal_segments
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


WEEK_END = dt.datetime(2021, 6, 19, 15, 0, tzinfo=dt.UTC)  # Saturday 19 June, 18:00 in Iraq


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("• الأحد ٦/٦: عبوة على رتل", dt.date(2021, 6, 6)),
        ("• الخميس، ١٠/٦: انفجار", dt.date(2021, 6, 10)),
        ("Sunday 6/6: IED on a convoy", dt.date(2021, 6, 6)),
        ("- Tue 8/6 – IED, Samawah", dt.date(2021, 6, 8)),
    ],
)
def test_a_weekday_cues_a_day_and_month_in_digits(text: str, day: dt.date) -> None:
    """ "الأحد ٦/٦:", "Sunday 6/6": a weekday before digits makes them a day and month (not the
    last such weekday, 13 June)."""
    found = find_dates(text, dt.date(2021, 6, 19))
    assert [(mention.date, mention.kind) for mention in found] == [(day, "day_month")]


@pytest.mark.parametrize("text", ["The score was 13/6 at half time.", "الخميس 17/6:30 مساء"])
def test_digits_without_a_date_cue_are_no_date(text: str) -> None:
    """A bare "13/6", or a weekday before "17/6:30", names no day and month."""
    assert [mention.kind for mention in find_dates(text, dt.date(2021, 6, 19))] in ([], ["weekday"])


def test_weekday_dated_list_lines_take_their_own_dates(analyser: Analyser) -> None:
    """A week's round-up whose lines start "الاثنين ١٤/٦:" dates each attack by its line."""
    text = (
        "حصيلة استهداف أرتال الدعم اللوجستي هذا الأسبوع:\n"
        "• الاثنين ١٤/٦: عبوة ناسفة على رتل للتحالف في الديوانية\n"
        "• الأربعاء ١٦/٦: عبوة ناسفة على رتل للتحالف قرب الناصرية\n"
        "• الجمعة ١٨/٦: إحراق شاحنات من رتل للتحالف في الزبير"
    )
    analysis = analyser.analyse(Post(channel="t", message_id=1, date=WEEK_END, text=text))
    assert [(e.date.day, e.place) for e in analysis.events] == [
        (14, "Diwaniyah"),
        (16, "Nasiriyah"),
        (18, "Zubayr"),
    ]


@pytest.mark.parametrize("dash", ["\u2013", "\u2014"])
def test_lines_opened_by_a_dash_are_list_items(dash: str) -> None:
    """Lines that open with an en or em dash are a list, like "-" or "•"; one such line is not."""
    text = f"Two convoys were hit today:\n{dash} Kut: one truck burned\n{dash} Hayy: no damage"
    assert len(list_items(text)) == 2
    assert list_items(f"A convoy was hit near Kut today.\n{dash} Reuters") == []


def test_a_dash_list_gives_an_event_per_line(analyser: Analyser) -> None:
    """ "Three bombs hit convoys:" then "– Kut (Wasit): ..." lines: one event per line."""
    text = (
        "Three roadside bombs hit coalition logistics convoys on Thursday:\n"
        "\u2013 Kut (Wasit): one truck damaged\n"
        "\u2013 Diwaniyah (Qadisiyah): no damage\n"
        "\u2013 Nasiriyah (Dhi Qar): the convoy drove on\n"
        "No casualties in any of the attacks."
    )
    assert [(e.admin1, e.attack_type, e.killed) for e in events(analyser, text)] == [
        ("IQ-WA", "ied", 0),
        ("IQ-QA", "ied", 0),
        ("IQ-DQ", "ied", 0),
    ]


@pytest.mark.parametrize(
    ("text", "killed", "injured"),
    [
        ("انفجار عبوة بعجلة ضمن رتل للجيش، وأصيب على إثرها ثلاثة جنود.", None, 3),
        ("انفجار عبوة على رتل، وقتل جراء ذلك سائق.", 1, None),
        ("انفجار عبوة على رتل، وأصيب على إثر ذلك سائقان.", None, 2),
        ("وجُرح فيه اثنان من المنتسبين", None, 2),
        ("وأصيب على إثر الانفجار ثلاثة جنود", None, 3),
        ("أصيب جراء الانفجار اثنان من الحراس", None, 2),
        ("أصيب على الطريق", None, None),
    ],
)
def test_casualties_after_words_pointing_back_to_the_attack(
    text: str, killed: int | None, injured: int | None
) -> None:
    """ "وأصيب على إثرها ثلاثة", "قتل جراء ذلك سائق": the people follow "على إثره", "جراء الانفجار";
    "سائقان" is two."""
    found = find_casualties(text)
    assert (found.killed, found.injured) == (killed, injured)


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("استهداف رتل للتحالف بعبوة ناسفة على الطريق المؤدي إلى بلدة الهول", "Al-Hol"),
        ("الحسكة | استهداف رتل للتحالف بعبوة ناسفة على الطريق الواصل إلى الهول شرقي الحسكة", "Al-Hol"),
        ("استهداف رتل للتحالف بعبوة ناسفة في الحسكة وسط حالة من الهول بين الأهالي", "Hasakah"),
    ],
)
def test_the_road_to_a_town_named_by_a_word_places_the_attack(
    analyser: Analyser, text: str, place: str
) -> None:
    """ "on the road leading to (the town of) al-Hol" names the town; الهول as "horror" does not."""
    assert [(e.admin1, e.place) for e in events(analyser, text)] == [("SY-HA", place)]


@pytest.mark.parametrize(
    "text",
    [
        "An IED struck an SDF convoy near al-Kishkiyah in eastern Deir ez-Zor.",
        "استهداف رتل لقسد بعبوة ناسفة في بلدة الكشكية بريف دير الزور الشرقي",
    ],
)
def test_kishkiyah_is_in_deir_ez_zor(analyser: Analyser, text: str) -> None:
    """al-Kishkiyah (الكشكية), a town of eastern Deir ez-Zor, is the site, not the province."""
    assert [(e.admin1, e.place) for e in events(analyser, text)] == [("SY-DY", "Al-Kishkiyah")]


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("An IED hit a coalition supply convoy near Twairij this morning.", "Hindiyah"),
        ("An IED hit a coalition supply convoy in Tuwayrij, east of Karbala.", "Hindiyah"),
        ("A Turkish drone struck an SDF convoy near Derik.", "Derik"),
    ],
)
def test_a_local_name_listed_with_the_reports_name(analyser: Analyser, text: str, place: str) -> None:
    """ "Tuwairij=Hindiyah" in variants_en: the local name exports as Hindiyah; Derik has no such mapping."""
    assert [e.place for e in events(analyser, text)] == [place]


def test_an_english_variant_with_its_english_name_is_read_from_the_csv(tmp_path: Path) -> None:
    """ "Tuwairij=Hindiyah" in variants_en: the spelling Tuwairij, given as Hindiyah; plain ones: None."""
    csv_file = tmp_path / "places.csv"
    csv_file.write_text(
        "id,name_en,variants_en,name_ar,variants_ar,kind,country,governorate,lat,lon,source,geonameid,"
        "ambiguous,notes\n"
        "iq-karbala-gov,Karbala Governorate,,كربلاء,,governorate,IQ,Karbala,32.6,44.0,manual,,,\n"
        "iq-x,Hindiyah,Tuwairij=Hindiyah|Hindiya,الهندية,,town,IQ,Karbala,32.5,44.2,manual,,,\n",
        encoding="utf-8",
    )
    gazetteer = load_gazetteer([csv_file])
    place = gazetteer.places["iq-x"]
    assert [place.given_name(term) for term in ("Tuwairij", "Hindiya")] == ["Hindiyah", None]
    assert {entry.term for entry in gazetteer.entries if entry.concept == place.concept} >= {"Tuwairij"}


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("Gunmen set fire to fuel tankers in a convoy heading to Ain al-Asad base near Hit.", "us_coalition"),
        ("مسلحون يحرقون صهاريج ضمن رتل متوجه إلى قاعدة حرير قرب أربيل", "us_coalition"),
        ("Gunmen set fire to fuel tankers in a convoy near Hit.", "unknown"),
        ("An Iraqi army convoy heading to Ain al-Asad base was hit by an IED near Hit.", "iraqi_forces"),
    ],
)
def test_a_convoy_bound_for_a_coalition_base_is_the_coalitions(
    analyser: Analyser, text: str, target: str
) -> None:
    """A convoy on its way to a base that hosts the coalition carries its supplies; an army one stays."""
    assert [e.target for e in events(analyser, text)] == [target]


@pytest.mark.parametrize(
    "closing",
    ["وكلاهما ينقل معدات لقوات التحالف.", "وكانا يحملان معدات للتحالف الدولي."],
)
def test_cargo_for_the_coalition_in_a_clause_of_its_own(analyser: Analyser, closing: str) -> None:
    """ "الأول ... والثاني ...؛ وكلاهما ينقل معدات لقوات التحالف": both convoys are the coalition's."""
    text = "تفجير عبوتين على رتلين في الديوانية اليوم؛ الأول قرب عفك والثاني قرب الحمزة، " + closing
    assert [(e.place, e.target) for e in events(analyser, text)] == [
        ("Afak", "us_coalition"),
        ("Hamzah", "us_coalition"),
    ]


@pytest.mark.parametrize(
    ("text", "attack_type"),
    [
        (
            "A blast hit a coalition supply convoy near Baiji; police have not said whether it was a bomb.",
            "unknown",
        ),
        (
            "A blast of undetermined origin ripped through a coalition convoy near Baiji; a bomb squad "
            "was sent to the scene.",
            "unknown",
        ),
        ("انفجار يطال رتلا للتحالف قرب بيجي ولم تتضح أسبابه بعد، وتحقق الشرطة في احتمال زرع عبوة", "unknown"),
        ("A roadside bomb hit a coalition convoy near Baiji; it is unclear whether anyone was hurt.", "ied"),
    ],
)
def test_a_weapon_left_in_doubt_is_unknown(analyser: Analyser, text: str, attack_type: str) -> None:
    """ "not said whether it was a bomb", "undetermined origin", "لم تتضح أسبابه": unknown, though a
    bomb is named; doubt of casualties leaves the bomb."""
    assert [e.attack_type for e in events(analyser, text)] == [attack_type]


def claimant(analyser: Analyser, text: str) -> list[str | None]:
    return [e.claimed_by for e in events(analyser, text)]


@pytest.mark.parametrize(
    ("text", "claimed_by"),
    [
        (
            "بعون الله استهدف مجاهدونا رتلاً للمحتل الأمريكي بعبوة ناسفة قرب ناحية جبلة "
            "شمالي بابل ظهر اليوم.\n"
            "#قاصم_الجبارين",
            "Qasim al-Jabbarin",
        ),
        (
            "Our heroes hit an American supply convoy with an IED near Samawah this afternoon.\n"
            "#Ashab_al_Kahf",
            "Ashab al-Kahf",
        ),
        (
            "نفذنا ظهر اليوم عملية تفجير رتل لوجستي للمحتل قرب الديوانية.\n\n#المقاومة_الإسلامية_في_العراق\n",
            "Islamic Resistance in Iraq",
        ),
    ],
)
def test_a_group_hashtag_alone_on_the_last_line_signs_the_statement(
    analyser: Analyser, text: str, claimed_by: str
) -> None:
    """A post's last line of only group hashtags is the statement's signature: the group claims it."""
    assert claimant(analyser, text) == [claimed_by]


@pytest.mark.parametrize(
    "text",
    [
        "استهداف رتل للتحالف بعبوة ناسفة قرب الديوانية ظهر اليوم.\n#المقاومة_الإسلامية #العراق",
        "IED hits a US supply convoy near Samawah today, #ISIS suspected by local police.",
        "ISIS cells attacked an army convoy near Hawija today, police said.\n#داعش",
    ],
)
def test_topic_hashtags_and_hashtags_in_the_text_claim_nothing(analyser: Analyser, text: str) -> None:
    """A group hashtag among topic hashtags, inside a sentence, or tagging a group the text speaks
    of without a claim is no signature."""
    assert claimant(analyser, text) == [None]


@pytest.mark.parametrize(
    ("text", "claimed_by"),
    [
        (
            "Amaq News Agency: Islamic State fighters targeted a convoy of the Iraqi army with an explosive "
            "device near Tarmiyah today.",
            "Islamic State",
        ),
        (
            "وكالة أعماق الإخبارية: جنود الخلافة يفجرون عبوة ناسفة على رتل للحشد قرب الطارمية اليوم.",
            "Islamic State",
        ),
        (
            "Amaq reported that soldiers of the caliphate ambushed an army convoy near Hawija today.",
            "Islamic State",
        ),
        ("No claim appeared on Amaq after a bomb hit an army convoy near Hawija today.", None),
    ],
)
def test_a_news_agency_heading_or_report_is_its_groups_claim(
    analyser: Analyser, text: str, claimed_by: str | None
) -> None:
    """ "Amaq Agency: ...", "وكالة أعماق: ...", "Amaq reported that ...": the group claims; no claim on
    the agency is none."""
    assert claimant(analyser, text) == [claimed_by]


@pytest.mark.parametrize(
    ("text", "claimed_by"),
    [
        ("قاصم الجبارون: استهداف رتل للمحتل الأمريكي بعبوة ناسفة قرب السماوة اليوم.", "Qasim al-Jabbarin"),
        (
            "عصبة الثائرون تعلن استهداف رتل للاحتلال الأمريكي بعبوة ناسفة قرب الرميثة عصر اليوم.",
            "Usbat al-Tha'ireen",
        ),
    ],
)
def test_a_group_name_with_its_plural_in_the_nominative(
    analyser: Analyser, text: str, claimed_by: str
) -> None:
    """ "الجبارون", "الثائرون" (the subject's case) name the groups listed as "الجبارين", "الثائرين"."""
    assert claimant(analyser, text) == [claimed_by]


@pytest.mark.parametrize(
    ("text", "claimed_by"),
    [
        (
            "تبارك كتائب حزب الله لمجاهديها استهداف رتل للاحتلال الأمريكي بعبوة ناسفة قرب الرمادي اليوم.",
            "Kataib Hezbollah",
        ),
        (
            "Kataib Hezbollah praised its heroes for bombing a US supply convoy near Ramadi today.",
            "Kataib Hezbollah",
        ),
        (
            "كتائب حزب الله تبارك العملية البطولية التي استهدفت رتلاً للاحتلال الأمريكي قرب الرمادي اليوم.",
            None,
        ),
    ],
)
def test_a_group_blessing_its_own_fighters_claims_the_attack(
    analyser: Analyser, text: str, claimed_by: str | None
) -> None:
    """Blessing "its heroes" (لمجاهديها) for an attack claims it; praising the operation does not."""
    assert claimant(analyser, text) == [claimed_by]


@pytest.mark.parametrize(
    ("text", "claimed_by"),
    [
        ("حمّلت خلية الإعلام الأمني تنظيم داعش مسؤولية التفجير الذي استهدف رتلاً للجيش قرب بيجي اليوم.", None),
        (
            "The Joint Operations Command blamed ISIS cells in a statement for an ambush on an army convoy "
            "near Baiji today.",
            None,
        ),
        (
            "ISIS was blamed for the ambush on an army convoy near Baiji today, officials said in a "
            "statement.",
            None,
        ),
        ("تنظيم داعش يتبنى الهجوم على رتل للجيش قرب بيجي اليوم.", "Islamic State"),
        ("استهداف رتل يحمل معدات للجيش قرب بيجي اليوم، وتبنى تنظيم داعش الهجوم.", "Islamic State"),
    ],
)
def test_blaming_a_group_is_not_its_claim(analyser: Analyser, text: str, claimed_by: str | None) -> None:
    """ "تحمّل داعش مسؤولية", "blamed ISIS", "ISIS was blamed": blame; a convoy that "يحمل" cargo is not."""
    assert claimant(analyser, text) == [claimed_by]


@pytest.mark.parametrize(
    ("text", "killed", "injured"),
    [
        ("ما أسفر عن هلاك ثلاثة من عناصره", 3, None),
        ("انفجار عبوة على رتل واقتصرت الخسائر على الماديات.", 0, 0),
        ("انفجار عبوة على رتل، والانفجار اقتصر على خسائر مادية.", 0, 0),
        ("A bomb hit the convoy; damage was limited to material damage to one truck.", 0, 0),
        ("Two convoys were hit near Kut and Hayy. None of them caused any injuries.", 0, 0),
        ("أدى الانفجار إلى إصابة جنديَين.", None, 2),
        ("وإصابة سائقَيْن في الحادث.", None, 2),
        ("وإصابة سائقين في الحادث.", None, None),
        ("Police confirmed that three trucks burned and one driver was injured.", None, 1),
        ("Three soldiers were confirmed dead after the blast.", 3, None),
    ],
)
def test_casualty_phrasings(text: str, killed: int | None, injured: int | None) -> None:
    """ "هلاك" is killed, material damage only and "none of them caused" are 0/0, a fatha marks the
    dual, and a reporter's "confirmed that" ends the people counted."""
    found = find_casualties(text)
    assert (found.killed, found.injured) == (killed, injured)


def test_none_of_them_caused_casualties_is_for_every_attack(analyser: Analyser) -> None:
    """A closing "None of them caused any injuries" after two attacks without ordinals gives 0/0 to both."""
    text = (
        "Two attacks on coalition convoys this morning: a bomb near Diwaniyah and, later, another bomb near "
        "Samawah. None of them caused any injuries."
    )
    assert [(e.place, e.killed, e.injured) for e in events(analyser, text)] == [
        ("Diwaniyah", 0, 0),
        ("Samawah", 0, 0),
    ]


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("استهداف رتل للتحالف بعبوة ناسفة على الطريق الرابط بين الديوانية والحمزة ظهر اليوم.", "Diwaniyah"),
        (
            "A bomb hit a coalition supply convoy on the road between Samawah and Rumaitha this morning.",
            "Samawah",
        ),
        ("A bomb hit a coalition convoy on the Baqubah-Muqdadiyah road today.", "Baqubah"),
        (
            "A bomb hit a US convoy on the road between al-Yarubiyah and Tal Bidar in Hasakah today.",
            "Yarubiyah",
        ),
        (
            "استهداف رتل للتحالف بعبوة ناسفة على الطريق بين الرميثة وقرية البوحسان في المثنى اليوم.",
            "Rumaythah",
        ),
        (
            "استهداف رتل للتحالف بعبوة ناسفة قرب ناحية الحمزة على الطريق الرابط بين الديوانية "
            "والشامية ظهر اليوم.",
            "Hamzah",
        ),
    ],
)
def test_a_road_between_two_places_is_placed_at_its_first_end(
    analyser: Analyser, text: str, place: str
) -> None:
    """With nothing nearer named, a road's first-named end is the site, whatever the size of the
    other end or whether the gazetteer knows it; a town "near" it still wins."""
    assert [e.place for e in events(analyser, text)] == [place]


@pytest.mark.parametrize(
    ("text", "place"),
    [
        (
            "A roadside bomb hit a convoy of trucks for the coalition on the Mohammed al-Qasim highway in "
            "Baghdad this morning.",
            "Mohammed al-Qasim expressway",
        ),
        (
            "A roadside bomb hit a coalition supply convoy on Baghdad's airport road this morning, "
            "police said.",
            "Baghdad airport road",
        ),
        (
            "انفجار عبوة ناسفة على رتل شاحنات للتحالف على طريق المطار في بغداد صباح اليوم.",
            "Baghdad airport road",
        ),
    ],
)
def test_a_road_inside_a_city_is_more_specific_than_the_city(
    analyser: Analyser, text: str, place: str
) -> None:
    """A road that lies in one governorate (Baghdad's airport road) is the site; the city is where it runs."""
    assert [(e.admin1, e.place) for e in events(analyser, text)] == [("IQ-BG", place)]


@pytest.mark.parametrize(
    "text",
    [
        "Unknown gunmen set fire to a convoy of trucks contracted by the US military near Baiji today.",
        "A bomb hit a convoy of American-contracted fuel tankers near Samawah today.",
    ],
)
def test_trucks_the_us_hired_are_the_coalitions(analyser: Analyser, text: str) -> None:
    """ "US-contracted", "contracted by the US": the convoy carries the coalition's supplies."""
    assert [e.target for e in events(analyser, text)] == ["us_coalition"]


@pytest.mark.parametrize(
    ("text", "killed", "injured"),
    [
        ("رتل للجيش انضرب بكمين قرب تكريت، استشهدوا ثلاث جنود وانجرحوا اثنين", 3, 2),
        ("عبوة طكت بالرتل وانصابوا اثنين من الحراس", None, 2),
        ("الشاحنة احترگت والسايق انجرح", None, 1),
        ("وحدة من الصهاريج احترقت وسائقها انصاب بشظية", None, 1),
        ("اثنين من السواق انصابوا بالرمي", None, 2),
        ("الحمد لله لا شهيد ولا جريح بين الحراس", 0, 0),
        ("ولا قتلى ولا جرحى بالرتل", 0, 0),
        ("ماكو اصابات بالسواق", 0, 0),
    ],
)
def test_iraqi_casualty_verbs_and_their_subjects(text: str, killed: int | None, injured: int | None) -> None:
    """ "استشهدوا", "انجرحوا", "انصاب" count like the standard verbs, a person right before such a
    verb ("والسايق انجرح", "اثنين من السواق انصابوا") is counted, and "لا شهيد ولا جريح" is 0/0."""
    found = find_casualties(text)
    assert (found.killed, found.injured) == (killed, injured)


@pytest.mark.parametrize(
    ("text", "killed", "injured"),
    [
        ("ارتفاع عدد قتلى التفجير الذي استهدف رتل الجيش قرب بيجي إلى خمسة", 5, None),
        ("ارتفعت حصيلة الجرحى في هجوم الأمس على الرتل إلى 6", None, 6),
        ("وبلغ عدد الشهداء ثلاثة", 3, None),
    ],
)
def test_an_arabic_toll_that_rose_to_a_figure(text: str, killed: int | None, injured: int | None) -> None:
    """ "ارتفاع عدد القتلى ... إلى خمسة", "بلغ عدد الشهداء ثلاثة": the toll's figure, however far."""
    found = find_casualties(text)
    assert (found.killed, found.injured) == (killed, injured)


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("Gunmen ambushed an army convoy near Tikrit overnight on Tuesday, officials said on Wednesday.", 1),
        ("Overnight (1 June), an IED struck a coalition supply convoy near Samawah.", 1),
        ("An IED hit a coalition convoy near Samawah on Tuesday overnight.", 1),
        ("Overnight: a bomb hit a police convoy near Hawija just before midnight Tuesday.", 1),
        ("Overnight: a bomb hit a police convoy near Hawija.", 3),
    ],
)
def test_a_vague_time_gives_way_to_the_day_it_names(analyser: Analyser, text: str, day: int) -> None:
    """ "overnight on Tuesday", "Overnight (1 June)": the day named, not the post's date, whichever
    comes first; "overnight" alone keeps the post's date."""
    assert [e.date for e in events(analyser, text)] == [dt.date(2021, 6, day)]


@pytest.mark.parametrize(
    ("text", "claimed_by"),
    [
        (
            "بيان صادر عن #أصحاب_الكهف\nاستهدف مجاهدونا رتلاً للمحتل الأمريكي بعبوة ناسفة قرب الرميثة اليوم.",
            "Ashab al-Kahf",
        ),
        (
            "بعون الله تمكن أبطال #قاصم_الجبارين من استهداف رتل للاحتلال الأمريكي قرب السماوة صباح اليوم.",
            "Qasim al-Jabbarin",
        ),
        (
            "Translation of an Ashab al-Kahf message: 'Our heroes blew up a convoy of the American occupier "
            "near Diwaniyah today.'",
            "Ashab al-Kahf",
        ),
        ("#ربع_الله\nشباب ربع الله أحرقوا شاحنات رتل يحمل معدات للمحتل قرب الدورة ببغداد اليوم", "Rab'allah"),
        ("لم يصدر بيان عن #قاصم_الجبارين بعد استهداف رتل للاحتلال الأمريكي قرب السماوة اليوم.", None),
        ("انفجار عبوة على رتل للتحالف قرب السماوة اليوم #قاصم_الجبارين #العراق", None),
    ],
)
def test_hashtag_names_and_quoted_posts_in_claims(
    analyser: Analyser, text: str, claimed_by: str | None
) -> None:
    """A hashtag group right after a claim word ("بيان صادر عن #X", "أبطال #X"), the group's own men
    ("شباب ربع الله") or its quoted post claim; a denied statement or a topic tag does not."""
    assert claimant(analyser, text) == [claimed_by]


@pytest.mark.parametrize(
    ("text", "attack_type"),
    [
        ("Nasiriyah: a planted charge went off next to a coalition supply convoy this morning.", "ied"),
        ("A roadside charge exploded as a US supply convoy passed near Samawah today.", "ied"),
        (
            "Attackers hurled petrol bombs at a coalition supply convoy near Kut today; two lorries burned.",
            "arson",
        ),
        ("هجوم بقنابل المولوتوف استهدف رتل شاحنات للتحالف قرب الكوت اليوم", "arson"),
    ],
)
def test_charges_and_petrol_bombs(analyser: Analyser, text: str, attack_type: str) -> None:
    """A "planted charge" is an IED; petrol bombs thrown at trucks set them on fire (arson)."""
    assert [e.attack_type for e in events(analyser, text)] == [attack_type]


@pytest.mark.parametrize(
    ("text", "target"),
    [
        (
            "IED strikes hit contractor trucks on the Baghdad–Fallujah highway near Abu Ghraib today.",
            "us_coalition",
        ),
        (
            "Our fighters struck a convoy of the occupation with an explosive charge near Samawah today.",
            "us_coalition",
        ),
        ("A drone struck a convoy of Sinjar Resistance Units fighters near Sinjar today.", "iraqi_forces"),
        ("مسلحون هاجموا رتل صهاريج تابعة لشركة نقل أهلية قرب بيجي اليوم", "other"),
        ("عبوة ناسفة على رتل شاحنات تابع لشركة متعاقدة مع التحالف قرب بيجي اليوم", "us_coalition"),
        ("انفجار عبوة ناسفة على رتل لشركة نفط الشمال قرب الدبس اليوم", "other"),
    ],
)
def test_owner_words_at_the_convoy(analyser: Analyser, text: str, target: str) -> None:
    """Contractors' trucks and "the occupation" are the coalition's, YBS a local force, a company's
    convoy civilian unless it works for the coalition."""
    assert [e.target for e in events(analyser, text)] == [target]


@pytest.mark.parametrize(
    ("text", "place", "admin1"),
    [
        ("هسه عبوة ضربت رتل امريكاني بالشامية والرتل وگف", "Shamiyah", "IQ-QA"),
        ("عبوة استهدفت رتل يحمل معدات للقوات الأمريكية بطريق صفوان فجر اليوم", "Safwan", "IQ-BA"),
        ("طكت عبوة عالرتل الامريكاني بطريق الديوانية الحلة گرب الدغارة", "Daghara", "IQ-QA"),
        ("المحمودية | ملثمون أحرقوا شاحنات رتل للأمريكان على طريق بغداد - الحلة", "Mahmudiyah", "IQ-BG"),
    ],
)
def test_joined_locatives_and_a_dateline_town_on_a_long_road(
    analyser: Analyser, text: str, place: str, admin1: str
) -> None:
    """ "بالشامية", "بطريق صفوان", Iraqi "گرب" place the attack; a dateline town beats a road that
    crosses governorates."""
    assert [(e.place, e.admin1) for e in events(analyser, text)] == [(place, admin1)]


@pytest.mark.parametrize(
    "text",
    [
        "الدغارة | عبوة استهدفت رتل شاحنات ينقل للأمريكان أمس، ورتل ثاني انضرب بنفس اليوم بالحمزة",
        "An IED hit a US supply convoy near Daghara yesterday, and a second convoy was hit near Hamzah.",
    ],
)
def test_a_second_convoy_hit_in_the_same_sentence(analyser: Analyser, text: str) -> None:
    """ "ورتل ثاني انضرب ... بالحمزة", "and a second convoy was hit near X": two events; "بنفس
    اليوم" (the same day) is the first attack's day, not the post's."""
    found = events(analyser, text)
    assert [e.admin1 for e in found] == ["IQ-QA", "IQ-QA"]
    assert [e.date for e in found] == [dt.date(2021, 6, 2), dt.date(2021, 6, 2)]
    assert found[0].place == "Daghara"


@pytest.mark.parametrize(
    "text",
    [
        "Round-up (24–30 May): two strikes on coalition supply convoys — 26 May, IED on trucks at Kut; "
        "29 May, RPG at Hayy, one driver hurt.",
        "Round-up (24 May–30 May): two strikes on coalition supply convoys — 26 May, IED on trucks at Kut; "
        "29 May, RPG at Hayy, one driver hurt.",
    ],
)
def test_a_round_ups_period_is_no_attack_date(analyser: Analyser, text: str) -> None:
    """ "(24–30 May)" is the round-up's week: each strike keeps its own date, and "two strikes" counts."""
    found = events(analyser, text)
    assert [(e.place, e.date) for e in found] == [
        ("Kut", dt.date(2021, 5, 26)),
        ("Hayy", dt.date(2021, 5, 29)),
    ]
    assert [e.injured for e in found] == [None, 1]


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("1- 29 May: IED at Kut", [29]),
        ("between 24 and 30 May", []),
        ("Week 24 – 30 May", []),
    ],
)
def test_a_period_is_not_a_list_number(text: str, days: list[int]) -> None:
    """A list's "1- 29 May" is a date; "between 24 and 30 May" and "24 – 30 May" are a period."""
    assert [d.date.day for d in find_dates(text, dt.date(2021, 6, 3))] == days


def test_places_listed_with_and_after_a_direction(analyser: Analyser) -> None:
    """ "on the expressway by Taji, and south of Hillah": three listed sites, not Hillah as where
    Taji lies."""
    text = (
        "Three roadside bombs hit coalition supply convoys on 1 June: north of Mahmudiyah on the "
        "highway, on the expressway by Taji, and south of Hillah."
    )
    assert [e.place for e in events(analyser, text)] == ["Mahmudiyah", "Taji", "Hillah"]


@pytest.mark.parametrize(
    ("text", "killed", "injured"),
    [
        ("Lead truck disabled, driver slightly wounded.", None, 1),
        ("Trailer overturned and escort injured.", None, 1),
        ("One truck burned, driver lightly hurt.", None, 1),
        ("ارتقى جندي شهيداً في الهجوم", 1, None),
        ("وسقط حارس جريحاً بانفجار العبوة", None, 1),
        ("The ministry said no soldiers were injured.", 0, 0),
        ("No US personnel were hurt in the blast.", 0, 0),
        ("No personnel figures were given.", None, None),
    ],
)
def test_a_bare_person_a_fallen_martyr_and_no_personnel_harmed(
    text: str, killed: int | None, injured: int | None
) -> None:
    """ "driver lightly injured" is one person, "ارتقى جندي شهيدا" one dead, "no personnel were
    harmed" none; a comma ends the bare subject."""
    found = find_casualties(text)
    assert (found.killed, found.injured) == (killed, injured)


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("A roadside bomb struck a line of American military vehicles near Shaddadi today.", "us_coalition"),
        ("A column of coalition vehicles was hit by an IED near Rutba today.", "us_coalition"),
        ("Gunmen shot at a column of water trucks owned by a local merchant near Qaim today.", "other"),
        ("مسلحون يطلقون النار على رتل صهاريج تعود لتاجر محلي قرب بيجي اليوم", "other"),
        ("تفجير عبوة ناسفة بموكب شاحنات للشرطة الاتحادية قرب بيجي اليوم", "iraqi_forces"),
        ("IED hits a motorcade of army trucks near Tikrit today.", "iraqi_forces"),
    ],
)
def test_a_column_of_us_vehicles_a_traders_trucks_and_the_armys_trucks(
    analyser: Analyser, text: str, target: str
) -> None:
    """A column of US vehicles is the coalition's, a private trader's tankers civilian, the army's
    own trucks local forces'."""
    assert [e.target for e in events(analyser, text)] == [target]


def test_a_list_item_left_out_keeps_its_toll(analyser: Analyser) -> None:
    """The driver hurt in a dropped item about a single car is no casualty of the convoy."""
    text = (
        "Two incidents today:\n(1) IED vs a coalition supply convoy near Samawah; one truck burned.\n"
        "(2) IED vs a single private car in Basra's Ashar district, driver wounded."
    )
    assert [(e.place, e.injured) for e in events(analyser, text)] == [("Samawah", None)]
