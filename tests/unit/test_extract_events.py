"""Events out of whole posts: places with ambiguity rules, several attacks per post, shared details."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from bot.analysis import Analyser
from bot.errors import ConfigError
from bot.extract.events import Extractor, load_extractor
from bot.model import Classification, Event, Post
from bot.rules.engine import load_ruleset
from bot.rules.matcher import Hit, Matcher, TermEntry
from bot.rules.text import Document, tokenise

POSTED = dt.datetime(2021, 6, 3, 9, 0, tzinfo=dt.UTC)  # Thursday, 12:00 in Iraq


class KeywordLabeller:
    """A fake rule engine: labels a token window by a few keywords."""

    def labels_for(self, doc: Document, hits: Sequence[Hit], first: int, last: int) -> Mapping[str, str]:
        words = " ".join(token.norm for token in doc.tokens[first : last + 1])
        for keys, label in (
            (("drone", "مسيره"), "drone"),
            (("ambush", "كمين"), "gunfire"),
            (("ied", "عبوه"), "ied"),
        ):
            if any(key in words for key in keys):
                return {"attack_type": label, "target": "unknown"}
        return {"attack_type": "unknown", "target": "unknown"}


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return load_extractor(Path("config/gazetteer"), Path("config/groups.yaml")).bind(KeywordLabeller())


@pytest.fixture(scope="module")
def matcher(extractor: Extractor) -> Matcher:
    return Matcher(extractor.entries)


def extract(
    text: str,
    extractor: Extractor,
    matcher: Matcher,
    posted: dt.datetime = POSTED,
    labels: Mapping[str, str] | None = None,
) -> tuple[Event, ...]:
    post = Post(channel="test", message_id=1, date=posted, text=text)
    doc = tokenise(text)
    classification = Classification(True, 1.0, (), labels or {"attack_type": "ied", "target": "us_coalition"})
    return extractor.extract(post, doc, matcher.scan(doc), classification)


def places(events: Sequence[Event]) -> list[tuple[str | None, str | None]]:
    return [(event.admin1, event.place) for event in events]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("IED struck a coalition supply convoy in Hit, Anbar. No casualties.", [("IQ-AN", "Hit")]),
        ("An IED hit a convoy near Kut this morning.", [("IQ-WA", "Kut")]),
        ("انفجار عبوة ناسفة على رتل في قضاء بلد", [("IQ-SD", "Balad")]),
        ("استهداف رتل للتحالف في منطقة البلد الأمين قرب الديوانية", [("IQ-QA", "Diwaniyah")]),
        ("صفوان العبيدي: استهداف رتل في العمارة", [("IQ-MA", "Amarah")]),
        ("استهداف رتل للتحالف قرب منفذ صفوان الحدودي", [("IQ-BA", "Safwan")]),
        ("تبنى قاسم الجبارين استهداف رتل في الحلة", [("IQ-BB", "Hillah")]),
        ("استهداف رتل بعبوة ناسفة على الطريق السريع في محافظة الديوانية", [("IQ-QA", None)]),
        ("A convoy carrying supplies to Ain al-Asad air base was hit near Haditha.", [("IQ-AN", "Haditha")]),
        ("IED on a convoy near al-Hamza al-Sharqi, south of Diwaniyah.", [("IQ-QA", "Hamzah al-Sharqi")]),
        ("استهداف رتل في قضاء المحمودية جنوبي بغداد", [("IQ-BG", "Mahmudiyah")]),
        ("#Hasakah: a drone struck a US convoy near Tal Tamr.", [("SY-HA", "Tal Tamr")]),
        ("دير الزور | استهداف رتل أمريكي قرب بلدة ذيبان بالأسلحة الرشاشة", [("SY-DY", "Dhiban")]),
    ],
)
def test_where(
    text: str, expected: list[tuple[str, str | None]], extractor: Extractor, matcher: Matcher
) -> None:
    """The attack site: cues decide ambiguous names; destinations and references give way."""
    assert places(extract(text, extractor, matcher)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the most specific place wins over the district or city it is described from
        ("An IED hit an army convoy near Daquq, south of Kirkuk, on Tuesday.", [("IQ-KI", "Daquq")]),
        ("انفجار عبوة على رتل للجيش في منطقة جزيرة البعاج جنوب غربي الموصل", [("IQ-NI", "Baaj")]),
        ("استهداف رتل للتحالف في قضاء المدائن جنوب شرقي بغداد", [("IQ-BG", "Mada'in")]),
        ("A drone hit a convoy near Chamchamal, west of Sulaymaniyah.", [("IQ-SU", "Chamchamal")]),
        # the two ends of a road name are where it runs, not where the attack was
        ("Gunmen hit a convoy on the Erbil-Koya road near Degala.", [("IQ-AR", "Degala")]),
        ("عبوة ناسفة تستهدف رتلاً على طريق الكوت – العمارة قرب ناحية شيخ سعد", [("IQ-WA", "Sheikh Saad")]),
        ("An IED hit a convoy on the Baghdad-Hilla highway near Iskandariyah.", [("IQ-BB", "Iskandariyah")]),
        ("كمين لرتل على الطريق الرابط بين خانقين وكلار شمال شرقي ديالى", [("IQ-DI", "Khanaqin")]),
        ("A bomb went off under a convoy on the Abu Ghraib expressway.", [("IQ-BG", "Abu Ghraib")]),
        # near a base or an oil field is a place; bound for a base is not
        ("استهداف رتل أمريكي قرب حقل كونيكو للغاز في ريف دير الزور", [("SY-DY", "Conoco gas field")]),
        ("A convoy bound for Ain al-Asad was hit by an IED near Kubaisa.", [("IQ-AN", "Kubaisa")]),
        # a ridge the attackers fled into is not the site
        (
            "Militants ambushed an army convoy near Tuz Khurmatu and escaped into the Hamrin hills.",
            [("IQ-SD", "Tuz Khurmatu")],
        ),
        ("هجوم على رتل للجيش في منطقة الرستمية جنوب شرقي بغداد", [("IQ-BG", "Rustamiyah")]),
        # a name qualified by its own governorate is a place even when it is also a word
        (
            "حصيلة اليوم:\n1- الخضر / المثنى: عبوة ناسفة على رتل\n"
            "2- الزبير / البصرة: عبوة على رتل قرب مفرق الشعيبة",
            [("IQ-MU", "Khidr"), ("IQ-BA", "Zubayr")],
        ),
    ],
)
def test_specific_places_routes_and_bases(
    text: str, expected: list[tuple[str, str | None]], extractor: Extractor, matcher: Matcher
) -> None:
    """Towns beat their district and city, road ends give way, 'near a field' is a site."""
    assert places(extract(text, extractor, matcher)) == expected


def test_a_round_up_keeps_only_convoy_attacks(extractor: Extractor, matcher: Matcher) -> None:
    """Lines about an aid convoy arriving or rockets on a base are not events of the round-up."""
    text = (
        "Week in review:\n"
        "• Sunday 30 May: an IED hit a PMF convoy near Balad Ruz, wounding two.\n"
        "• Monday 31 May: a drone hit Harir air base; no damage.\n"
        "• Tuesday 1 June: a food aid convoy arrived in Sinjar.\n"
        "• Wednesday 2 June: gunmen ambushed an army convoy near Hatra."
    )
    events = extract(text, extractor, matcher)
    assert places(events) == [("IQ-DI", "Balad Ruz"), ("IQ-NI", "Hatra")]
    assert [event.date for event in events] == [dt.date(2021, 5, 30), dt.date(2021, 6, 2)]


def test_a_date_told_before_the_sites_is_theirs(extractor: Extractor, matcher: Matcher) -> None:
    """ "Two convoys were hit on Monday: one near X and another near Y": both on Monday."""
    text = "Two convoys were hit in Dhi Qar on Monday: one near Shatrah and another near Rifai."
    events = extract(text, extractor, matcher)
    assert places(events) == [("IQ-DQ", "Shatrah"), ("IQ-DQ", "Rifai")]
    assert [event.date for event in events] == [dt.date(2021, 5, 31)] * 2


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("Two Peshmerga fighters were killed when a bomb hit their convoy near Kalar.", "iraqi_forces"),
        ("استشهاد اثنين من الحشد الشعبي بانفجار عبوة استهدفت رتلاً لهم قرب بلدروز", "iraqi_forces"),
        ("A convoy of trucks was hit near Degala. Police did not say who owned the trucks.", "unknown"),
    ],
)
def test_forces_whose_own_convoy_was_hit(text: str, target: str, extractor: Extractor) -> None:
    """ "Peshmerga ... their convoy" makes the target local forces; police as a source does not."""
    extra = [TermEntry("local_forces", term) for term in ("Peshmerga", "police", "الحشد الشعبي")]
    local = Matcher([*extractor.entries, *extra])
    events = extract(text, extractor, local, labels={"attack_type": "ied", "target": "unknown"})
    assert [event.target for event in events] == [target]


@pytest.mark.parametrize(
    ("text", "expected", "dates"),
    [
        # "and another": a second attack in the same sentence; its words stay with each site
        (
            "An IED hit a convoy in Kufa on Tuesday morning and another hit a convoy near Mishkhab "
            "in the evening.",
            [("IQ-NA", "Kufa"), ("IQ-NA", "Mishkhab")],
            [dt.date(2021, 6, 1)] * 2,
        ),
        (
            "استهداف رتل للتحالف بعبوة ناسفة في قضاء الزبير، وآخر في قضاء أبي الخصيب، مساء أمس.",
            [("IQ-BA", "Zubayr"), ("IQ-BA", "Abu al-Khasib")],
            [dt.date(2021, 6, 2)] * 2,
        ),
        # sentences that each carry their own day and place
        (
            "Sunday 30 May: an IED struck a coalition convoy near Kufa. "
            "Monday 31 May: gunmen ambushed a PMF convoy near Baiji.",
            [("IQ-NA", "Kufa"), ("IQ-SD", "Baiji")],
            [dt.date(2021, 5, 30), dt.date(2021, 5, 31)],
        ),
        # a road named after one town, then the place on it
        (
            "An IED hit a convoy on the Fallujah road near Khan Dhari on Monday.",
            [("IQ-BG", "Khan Dhari")],
            [dt.date(2021, 5, 31)],
        ),
    ],
)
def test_attacks_counted_in_running_text(
    text: str,
    expected: list[tuple[str, str | None]],
    dates: list[dt.date],
    extractor: Extractor,
    matcher: Matcher,
) -> None:
    """ "and another", sentences with their own dates, and roads named after a town count right."""
    events = extract(text, extractor, matcher)
    assert places(events) == expected
    assert [event.date for event in events] == dates


def test_places_listed_with_and_in_one_governorate_are_separate(
    extractor: Extractor, matcher: Matcher
) -> None:
    """ "in three places: Samawah, Rumaythah and al-Khidr" is three events, not one place."""
    text = "Convoys hit with IEDs in three places today: Samawah, Rumaythah and al-Khidr."
    events = extract(text, extractor, matcher)
    assert places(events) == [("IQ-MU", "Samawah"), ("IQ-MU", "Rumaythah"), ("IQ-MU", "Khidr")]


def test_a_town_qualified_by_its_city_is_one_place(extractor: Extractor, matcher: Matcher) -> None:
    """ "near Rumaythah, Samawah" (no "and") names one site, the town."""
    events = extract("An IED hit a coalition convoy near Rumaythah, Samawah, today.", extractor, matcher)
    assert places(events) == [("IQ-MU", "Rumaythah")]


def test_casualties_stay_with_their_own_site(extractor: Extractor, matcher: Matcher) -> None:
    """Words after a site's name up to the next site's sentence are that site's."""
    text = (
        "Two convoys were attacked: an IED hit one in Samawah, killing two drivers. "
        "The other was hit in Nasiriyah."
    )
    events = extract(text, extractor, matcher)
    assert places(events) == [("IQ-MU", "Samawah"), ("IQ-DQ", "Nasiriyah")]
    assert [event.killed for event in events] == [2, None]


