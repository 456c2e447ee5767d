"""The two canonical seed articles come out exactly as issue 4 says (3 and 5 events)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from bot.analysis import Analyser
from bot.extract.events import Extractor, load_extractor
from bot.model import Classification, Event, Post
from bot.rules.engine import load_ruleset
from bot.rules.matcher import Matcher
from bot.rules.text import tokenise

SEEDS = Path("tests/data/seeds")
# The seeds are dev-0001 and dev-0002 of the shared dev corpus, with these post dates.
SEED_POSTS = {
    "000_68f84e8286bcf96b.txt": dt.datetime(2022, 1, 24, 8, 30, tzinfo=dt.UTC),
    "001_98311ac7f0708149.txt": dt.datetime(2021, 1, 23, 10, 5, tzinfo=dt.UTC),
}
LABELS = {"attack_type": "ied", "target": "us_coalition"}


@pytest.fixture(scope="module")
def extractor() -> Extractor:
    return load_extractor(Path("config/gazetteer"), Path("config/groups.yaml"))


def events_of(name: str, extractor: Extractor) -> tuple[Event, ...]:
    text = (SEEDS / name).read_text(encoding="utf-8")
    post = Post(channel="seed", message_id=1, date=SEED_POSTS[name], text=text)
    doc = tokenise(text)
    hits = Matcher(extractor.entries).scan(doc)
    return extractor.extract(post, doc, hits, Classification(True, 1.0, (), LABELS))


def summary(events: tuple[Event, ...]) -> list[tuple[str, str | None, str | None, str | None, int | None]]:
    return [(e.date.isoformat(), e.admin1, e.place, e.claimed_by, e.injured) for e in events]


def test_the_23_january_article_is_three_events(extractor: Extractor) -> None:
    """Diwaniyah (Al-Qadisiyyah), Samawah (Al-Muthanna), Jableh (Babil) claimed by Ashab al-Kahf."""
    events = events_of("000_68f84e8286bcf96b.txt", extractor)
    assert summary(events) == [
        ("2022-01-23", "IQ-QA", "Diwaniyah", None, None),
        ("2022-01-23", "IQ-MU", "Samawah", None, None),
        ("2022-01-23", "IQ-BB", "Jableh", "Ashab al-Kahf", None),
    ]
    assert {event.country for event in events} == {"IQ"}
    assert all(event.killed is None for event in events)


def test_the_22_january_post_is_five_events(extractor: Extractor) -> None:
    """Nasiriyah, Babil, Diwaniyah, Babil, Abu Ghraib: all on 22 January, all Ashab al-Kahf."""
    events = events_of("001_98311ac7f0708149.txt", extractor)
    assert summary(events) == [
        ("2021-01-22", "IQ-DQ", "Nasiriyah", "Ashab al-Kahf", 4),
        ("2021-01-22", "IQ-BB", None, "Ashab al-Kahf", None),
        ("2021-01-22", "IQ-QA", "Diwaniyah", "Ashab al-Kahf", None),
        ("2021-01-22", "IQ-BB", None, "Ashab al-Kahf", None),
        ("2021-01-22", "IQ-BG", "Abu Ghraib", "Ashab al-Kahf", None),
    ]
    assert all(event.killed is None for event in events)


def test_the_seeds_through_the_whole_analyser(extractor: Extractor) -> None:
    """With the real rules: both seeds are relevant, 3 + 5 IED events against the coalition."""
    analyser = Analyser.build(load_ruleset(Path("config/rules")), extractor)
    counts = []
    for name, posted in SEED_POSTS.items():
        text = (SEEDS / name).read_text(encoding="utf-8")
        analysis = analyser.analyse(Post(channel="seed", message_id=1, date=posted, text=text))
        assert analysis.relevant
        assert {(e.attack_type, e.target) for e in analysis.events} == {("ied", "us_coalition")}
        counts.append(len(analysis.events))
    assert counts == [3, 5]
