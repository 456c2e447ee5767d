"""Events out of whole posts: places with ambiguity rules, several attacks per post, shared details."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.extract.events import Extractor, load_extractor
from bot.model import Classification, Event, Post
from bot.rules.matcher import Hit, Matcher
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