def test_two_ieds_on_one_convoy_are_one_event(extractor: Extractor, matcher: Matcher) -> None:
    """Two charges against one convoy at one spot are one event."""
    text = "انفجار عبوتين ناسفتين استهدفتا رتلاً واحداً عند جسر المحاويل شمالي بابل"
    assert places(extract(text, extractor, matcher)) == [("IQ-BB", "Jisr al-Mahaweel")]


def test_a_listed_round_up_gives_one_event_per_item(extractor: Extractor, matcher: Matcher) -> None:
    """Items keep their own place and details; the closing line applies to all."""
    text = (
        "Round-up 2 June:\n- Diwaniyah: IED on a coalition convoy\n"
        "- Babil (Jableh): IED, two drivers injured\n"
        "- Basra (Zubair): convoy trucks set on fire\nNo casualties in the others."
    )
    events = extract(text, extractor, matcher)
    assert places(events) == [("IQ-QA", "Diwaniyah"), ("IQ-BB", "Jableh"), ("IQ-BA", "Zubayr")]
    assert [event.date for event in events] == [dt.date(2021, 6, 2)] * 3
    assert [event.injured for event in events] == [0, 2, 0]


def test_a_coordinated_list_of_places(extractor: Extractor, matcher: Matcher) -> None:
    """ "Three convoys ... in A, B and C. All were claimed by X": three events, each claimed."""
    text = (
        "Three convoys hit today: in Diwaniyah, Samawah and Nasiriyah. All were claimed by Qasim al-Jabbarin."
    )
    events = extract(text, extractor, matcher)
    assert [event.admin1 for event in events] == ["IQ-QA", "IQ-MU", "IQ-DQ"]
    assert {event.claimed_by for event in events} == {"Qasim al-Jabbarin"}


