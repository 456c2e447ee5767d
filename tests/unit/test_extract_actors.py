"""Claimant groups: loading the groups file, who claimed an attack, the most specific group."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.extract.actors import Groups, find_claims, load_groups, transliterated_hits
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
        ("بيان\nسرية قاسم الجبارين\nاستهداف رتل قرب الديوانية", ["Qasim al-Jabbarin"]),
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


def claimed_any_spelling(text: str, groups: Groups, matcher: Matcher) -> list[str]:
    doc = tokenise(text)
    hits = matcher.scan(doc)
    hits = [*hits, *transliterated_hits(doc, hits, groups)]
    return list(dict.fromkeys(claim.group for claim in find_claims(doc, hits, groups)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # spellings the groups file does not list: vowels, doubled letters, q/k, final h
        ("Qassem al-Jabareen claims an IED on a coalition convoy", ["Qasim al-Jabbarin"]),
        (
            "Saraya Thawrat al-Eshreen al-Thaniyah claimed the attack",
            ["Saraya Thawrat al-Ishreen al-Thaniya"],
        ),
        ("Usbat al-Thaereen claimed responsibility", ["Usbat al-Tha'ireen"]),
        ("Kata'eb Hizbollah claimed a rocket attack on a convoy", ["Kataib Hezbollah"]),
        # the group speaking of its own attack
        ("Kataib Hezbollah says its fighters hit a US convoy with a drone", ["Kataib Hezbollah"]),
        ("Ashab al-Kahf said it targeted a logistics convoy near Samawah", ["Ashab al-Kahf"]),
        ("Rab'allah posts footage of trucks burning near Yusufiyah", ["Rab'allah"]),
        ("Ashab al-Kahf video shows an IED hitting a convoy", ["Ashab al-Kahf"]),
        # the group as the heading of its statement
        (
            "المقاومة الإسلامية في العراق - أصحاب الكهف: استهداف رتل للاحتلال بعبوة ناسفة",
            ["Islamic Resistance in Iraq", "Ashab al-Kahf"],
        ),
    ],
)
def test_claims_with_unlisted_spellings_and_own_words(
    text: str, expected: list[str], groups: Groups, matcher: Matcher
) -> None:
    """Transliteration variants match by consonant skeleton; 'X says its fighters ...' is a claim."""
    assert claimed_any_spelling(text, groups, matcher) == expected


@pytest.mark.parametrize(
    "text",
    [
        "A source said Kataib Hezbollah was probably behind the attack on the convoy.",
        "Analysts say Qassem al-Jabareen is a front name.",
        "Kataib Hezbollah says US forces must leave Iraq.",
        "Police said the bombing resembled earlier attacks.",
        "Analysts on Ashab al-Kahf and its rivals: who attacks the convoys?",
    ],
)
def test_speech_about_a_group_is_not_its_claim(text: str, groups: Groups, matcher: Matcher) -> None:
    """Others speaking about a group, or the group speaking of something else, is no claim."""
    assert claimed_any_spelling(text, groups, matcher) == []


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


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Footage released today by Rab'allah's media wing shows an IED hitting a convoy.", ["Rab'allah"]),
        ("A new video published by Kataib Hezbollah shows the attack on a convoy.", ["Kataib Hezbollah"]),
        (
            "Saraya Thawrat al-Ishreen al-Thani says it detonated a bomb against a coalition convoy.",
            ["Saraya Thawrat al-Ishreen al-Thaniya"],
        ),
        ("كمين نصبه عناصر من داعش لرتل للحشد، بحسب قيادة عمليات صلاح الدين", []),
        ("Police say ISIS fighters ambushed the convoy, according to the operations command.", []),
    ],
)
def test_publishers_claim_and_operations_commands_do_not(
    text: str, expected: list[str], groups: Groups, matcher: Matcher
) -> None:
    """A group's own media releasing the footage claims; "قيادة عمليات" near a group's name does not."""
    assert claimed(text, groups, matcher) == expected


def test_the_masculine_thani_spelling_is_found_by_its_skeleton(groups: Groups, matcher: Matcher) -> None:
    """ "Thawrat al-Eshreen al-Thani" (not listed) matches a listed "al-Ishreen al-Thani" by consonants."""
    doc = tokenise("Saraya Thawrat al-Eshreen al-Thani says it detonated a bomb against a convoy.")
    hits = transliterated_hits(doc, matcher.scan(doc), groups)
    assert [hit.concept for hit in hits] == ["group:Saraya Thawrat al-Ishreen al-Thaniya"]


def test_the_islamic_states_iraq_province_in_english_is_the_islamic_state(
    groups: Groups, matcher: Matcher
) -> None:
    """ "IS (Wilayat Iraq) claims ..." is an Islamic State claim."""
    text = "IS (Wilayat Iraq) claims an ambush on an army convoy near Tarmiyah."
    assert claimed(text, groups, matcher) == ["Islamic State"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Statement of Saraya Awlia al-Dam: our fighters hit a supply convoy", ["Saraya Awliya al-Dam"]),
        ("ها هم أبطال أصحاب الكهف يواصلون، فقد استهدف مجاهدونا رتلاً للاحتلال", ["Ashab al-Kahf"]),
        ("استهدف مجاهدونا رتلاً للاحتلال بعبوة ناسفة، والله قاصم الجبارين.", []),
        ("استهدف أبطالنا رتلاً للاحتلال، إن الله قاصم الجبارين", []),
    ],
)
def test_first_person_claims_and_epithets_of_god(
    text: str, expected: list[str], groups: Groups, matcher: Matcher
) -> None:
    """'our mujahideen' claims for the group named near it; 'God, breaker of tyrants' names no group."""
    assert claimed(text, groups, matcher) == expected


@pytest.mark.parametrize(
    ("text", "concept"),
    [
        ("Saraya Awlea al-Damm claims an IED on a convoy.", "group:Saraya Awliya al-Dam"),
        ("Thawrat al-Ishrin al-Thania claims the attack.", "group:Saraya Thawrat al-Ishreen al-Thaniya"),
    ],
)
def test_an_iy_before_a_vowel_is_spelled_either_way(
    text: str, concept: str, groups: Groups, matcher: Matcher
) -> None:
    """ "Awlia"/"Awliya" and "Thania"/"Thaniya" share a skeleton: a y after i before a vowel may go."""
    doc = tokenise(text)
    hits = transliterated_hits(doc, matcher.scan(doc), groups)
    assert [hit.concept for hit in hits] == [concept]
