"""Claimant groups: loading the groups file, who claimed an attack, the most specific group."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.extract.actors import Groups, find_claims, load_groups
from bot.rules.matcher import Matcher
from bot.rules.text import tokenise

GROUPS_FILE = Path("config/groups.yaml")


@pytest.fixture(scope="module")
def groups() -> Groups:
    return load_groups(GROUPS_FILE)


@pytest.fixture(scope="module")
def matcher(groups: Groups) -> Matcher:
    return Matcher(groups.entries)


def claimed(text: str, groups: Groups, matcher: Matcher) -> list[str]:
    doc = tokenise(text)
    return list(dict.fromkeys(claim.group for claim in find_claims(doc, matcher.scan(doc), groups)))


def test_guidelines_canonical_names_are_the_groups(groups: Groups) -> None:
    """Every canonical claimant name of GUIDELINES.md is a group, spelled the same."""
    assert set(groups.groups) == {
        "Ashab al-Kahf",
        "Qasim al-Jabbarin",
        "Saraya Awliya al-Dam",
        "Islamic Resistance in Iraq",
        "Saraya Thawrat al-Ishreen al-Thaniya",
        "Usbat al-Tha'ireen",
        "Rab'allah",
        "Kataib Hezbollah",
        "Islamic State",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Osbat al-Thaereen claims it bombed a US logistics convoy", ["Usbat al-Tha'ireen"]),
        ("Saraya Awliyaa al-Damm claims an IED attack on a convoy", ["Saraya Awliya al-Dam"]),
        ("ISIS claims (via Amaq) an IED attack on an SDF convoy", ["Islamic State"]),
        ("تنظيم داعش الإرهابي يتبنى عبر وكالة أعماق تفجير عبوة", ["Islamic State"]),
        ("تعلن سرايا ثورة العشرين الثانية عن استهداف رتل", ["Saraya Thawrat al-Ishreen al-Thaniya"]),
        ("استهدف أبطال قاصم الجبارين رتلاً", ["Qasim al-Jabbarin"]),
        ("بيان جديد لـ أصحاب الكهف: استهداف رتل", ["Ashab al-Kahf"]),
        ("استهداف رتل بعبوة ناسفة.\nسرايا أولياء الدم", ["Saraya Awliya al-Dam"]),
    ],
)
def test_claims_are_found(text: str, expected: list[str], groups: Groups, matcher: Matcher) -> None:
    """Claim words, the group as the actor of its statement, or its signature line make a claim."""
    assert claimed(text, groups, matcher) == expected


@pytest.mark.parametrize(
    "text",
    [
        "ISIS militants ambushed a police convoy. No group has claimed the attack so far.",
        "a Kataib Hezbollah-affiliated account praised the operation but stopped short of claiming it",
        "رجّح مصدر أمني أن تكون خلايا داعش وراء الهجوم",
        "استهداف رتل للاحتلال بعبوة ناسفة #أصحاب_الكهف",
        "Who are Ashab al-Kahf? An explainer on the groups.",
    ],
)
def test_mentions_that_are_not_claims(text: str, groups: Groups, matcher: Matcher) -> None:
    """Denials, suspicions, praise, hashtags and explainers do not make a group the claimant."""
    assert claimed(text, groups, matcher) == []


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["Islamic Resistance in Iraq", "Ashab al-Kahf"], "Ashab al-Kahf"),
        (["Ashab al-Kahf", "Islamic Resistance in Iraq"], "Ashab al-Kahf"),
        (["Islamic Resistance in Iraq"], "Islamic Resistance in Iraq"),
        (["Kataib Hezbollah", "Islamic Resistance in Iraq"], "Kataib Hezbollah"),
    ],
)
def test_the_most_specific_group_wins(names: list[str], expected: str, groups: Groups) -> None:
    """An umbrella gives way to the group named with it."""
    assert groups.most_specific(names) == expected


def test_umbrella_and_group_in_one_claim(groups: Groups, matcher: Matcher) -> None:
    """ "The Islamic Resistance in Iraq – Ashab al-Kahf claimed ..." is Ashab al-Kahf."""
    names = claimed("The Islamic Resistance in Iraq – 'Ashab al-Kahf claimed responsibility", groups, matcher)
    assert groups.most_specific(names) == "Ashab al-Kahf"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("groups: [", "not valid YAML"),
        ("- a\n- b\n", "'groups' list"),
        ("groups:\n  - variants: [x]\n", "needs a 'name'"),
        ("groups:\n  - name: A\n    parent: B\n    variants: [a]\n", "unknown parent"),
        ("groups:\n  - name: A\n    variants: [x]\n  - name: B\n    variants: [X]\n", "also a variant of A"),
        ("groups:\n  - name: A\n    variants: x\n", "must be a list"),
    ],
)
def test_bad_groups_files_are_config_errors(tmp_path: Path, content: str, message: str) -> None:
    """A broken groups file is one ConfigError naming the file."""
    path = tmp_path / "groups.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        load_groups(path)
    assert caught.value.file == str(path)