def test_arabic_ordinals_split_with_their_own_labels(extractor: Extractor, matcher: Matcher) -> None:
    """الأول/الثاني give one event each; each part gets the labels of its own words."""
    text = "استهداف رتلين للتحالف صباح اليوم، الأول بعبوة ناسفة في الناصرية والثاني بطائرة مسيرة في البصرة."
    events = extract(text, extractor, matcher, labels={"attack_type": "unknown", "target": "us_coalition"})
    assert places(events) == [("IQ-DQ", "Nasiriyah"), ("IQ-BA", "Basra")]
    assert [event.attack_type for event in events] == ["ied", "drone"]


def test_one_claim_for_one_of_several_attacks(extractor: Extractor, matcher: Matcher) -> None:
    """A claim about the attack in one governorate is that event's claim only."""
    text = (
        "On 1 June, two convoys came under attack.\n\nThe first convoy was hit by an IED in Samawah. "
        "The second convoy was attacked in Babylon province.\n\n"
        "The attack in Babylon, at Jableh, was claimed by Ashab al-Kahf."
    )
    events = extract(text, extractor, matcher)
    assert places(events) == [("IQ-MU", "Samawah"), ("IQ-BB", "Jableh")]
    assert [event.claimed_by for event in events] == [None, "Ashab al-Kahf"]
    assert [event.date for event in events] == [dt.date(2021, 6, 1)] * 2


def test_dates_and_casualties_of_a_single_report(extractor: Extractor, matcher: Matcher) -> None:
    """The stated day, the figures, the claimant, coordinates and the Arabic place name."""
    text = (
        "ISIS claimed an attack on a PMF convoy in Tarmiyah on Tuesday, killing four fighters and "
        "wounding two."
    )
    (event,) = extract(text, extractor, matcher, labels={"attack_type": "gunfire", "target": "iraqi_forces"})
    assert event.date == dt.date(2021, 6, 1)
    assert (event.killed, event.injured, event.claimed_by) == (4, 2, "Islamic State")
    assert event.place_ar == "الطارمية"
    assert event.lat is not None and event.lon is not None
    assert (event.attack_type, event.target) == ("gunfire", "iraqi_forces")


def test_no_date_in_the_text_is_the_posts_iraq_date(extractor: Extractor, matcher: Matcher) -> None:
    """A post at 22:20 UTC is dated the next day, in Iraq time."""
    late = dt.datetime(2021, 9, 14, 22, 20, tzinfo=dt.UTC)
    (event,) = extract("انفجار عبوة ناسفة على رتل للتحالف قرب منفذ صفوان", extractor, matcher, posted=late)
    assert event.date == dt.date(2021, 9, 15)


def test_a_post_without_a_known_place_still_has_its_event(extractor: Extractor, matcher: Matcher) -> None:
    """A relevant post with no gazetteer place gives one event with the country it names."""
    (event,) = extract("An IED hit a US convoy in southern Iraq today.", extractor, matcher)
    assert (event.country, event.admin1, event.place) == ("IQ", None, None)


def test_missing_gazetteer_folder_is_a_config_error(tmp_path: Path) -> None:
    """No gazetteer CSV files is a ConfigError naming the folder."""
    with pytest.raises(ConfigError, match="no gazetteer CSV files"):
        load_extractor(tmp_path, Path("config/groups.yaml"))


def test_a_stated_count_in_one_governorate_gives_that_many_events(
    extractor: Extractor, matcher: Matcher
) -> None:
    """ "Two convoys were targeted in Babil" is two attacks, both placed in Babil only."""
    events = extract(
        "Two convoys carrying coalition supplies were targeted in Babil province.", extractor, matcher
    )
    assert places(events) == [("IQ-BB", None), ("IQ-BB", None)]


def test_background_about_an_earlier_attack_is_not_the_site(extractor: Extractor, matcher: Matcher) -> None:
    """The lead sentence's place wins over 'last week a similar attack hit a convoy near X'."""
    text = (
        "BAGHDAD (Reuters) - A roadside bomb struck a convoy of trucks carrying supplies for U.S.-led forces "
        "in the southern Dora district of Baghdad on Sunday, police said. Nobody was hurt.\n\n"
        "Last week a similar attack hit a convoy near Samawah, in Muthanna province."
    )
    (event,) = extract(text, extractor, matcher)
    assert (event.admin1, event.place, event.date) == ("IQ-BG", "Dora", dt.date(2021, 5, 30))
    assert (event.killed, event.injured) == (0, 0)


def test_a_date_closing_an_ordinal_list_is_for_every_attack(extractor: Extractor, matcher: Matcher) -> None:
    """ "الأول في ... والثاني قرب ...، يوم السبت ١٢ شباط": both attacks on that day."""
    text = (
        "سرايا أولياء الدم تتبنى استهداف رتلين: الأول في قضاء الرميثة والثاني قرب مدينة السماوة، "
        "يوم الاثنين ٣١ أيار."
    )
    events = extract(text, extractor, matcher)
    assert [event.date for event in events] == [dt.date(2021, 5, 31)] * 2
    assert [event.claimed_by for event in events] == ["Saraya Awliya al-Dam"] * 2


def test_closing_words_of_an_ordinal_list_are_for_all(extractor: Extractor, matcher: Matcher) -> None:
    """ "الأول في ... والثاني في ...، فجر اليوم دون خسائر بشرية": no casualties in either."""
    text = "استهداف رتلين للتحالف، الأول في الناصرية والثاني في البصرة، فجر اليوم دون خسائر بشرية."
    events = extract(text, extractor, matcher)
    assert [(event.killed, event.injured) for event in events] == [(0, 0), (0, 0)]


def test_a_news_article_is_one_event_despite_background_places(
    extractor: Extractor, matcher: Matcher
) -> None:
    """Dateline, destination and 'this month ... in June convoys were hit near X' add no events."""
    text = (
        "Attacks on coalition supply lines continue\n\n"
        "DIWANIYAH, Iraq – An improvised explosive device exploded on Tuesday evening as a convoy of trucks "
        "carrying equipment for the US-led coalition passed along the highway near Daghara, "
        "north of the city, police said.\n\nThe blast set one truck on fire; there were no casualties. "
        "The convoy had come from "
        "the Kuwaiti border and was heading to Baghdad.\n\nIt was the fourth such attack in Al-Qadisiyah "
        "province this month. In May, convoys were hit near Afak and in Diwaniyah itself."
    )
    (event,) = extract(text, extractor, matcher)
    assert (event.date, event.admin1, event.place) == (dt.date(2021, 6, 1), "IQ-QA", "Daghara")
    assert (event.killed, event.injured) == (0, 0)


def test_a_capital_listed_with_governorates_is_a_governorate(extractor: Extractor, matcher: Matcher) -> None:
    """ "in Dhi Qar and Basra": Basra is the governorate here (no place), not the city."""
    events = extract("IED attacks on two US convoys in Dhi Qar and Basra overnight.", extractor, matcher)
    assert places(events) == [("IQ-DQ", None), ("IQ-BA", None)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "عاجل | انفجار عبوة ناسفة على رتل للتحالف في قضاء المحمودية جنوبي بغداد.\n"
            "وفي هجوم آخر، تعرض رتل ثانٍ لانفجار عبوة قرب قضاء بلد جنوبي صلاح الدين.\n"
            "كما استُهدف رتل ثالث بعبوة ناسفة في ناحية الكفل.",
            [("IQ-BG", "Mahmudiyah"), ("IQ-SD", "Balad"), ("IQ-BB", "Kifl")],
        ),
        (
            "An IED struck a coalition supply convoy near Kut on Monday. In a separate attack, "
            "a second convoy was hit by a roadside bomb near Samawah.",
            [("IQ-WA", "Kut"), ("IQ-MU", "Samawah")],
        ),
        (
            "An IED struck a coalition supply convoy near Kut. Police said the convoy was heading "
            "to Samawah.",
            [("IQ-WA", "Kut")],
        ),
        (
            "استهداف رتل للتحالف بعبوة ناسفة قرب ناحية الشوملي في بابل.\n"
            "وأضاف المصدر أن رتلاً آخر تعرض لهجوم مماثل قرب قضاء الحمزة الشرقي.",
            [("IQ-BB", "Shomali"), ("IQ-QA", "Hamzah al-Sharqi")],
        ),
        (
            "An IED hit a coalition convoy near Kut this morning. Police later defused a second IED "
            "near Suwaira.",
            [("IQ-WA", "Kut")],
        ),
        (
            "انفجار عبوة ناسفة على رتل للتحالف قرب الكوت. وفككت القوات الأمنية عبوة ثانية قرب الصويرة.",
            [("IQ-WA", "Kut")],
        ),
    ],
)
def test_sentences_that_add_another_attack(
    text: str, expected: list[tuple[str, str | None]], extractor: Extractor, matcher: Matcher
) -> None:
    """ "وفي هجوم آخر", "كما استُهدف رتل ثالث", "a second convoy": one event each; a defused IED: none."""
    assert places(extract(text, extractor, matcher)) == expected


def test_casualties_in_one_sentence_of_several_stay_with_it(extractor: Extractor, matcher: Matcher) -> None:
    """ "دون خسائر بشرية" in the first attack's sentence, "wounded in the second attack": per event."""
    arabic = (
        "انفجار عبوة ناسفة على رتل للتحالف في قضاء المحمودية، دون خسائر بشرية.\n"
        "وفي هجوم آخر، استُهدف رتل ثانٍ بعبوة ناسفة قرب ناحية الكفل."
    )
    events = extract(arabic, extractor, matcher)
    assert [(e.killed, e.injured) for e in events] == [(0, 0), (None, None)]
    english = (
        "An IED hit a convoy near Tarmiyah. Hours later a second convoy came under fire near Taji. "
        "Two drivers were wounded in the second attack."
    )
    events = extract(english, extractor, matcher)
    assert [(e.place, e.injured) for e in events] == [("Tarmiyah", None), ("Taji", 2)]


def test_a_running_tally_adds_no_events(extractor: Extractor, matcher: Matcher) -> None:
    """A report with its translation and "that makes four attacks this week" is one event."""
    text = (
        "🔴 استهداف رتل للتحالف بعبوة ناسفة في ناحية غماس جنوب غربي الديوانية\n\n"
        "[EN] An IED hits a coalition convoy in Ghammas, south-west of Diwaniyah. "
        "That makes four attacks in Qadisiyah this week since Sunday."
    )
    events = extract(text, extractor, matcher)
    assert places(events) == [("IQ-QA", "Ghammas")]
    assert events[0].date == POSTED.date()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "📰 News of the day:\n"
            "▪️ The cabinet approves the budget for hospitals in Najaf.\n"
            "▪️ An IED hit a coalition supply convoy near Kut; engineers defused a second IED nearby.\n"
            "▪️ Weather: 47 degrees in Basra.",
            [("IQ-WA", "Kut")],
        ),
        (
            "Convoy attacks reported today (all coalition supply convoys):\n"
            "• Kut – north of the city\n"
            "• Hillah – two trucks damaged\n"
            "• Samawah – near the cement plant",
            [("IQ-WA", "Kut"), ("IQ-BB", "Hillah"), ("IQ-MU", "Samawah")],
        ),
    ],
)
def test_round_up_lines_by_what_the_header_says(
    text: str, expected: list[tuple[str, str | None]], extractor: Extractor, matcher: Matcher
) -> None:
    """Under a news header, lines with no attack or convoy are other news; under "attacks:", all count."""
    assert places(extract(text, extractor, matcher)) == expected


def test_claims_for_all_or_for_the_attack_they_name(extractor: Extractor, matcher: Matcher) -> None:
    """ "claims two IED attacks: one ... another ..." is for both; "claimed the drone strike" is not."""
    both = (
        "Saraya Awliya al-Dam claims two IED attacks on coalition convoys yesterday: one near "
        "Yusufiyah and another near Iskandariyah."
    )
    assert [e.claimed_by for e in extract(both, extractor, matcher)] == ["Saraya Awliya al-Dam"] * 2
    one = (
        "1/ An IED hit a US convoy near Shaddadi last night.\n"
        "2/ A drone struck a US supply convoy near Tal Tamr this morning.\n"
        "3/ Kataib Hezbollah has claimed the drone strike. Nobody has claimed the IED."
    )
    events = extract(one, extractor, matcher)
    assert [(e.place, e.attack_type, e.claimed_by) for e in events] == [
        ("Shaddadi", "ied", None),
        ("Tal Tamr", "drone", "Kataib Hezbollah"),
    ]
    assert [e.date for e in events] == [dt.date(2021, 6, 2), dt.date(2021, 6, 3)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Video released today shows an IED hitting a convoy near Kut. The attack took place on Monday.", 31),
        ("فيديو نشر اليوم لاستهداف رتل قرب الكوت، وقع الهجوم يوم الاثنين", 31),
        ("An IED hit a convoy near Kut, the fifth attack on convoys since Monday.", 3),
    ],
)
def test_the_date_of_the_attack_not_of_the_footage_or_a_tally(
    text: str, expected: int, extractor: Extractor, matcher: Matcher
) -> None:
    """ "The attack took place on Monday" beats "released today"; "since Monday" is not a date."""
    event = extract(text, extractor, matcher)[0]
    assert event.date.day == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "A drone hit a US convoy near the Kharab al-Jir airstrip in the Rmelan countryside.",
            [("SY-HA", "Kharab al-Jir")],
        ),
        (
            "Baghdad: a roadside bomb hit a coalition convoy on the Mohammed al-Qasim expressway.",
            [("IQ-BG", "Mohammed al-Qasim expressway")],
        ),
        ("An IED hit a coalition convoy near Tallil, west of Nasiriyah.", [("IQ-DQ", "Tallil")]),
        (
            "Convoy attacks today:\n• Nasiriyah – Suq al-Shuyukh road\n• Kut – Kut-Amarah road",
            [("IQ-DQ", "Nasiriyah"), ("IQ-WA", "Kut")],
        ),
    ],
)
def test_the_place_named_not_its_surroundings(
    text: str, expected: list[tuple[str, str | None]], extractor: Extractor, matcher: Matcher
) -> None:
    """ "near X in the Y countryside" is X; a road named after a person is not the town; a list
    line's place comes before the road it names."""
    assert places(extract(text, extractor, matcher)) == expected


def test_a_list_header_sets_defaults_that_a_line_overrides() -> None:
    """ "all IEDs unless noted" gives each line an IED; "(RPG, not IED)" makes that line a rocket."""
    analyser = Analyser.build(
        load_ruleset(Path("config/rules")),
        load_extractor(Path("config/gazetteer"), Path("config/groups.yaml")),
    )
    text = (
        "Daily wrap:\n"
        "Convoy attacks reported today (all on coalition supply convoys, all IEDs unless noted):\n"
        "• Kut – north of the city\n• Hillah – two trucks damaged (RPG, not IED)\n• Samawah – no casualties"
    )
    analysis = analyser.analyse(Post(channel="t", message_id=1, date=POSTED, text=text))
    assert [(e.place, e.attack_type, e.target) for e in analysis.events] == [
        ("Kut", "ied", "us_coalition"),
        ("Hillah", "rocket", "us_coalition"),
        ("Samawah", "ied", "us_coalition"),
    ]
    assert [(e.killed, e.injured) for e in analysis.events] == [(None, None), (None, None), (0, 0)]


def test_thread_commentary_and_claims_are_not_attacks(extractor: Extractor, matcher: Matcher) -> None:
    """In a "1/ 2/ 3/" thread, a context item about routine attacks and a claim item add no events."""
    text = (
        "🧵 Tonight in Babil:\n"
        "1/ An IED hit a coalition supply convoy near Musayyib around 21:00.\n"
        "2/ Context: attacks near Hillah have become routine since 2020.\n"
        "3/ No claim yet."
    )
    assert places(extract(text, extractor, matcher)) == [("IQ-BB", "Musayyib")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Two IEDs hit coalition convoys today, one near Basra and another near Zubair.",
            [("IQ-BA", "Basra"), ("IQ-BA", "Zubayr")],
        ),
        (
            "استهداف رتلين للتحالف، الأول في البصرة والآخر في الزبير",
            [("IQ-BA", "Basra"), ("IQ-BA", "Zubayr")],
        ),
        ("An IED hit a convoy near Zubair in Basra province.", [("IQ-BA", "Zubayr")]),
    ],
)
def test_a_city_and_another_place_of_its_governorate(
    text: str, expected: list[tuple[str, str | None]], extractor: Extractor, matcher: Matcher
) -> None:
    """ "one near Basra and another near Zubair" is two places; "Zubair in Basra province" is one."""
    assert places(extract(text, extractor, matcher)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A Turkish drone struck an SDF convoy near Derik.", "Derik"),
        ("انفجار عبوة على رتل للتحالف قرب بلدة ديريك", "Al-Malikiyah"),
        ("A Turkish drone struck an SDF convoy near Malikiyah.", "Al-Malikiyah"),
        ("An IED hit a coalition convoy near the Baiji refinery.", "Baiji"),
    ],
)
def test_a_place_is_named_as_the_english_report_names_it(
    text: str, expected: str, extractor: Extractor, matcher: Matcher
) -> None:
    """Another English name of a place ("Derik") is kept; a spelling or "X refinery" gives the canonical."""
    assert [event.place for event in extract(text, extractor, matcher)] == [expected]


@pytest.mark.parametrize(
    ("text", "expected", "day"),
    [
        (
            "An IED hit a coalition convoy near Kut on Tuesday, the third such attack in Wasit this week "
            "after one near Suwaira on Sunday.",
            [("IQ-WA", "Kut")],
            1,
        ),
        (
            "الديوانية | انفجار عبوة ناسفة على رتل للتحالف قرب جسر الحمزة، وهو ثاني استهداف يطال الأرتال "
            "في المحافظة خلال ٤٨ ساعة بعد استهداف رتل قرب عفك يوم الأحد.",
            [("IQ-QA", "Hamzah")],
            3,
        ),
    ],
)
def test_an_earlier_attack_after_a_tally_is_background(
    text: str, expected: list[tuple[str, str | None]], day: int, extractor: Extractor, matcher: Matcher
) -> None:
    """ "the third such attack this week after one near X on Sunday": neither X nor Sunday is its own."""
    events = extract(text, extractor, matcher)
    assert places(events) == expected
    assert [event.date.day for event in events] == [day]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # a range named as the site beats the town it is placed from
        (
            "Militants fired on a police convoy in the Makhoul mountains west of Baiji.",
            [("IQ-SD", "Makhoul")],
        ),
        ("كمين لرتل للجيش في جبال مكحول شمال بيجي", [("IQ-SD", "Makhoul")]),
        # "al-" before another name of the place: the post's spelling is the place's name
        ("A bomb hit a supply convoy on the Hillah-Diwaniyah road near al-Hamza.", [("IQ-QA", "al-Hamza")]),
        # the road between two sites, placed in their governorate: its first end is the site
        (
            "هجوم بطائرة مسيرة على رتل على الطريق بين حقل الجفرة وقاعدة كونيكو في دير الزور",
            [("SY-DY", "Jafra oil field")],
        ),
    ],
)
def test_named_sites_beat_the_city_they_are_placed_from(
    text: str, expected: list[tuple[str, str | None]], extractor: Extractor, matcher: Matcher
) -> None:
    """A range, a town written with its article, a road's end site: not the nearby city."""
    assert places(extract(text, extractor, matcher)) == expected


def test_a_base_attacks_toll_in_parentheses_is_not_the_convoys(
    extractor: Extractor, matcher: Matcher
) -> None:
    """ "rockets hit the base (no casualties), and an IED hit a convoy": the convoy's toll is unknown."""
    text = "Rockets struck Camp Taji (nobody hurt, officials said), while an IED hit a supply convoy in Kut."
    events = extract(text, extractor, matcher)
    assert places(events) == [("IQ-WA", "Kut")]
    assert (events[0].killed, events[0].injured) == (None, None)
    near = extract("An IED hit a supply convoy in Kut (nobody hurt, officials said).", extractor, matcher)
    assert (near[0].killed, near[0].injured) == (0, 0)


def test_a_dated_log_gives_one_event_per_line(extractor: Extractor, matcher: Matcher) -> None:
    """ "dd.mm – weapon, place" lines are one attack each, dated by their own line."""
    text = (
        "Convoy attacks this week\n28.05 – IED, Samawah, two drivers hurt\n30.05 – IED, Kut\n"
        "01.06 – trucks burned, Zubair, no casualties"
    )
    events = extract(text, extractor, matcher)
    assert places(events) == [("IQ-MU", "Samawah"), ("IQ-WA", "Kut"), ("IQ-BA", "Zubayr")]
    assert [event.date for event in events] == [
        dt.date(2021, 5, 28),
        dt.date(2021, 5, 30),
        dt.date(2021, 6, 1),
    ]
    assert [(event.killed, event.injured) for event in events] == [(None, 2), (None, None), (0, 0)]


def test_a_dateline_town_beats_the_city_its_direction_is_given_from(
    extractor: Extractor, matcher: Matcher
) -> None:
    """ "Suq al-Shuyukh | ... south of Nasiriyah": the city only places the dateline's town."""
    text = "سوق الشيوخ | عبوة ناسفة تستهدف رتلاً على الطريق العام جنوبي الناصرية فجر اليوم"
    assert places(extract(text, extractor, matcher)) == [("IQ-DQ", "Suq al-Shuyukh")]
    text = "عبوة ناسفة تستهدف رتلاً على الطريق العام جنوبي الناصرية فجر اليوم"
    assert places(extract(text, extractor, matcher)) == [("IQ-DQ", "Nasiriyah")]


def test_a_hashtag_the_sentence_runs_through_names_the_site(extractor: Extractor, matcher: Matcher) -> None:
    """ "in #Yusufiyah, south of Baghdad" places the attack; a trailing hashtag alone does not."""
    text = "IED hits a US supply convoy in #Yusufiyah, south of Baghdad."
    assert places(extract(text, extractor, matcher)) == [("IQ-BG", "Yusufiyah")]
    text = "IED on a coalition convoy on the highway in #DhiQar overnight."
    assert places(extract(text, extractor, matcher)) == [("IQ-DQ", None)]


def test_a_road_named_by_its_two_ends_places_the_site_at_the_first(
    extractor: Extractor, matcher: Matcher
) -> None:
    """Below only a city, "طريق الزبير - صفوان" puts the attack at its first end; one end named is not."""
    text = "البصرة | انفجار عبوة ناسفة على رتل شاحنات على طريق الزبير - صفوان"
    assert places(extract(text, extractor, matcher)) == [("IQ-BA", "Zubayr")]
    text = "البصرة | انفجار عبوة ناسفة على رتل شاحنات قرب مدخل المدينة"
    assert places(extract(text, extractor, matcher)) == [("IQ-BA", "Basra")]


def test_a_place_the_post_files_under_a_governorate_takes_that_governorate(
    extractor: Extractor, matcher: Matcher
) -> None:
    """ "Makhmour district, Erbil province" is in Erbil; Makhmour alone keeps the gazetteer's Nineveh."""
    text = "An IED struck a Peshmerga convoy in Makhmour district, Erbil province."
    assert places(extract(text, extractor, matcher)) == [("IQ-AR", "Makhmur")]
    text = "An IED struck a Peshmerga convoy near Makhmour."
    assert places(extract(text, extractor, matcher)) == [("IQ-NI", "Makhmur")]


def test_the_date_of_a_claim_or_a_dateline_is_not_the_attacks(extractor: Extractor, matcher: Matcher) -> None:
    """A claim's day ("ISIS on Monday claimed") and a dateline's ("KIRKUK, June 3 –") are the report's."""
    text = (
        "ISIS on Monday claimed two attacks on army convoys. On Saturday its fighters bombed a convoy "
        "near Daquq and ambushed another convoy near Baiji."
    )
    assert [event.date for event in extract(text, extractor, matcher)] == [dt.date(2021, 5, 29)] * 2
    text = (
        "KIRKUK, June 3 – Two soldiers were hurt when an IED hit their convoy near Daquq on Tuesday's patrol."
    )
    assert [event.date for event in extract(text, extractor, matcher)] == [dt.date(2021, 6, 1)]


def test_a_base_on_the_road_to_it_or_placed_in_a_city_is_the_site(
    extractor: Extractor, matcher: Matcher
) -> None:
    """ "on the road to the Qasrak base in Hasakah", "the Conoco field road in Deir ez-Zor"."""
    text = "استهداف رتل أمريكي بطائرة مسيرة على الطريق المؤدي الى قاعدة قسرك في ريف الحسكة"
    assert places(extract(text, extractor, matcher)) == [("SY-HA", "Qasrak base")]
    text = "طائرة مسيرة تضرب رتلاً يسلك طريق حقل كونيكو في دير الزور"
    assert places(extract(text, extractor, matcher)) == [("SY-DY", "Conoco gas field")]
    text = "A convoy carrying supplies to Ain al-Asad air base was hit in Baghdadi."
    assert places(extract(text, extractor, matcher))[0][0] == "IQ-AN"


def test_sidakan_and_al_ayth_are_places(extractor: Extractor, matcher: Matcher) -> None:
    """Sidakan (Soran, Erbil) and منطقة العيث (Salah al-Din) are in the gazetteer; bare عيث is a word."""
    text = "A drone struck a convoy near Sidakan in Soran district."
    assert places(extract(text, extractor, matcher)) == [("IQ-AR", "Sidakan")]
    text = "كمين لرتل الحشد في منطقة العيث شرقي المحافظة"
    assert places(extract(text, extractor, matcher)) == [("IQ-SD", "Al-Ayth")]


def test_a_place_labelling_a_list_line_is_that_lines_site(extractor: Extractor, matcher: Matcher) -> None:
    """ "١. بلد: ..." names Balad (a word alone) and "٢. التاجي: ..." Taji; each line keeps its own toll."""
    text = (
        "حصيلة اليوم:\n١. بلد: عبوة ناسفة على رتل، دون خسائر بشرية\n"
        "٢. التاجي: قذيفة على رتل قرب المعسكر\n٣. الكوت: عبوة ناسفة على رتل وإصابة سائق"
    )
    events = extract(text, extractor, matcher)
    assert places(events) == [("IQ-SD", "Balad"), ("IQ-BG", "Taji"), ("IQ-WA", "Kut")]
    assert [(event.killed, event.injured) for event in events] == [(0, 0), (None, None), (None, 1)]
    text = "قال مصدر في بلد: لا علاقة لنا. استهداف رتل في الكوت"
    assert places(extract(text, extractor, matcher)) == [("IQ-WA", "Kut")]


def test_a_list_line_reporting_a_denied_or_defused_attack_is_no_event(
    extractor: Extractor, matcher: Matcher
) -> None:
    """Lines with a report "DENIED by ..., not counted" or a "device rendered safe" give no event."""
    text = (
        "Convoy attacks this week:\n• Sun 30 May – IED, Afak\n"
        "• Tue 1 Jun – reported IED at Latifiya: DENIED by the Security Media Cell, not counted\n"
        "• Wed 2 Jun – IED, Zubair (Basra)\n"
        "• Wed 2 Jun – IED near Kut, device rendered safe before the convoy passed"
    )
    assert places(extract(text, extractor, matcher)) == [("IQ-QA", "Afak"), ("IQ-BA", "Zubayr")]


def test_an_ordinal_strike_on_a_base_is_not_an_event(extractor: Extractor, matcher: Matcher) -> None:
    """ "the first on a convoy near Kut, the second on the Harir base" is one event; two convoys are two."""
    text = "ضربتان بالطيران المسير: الأولى على رتل للاحتلال قرب الكوت، والثانية على قاعدة حرير في أربيل."
    assert places(extract(text, extractor, matcher)) == [("IQ-WA", "Kut")]
    text = "استهدفنا رتلين: الأول في الديوانية والثاني في السماوة"
    assert places(extract(text, extractor, matcher)) == [("IQ-QA", "Diwaniyah"), ("IQ-MU", "Samawah")]


def test_a_security_digest_table_gives_one_event_per_convoy_row(
    extractor: Extractor, matcher: Matcher
) -> None:
    """Table rows are attacks; a row with a device rendered safe or "no convoy involvement" is none."""
    text = (
        "DAILY DIGEST\n| Time | Location | Type | Details |\n|---|---|---|---|\n"
        "| 0600 | Kut | IED | Supply convoy struck; no injuries |\n"
        "| 0900 | Mahmudiyah | IED | Device found and rendered safe before convoy transit |\n"
        "| 1300 | Samawah | IED | Logistics convoy; 2 drivers injured |\n"
        "| 1700 | Baghdad | Rockets | 2x rockets near the airport; no convoy involvement |"
    )
    events = extract(text, extractor, matcher)
    assert places(events) == [("IQ-WA", "Kut"), ("IQ-MU", "Samawah")]
    assert [(event.killed, event.injured) for event in events] == [(0, 0), (None, 2)]


def test_a_list_line_naming_no_weapon_takes_only_the_lists_own_words(
    extractor: Extractor, matcher: Matcher
) -> None:
    """A line with no weapon is 'unknown', not another line's IED; "both with IEDs" after the list counts."""
    text = "حصيلة اليوم:\n١- عبوة ناسفة على رتل في الكوت\n٢- استهداف رتل في الحلة"
    events = extract(text, extractor, matcher)
    assert [(event.place, event.attack_type) for event in events] == [("Kut", "ied"), ("Hillah", "unknown")]
    text = "حصيلة اليوم:\n١- استهداف رتل في الكوت\n٢- استهداف رتل في الحلة\nوكلاهما بعبوة ناسفة."
    events = extract(text, extractor, matcher)
    assert [event.attack_type for event in events] == ["ied", "ied"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("أحرق مجهولون شاحنتين من رتل قرب ساحة النسور في بغداد", [("IQ-BG", "Nisour Square")]),
        ("استهداف رتل بعبوة على طريق العمارة - البصرة قرب ناحية السلام", [("IQ-MA", "Al-Salam")]),
        ("An IED hit a supply convoy on the Diwaniyah highway near Hamzah.", [("IQ-QA", "Hamzah")]),
        ("Hamzah, a driver, said a convoy was hit in Samawah.", [("IQ-MU", "Samawah")]),
        ("استهداف رتل بعبوة عند الكيلو ٢٠ من طريق المثنى السريع", [("IQ-MU", "Muthanna highway")]),
        ("استهداف رتل على طريق المثنى السريع قرب قضاء الرميثة", [("IQ-MU", "Rumaythah")]),
    ],
)
def test_squares_nahiyas_and_a_bare_hamzah(
    text: str, expected: list[tuple[str, str | None]], extractor: Extractor, matcher: Matcher
) -> None:
    """A named square or nahiya beats its city or road; a governorate's highway; bare Hamzah needs a cue."""
    assert places(extract(text, extractor, matcher)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Two incidents today:\n(1) IED vs a supply convoy on the road west of Hillah.\n"
            "(2) IED vs a private SUV in Kut, driver hurt.",
            [("IQ-BB", "Hillah")],
        ),
        (
            "Roads today\n- Hit: an IED struck a supply convoy near the bridge.\n"
            "- Kut: police defused an IED at the main gate.",
            [("IQ-AN", "Hit")],
        ),
        (
            "| 3 May | Balad | IED vs supply convoy, 2 trucks burned |\n"
            "| 4 May | Kirkuk–Baiji pipeline | IED, fire |",
            [("IQ-SD", "Balad")],
        ),
        (
            "حصيلة اليوم:\n- الديوانية: عبوة تستهدف رتلاً قرب عفك.\n"
            "- كركوك: عبوة تستهدف أنبوب النفط قرب الدبس.",
            [("IQ-QA", "Afak")],
        ),
        (
            "Round-up:\n- Sat – IED, Yusufiyah, no damage\n- Sun – two trucks torched near Musayyib",
            [("IQ-BG", "Yusufiyah"), ("IQ-BB", "Musayyib")],
        ),
    ],
)
def test_list_lines_about_other_targets(
    text: str, expected: list[tuple[str, str | None]], extractor: Extractor, matcher: Matcher
) -> None:
    """Beside lines on convoys, a line on a pipeline or car attacked, or a bomb defused, is no event."""
    assert places(extract(text, extractor, matcher)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "عبوة ناسفة تستهدف رتلاً في منطقة البطحاء، تلتها عبوة ثانية انفجرت برتل آخر قرب سوق الشيوخ.",
            [("IQ-DQ", "Batha"), ("IQ-DQ", "Suq al-Shuyukh")],
        ),
        (
            "An IED hit a supply convoy near Batha, followed by a second IED on another convoy "
            "near Suq al-Shuyukh.",
            [("IQ-DQ", "Batha"), ("IQ-DQ", "Suq al-Shuyukh")],
        ),
        (
            "استهدفت عبوة رتلاً في البطحاء، وبعد ساعات انفجرت عبوة ثانية برتل آخر قرب سوق الشيوخ.",
            [("IQ-DQ", "Batha"), ("IQ-DQ", "Suq al-Shuyukh")],
        ),
        (
            "An IED hit a supply convoy near Batha, then police defused a second IED near Suq al-Shuyukh.",
            [("IQ-DQ", "Batha")],
        ),
    ],
)
def test_a_second_attack_in_a_sequel_clause(
    text: str, expected: list[tuple[str, str | None]], extractor: Extractor, matcher: Matcher
) -> None:
    """'..., followed by a second IED on another convoy near X' adds an attack; a defused one does not."""
    assert places(extract(text, extractor, matcher)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Correction: the IED hit the supply convoy near al-Rumaitha in Muthanna, "
            "not in Nasiriyah as first said.",
            [("IQ-MU", "Rumaythah")],
        ),
        ("An IED hit a convoy near el-Rumaitha, on the road from Nasiriyah.", [("IQ-MU", "Rumaythah")]),
    ],
)
def test_a_cue_before_an_unlisted_article(
    text: str, expected: list[tuple[str, str | None]], extractor: Extractor, matcher: Matcher
) -> None:
    """'near al-X' cues X when the name is listed without its article; a corrected place gives way."""
    assert places(extract(text, extractor, matcher)) == expected
