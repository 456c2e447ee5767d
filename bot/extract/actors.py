"""Claimant groups: their spellings (config/groups.yaml) and who a post says claimed an attack.

A group named in a post is the claimant only when the post says it claimed the attack:
a claim word near it ("claimed", "claims", "statement", تبنى، تعلن، بيان، مسؤولية), the
group as the actor of its own statement ("مجاهدو أصحاب الكهف", "أبطال قاصم الجبارين"),
or its name alone on a line (the signature of a statement, also as the hashtags of a post's
last line: "#أصحاب_الكهف", unless the text speaks of the group without a claim), a heading
by its news agency ("Amaq Agency: ..."), or the group blessing its own fighters ("تبارك ...
لأبطالها"). "No group has claimed", "stopped short of
claiming", a suspicion ("ISIS cells are believed to be behind it"), blame ("تحمّل خلايا داعش
مسؤولية الهجوم", "officials blamed ISIS") and hashtags inside the text are not claims.
When a post names an umbrella and one of its groups ("The Islamic Resistance in Iraq – Ashab
al-Kahf"), the most specific group wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.errors import ConfigError
from bot.extract.spans import (
    Overlaps,
    between,
    line_end,
    line_start,
    next_at,
    strictly_inside,
    whitespace_offsets,
    word_start,
)
from bot.rules.matcher import Hit, TermEntry
from bot.rules.text import Document, normalise

GROUP_PREFIX = "group:"

_CLAIM_WORDS = frozenset(
    normalise(word)
    for word in (
        "claim",
        "claims",
        "claimed",
        "claiming",
        "responsibility",
        "statement",
        "announced",
        "announces",
        "announce",
        "تبنى",
        "تبنت",
        "يتبنى",
        "تتبنى",
        "تبني",
        "وتبنت",
        "وتبنى",
        "أعلن",
        "أعلنت",
        "تعلن",
        "يعلن",
        "وأعلنت",
        "بيان",
        "بيانا",
        "ببيان",
        "البيان",
        "مسؤولية",
        "مسؤوليتها",
        "مسؤوليته",
        "المسؤولية",
        "مجاهدو",
        "مجاهدي",
        "مجاهدونا",
        "مجاهدينا",
        "أبطالنا",
        "أبطال",
        # "the mujahideen of Saraya Awliya al-Dam struck ...": a translated statement's own words
        "mujahideen",
        "mujahidin",
        "mujahedeen",
        "mujahedin",
        "نفذ",
        "نفذت",
        "تمكن",
        "تمكنت",
        "عمليات",
    )
)
_NEGATIONS = frozenset(
    normalise(word)
    for word in (
        "no",
        "not",
        "nobody",
        "never",
        "yet",
        "without",
        "short",
        "denied",
        "denies",
        "deny",
        "لم",
        "لا",
        "ولم",
        "ولا",
        "دون",
        "بدون",
        "نفى",
        "نفت",
        "ينفي",
        "تنفي",
    )
)
#: A note in brackets ("(translated)", "[statement]") beside a heading's group name.
_BRACKETED = re.compile(r"\([^()\n]{0,40}\)|\[[^\[\]\n]{0,40}\]")
#: How many tokens apart a claim word and a group name may be in one sentence.
CLAIM_WINDOW = 30
#: "Kataib Hezbollah says its fighters hit ...", "X said it targeted ...": the group speaks of its attack.
_SAY = frozenset(normalise(word) for word in ("says", "said", "say", "saying", "تقول", "قالت", "يقول", "قال"))
_SELF = frozenset(
    normalise(word) for word in ("it", "its", "they", "their", "إنها", "انها", "إنه", "انه", "ان")
)
#: "Osbat al-Thaireen posts footage ...": the group publishes its own attack.
_PUBLISH = frozenset(
    normalise(word)
    for word in (
        "posts",
        "posted",
        "publishes",
        "published",
        "releases",
        "released",
        "shares",
        "shared",
        "airs",
        "aired",
        "تنشر",
        "نشرت",
        "ينشر",
        "نشر",
        "بثت",
        "تبث",
    )
)
_FOOTAGE = frozenset(
    normalise(word)
    for word in ("footage", "video", "clip", "images", "مقطع", "مقطعا", "فيديو", "مشاهد", "صور", "تسجيلا")
)
#: "X's media wing", "the group's media office": the group publishing its own attack.
_MEDIA = frozenset(normalise(word) for word in ("media", "propaganda", "الإعلام", "اعلام", "الإعلامي"))
_BY = frozenset(normalise(word) for word in ("by", "from"))
#: "لأبطالها", "مجاهديها", "his heroes": the group's own fighters, blessed or sent (a claim); words of
#: praise only the group uses for its men, so an authority's "its forces" is not one.
_OWN_FIGHTERS = re.compile(r"^[وف]?ل?(?:ابطال|مجاهدي|مجاهدو)(?:ها|نا)$")
_OWN = frozenset(("its", "their", "his"))
_OWN_FIGHTER_NOUNS = frozenset(("heroes", "mujahideen", "mujahidin", "mujahedeen", "lions"))
#: "تحمّل خلايا داعش مسؤولية الهجوم" (holds ISIS responsible): "حمّل" is also "carry" ("رتل يحمل
#: معدات"), so it blames only with a responsibility word right after the group.
_HOLD = frozenset(
    normalise(word)
    for word in (
        "تحمل",
        "يحمل",
        "حمل",
        "حملت",
        "وحملت",
        "وحمل",
        "وتحمل",
        "ويحمل",
        "تحميل",
        "held",
        "holds",
        "hold",
    )
)
_RESPONSIBLE = frozenset(
    normalise(word) for word in ("مسؤولية", "المسؤولية", "مسؤوليه", "responsible", "responsibility")
)
#: "officials blamed ISIS", "اتهمت داعش", "ISIS was blamed": blame, not a claim.
_BLAME = frozenset(
    normalise(word)
    for word in (
        "blamed",
        "blames",
        "blame",
        "blaming",
        "accused",
        "accuses",
        "accusing",
        "اتهم",
        "اتهمت",
        "تتهم",
        "يتهم",
        "واتهمت",
        "واتهم",
        "متهمة",
        "متهما",
    )
)
#: How many tokens before (or after) a group a blaming word may stand.
BLAME_REACH = 6
#: "Amaq Agency:", "وكالة أعماق:": words of a news agency's heading besides its name.
_AGENCY_WORDS = frozenset(normalise(word) for word in ("agency", "news", "وكالة", "لوكالة", "الإخبارية"))
#: "Amaq said fighters ...", "أفادت وكالة أعماق": the agency reporting the group's attack.
_AGENCY_REPORTS = frozenset(
    normalise(word)
    for word in ("said", "says", "reported", "reports", "published", "قالت", "أفادت", "ذكرت", "نشرت", "بثت")
)
#: "قيادة عمليات صلاح الدين" (an operations command) is not the group's "operations".
_COMMAND = frozenset(normalise(word) for word in ("قيادة", "وقيادة", "لقيادة", "بقيادة"))
#: "والله قاصم الجبارين" (God, breaker of tyrants): an epithet of God, not the group.
_GOD = frozenset(normalise(word) for word in ("الله", "والله", "فالله", "لله", "allah", "god"))
#: Transliteration noise a Latin group spelling may carry: the article and vowels come and go.
_ARTICLES = frozenset(("al", "el", "ul", "il"))
#: A Latin spelling is matched by its consonant skeleton only when the skeleton is this long.
MIN_SKELETON = 6
#: The most tokens a transliterated group name spans ("Saraya Thawrat al Ishreen al Thaniya").
MAX_NAME_TOKENS = 7


@dataclass(frozen=True, slots=True)
class Group:
    """A claimant group: canonical name, the umbrella it belongs to, its spellings."""

    name: str
    parent: str | None = None
    umbrella: bool = False
    variants: tuple[str, ...] = ()
    #: Its news agency's names ("Amaq"), normalised: a report by the agency is the group's claim.
    agencies: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Groups:
    """Every group by canonical name and the matcher terms that find them."""

    groups: Mapping[str, Group]
    entries: tuple[TermEntry, ...]
    #: Consonant skeletons of the Latin spellings, for transliterations not listed.
    skeletons: Mapping[str, str] = field(default_factory=dict)

    def group(self, concept: str) -> Group | None:
        """The group a matcher concept names, or None for another kind of concept."""
        if not concept.startswith(GROUP_PREFIX):
            return None
        return self.groups.get(concept[len(GROUP_PREFIX) :])

    def ancestors(self, name: str) -> set[str]:
        """The umbrellas above a group."""
        found: set[str] = set()
        current = self.groups.get(name)
        while current is not None and current.parent and current.parent not in found:
            found.add(current.parent)
            current = self.groups.get(current.parent)
        return found

    def most_specific(self, names: Sequence[str]) -> str | None:
        """The most specific of the named groups (the first such, in order); None if none."""
        covered: set[str] = set()
        for name in names:
            covered |= self.ancestors(name)
        for name in names:
            if name not in covered and not self.groups[name].umbrella:
                return name
        for name in names:
            if name not in covered:
                return name
        return names[0] if names else None


def load_groups(path: Path) -> Groups:
    """Read config/groups.yaml; raise ConfigError (with the file) on bad data."""
    file = str(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"cannot read groups file: {error.strerror}", file=file) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(
            f"not valid YAML: {getattr(error, 'problem', error)}", file=file, line=line
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("groups"), list):
        raise ConfigError("expected a mapping with a 'groups' list", file=file)
    groups: dict[str, Group] = {}
    entries: list[TermEntry] = []
    seen_terms: dict[str, str] = {}
    for number, item in enumerate(data["groups"], 1):
        where = f"group #{number}"
        if not isinstance(item, dict) or not isinstance(item.get("name"), str) or not item["name"].strip():
            raise ConfigError(f"{where}: needs a 'name'", file=file)
        name = item["name"].strip()
        variants = item.get("variants", [])
        agency = item.get("agency", [])
        parent = item.get("parent")
        if not isinstance(variants, list) or not all(isinstance(v, str) and v.strip() for v in variants):
            raise ConfigError(f"{name}: 'variants' must be a list of names", file=file)
        if not isinstance(agency, list) or not all(isinstance(v, str) and v.strip() for v in agency):
            raise ConfigError(f"{name}: 'agency' must be a list of names", file=file)
        if parent is not None and not isinstance(parent, str):
            raise ConfigError(f"{name}: 'parent' must be a group name", file=file)
        if name in groups:
            raise ConfigError(f"{name}: listed twice", file=file)
        listed = list(dict.fromkeys([name, *variants, *agency]))
        for term in listed:
            key = normalise(term)
            if seen_terms.get(key, name) != name:
                raise ConfigError(f"{name}: {term!r} is also a variant of {seen_terms[key]}", file=file)
            seen_terms[key] = name
        # "عصبة الثائرون": the nominative of a name the file lists in the genitive
        cases = [case for term in listed for case in _nominative(term) if normalise(case) not in seen_terms]
        for case in cases:
            seen_terms[normalise(case)] = name
        spellings = tuple(dict.fromkeys([*listed, *cases]))
        agencies = frozenset(normalise(term) for term in agency)
        groups[name] = Group(name, parent, bool(item.get("umbrella", False)), spellings, agencies)
        for term in spellings:
            entries.append(TermEntry(GROUP_PREFIX + name, term, exact=False, origin=f"{file}:{where}"))
    for group in groups.values():
        if group.parent is not None and group.parent not in groups:
            raise ConfigError(f"{group.name}: unknown parent {group.parent!r}", file=file)
    return Groups(groups, tuple(entries), _skeletons(groups))


#: A name ending in a definite sound masculine plural in the genitive ("الثائرين", "الجبارين").
_GENITIVE_PLURAL = re.compile(r"(?<=\s)(ال[\u0621-\u064a]{2,})ين$")


def _nominative(term: str) -> list[str]:
    """ "عصبة الثائرون" for "عصبة الثائرين": the same name with its plural in the nominative,
    as a subject ("عصبة الثائرون تعلن"); [] for a name without such a plural."""
    if not any("\u0621" <= char <= "\u064a" for char in term):
        return []
    nominative = _GENITIVE_PLURAL.sub(r"\1ون", term)
    return [nominative] if nominative != term else []


def _consonants(word: str) -> str:
    """One word's share of a skeleton: its consonants (q as k, no final "ah" h); "" for an article."""
    if word in _ARTICLES:
        return ""
    spelled = re.sub(r"iy(?=[aeiou])", "i", word.replace("q", "k"))  # Awliya / Awlia, Thaniya / Thania
    if len(spelled) > 2 and spelled.endswith("h") and spelled[-2] in "aeiou":
        spelled = spelled[:-1]  # Thaniyah / Thaniya
    return "".join(char for char in spelled if char.isascii() and char.isalpha() and char not in "aeiou")


def _collapse(text: str) -> str:
    return "".join(char for index, char in enumerate(text) if index == 0 or char != text[index - 1])


def _join_collapsed(head: str, tail: str) -> str:
    """``_collapse(a + b)`` from ``_collapse(a)`` and ``_collapse(b)``: a run across the join is one."""
    return head + tail[1:] if head and tail and head[-1] == tail[0] else head + tail


def _skeleton(words: Sequence[str]) -> str:
    """The consonants of a Latin name without articles: Osbat al-Thaireen and Usbat al-Tha'ireen agree."""
    return _collapse("".join(_consonants(word) for word in words))


def _content_words(words: Sequence[str]) -> int:
    return sum(1 for word in words if word not in _ARTICLES)


def _skeletons(groups: Mapping[str, Group]) -> dict[str, str]:
    """Skeleton of every Latin spelling with two or more words -> its group."""
    table: dict[str, str] = {}
    for group in groups.values():
        for spelling in group.variants:
            words = [word for word in re.split(r"[^a-z0-9]+", spelling.casefold()) if word]
            if not words or any(not word.isascii() for word in words) or _content_words(words) < 2:
                continue
            skeleton = _skeleton(words)
            if len(skeleton) >= MIN_SKELETON:
                table.setdefault(skeleton, group.name)
    return table


def transliterated_hits(doc: Document, hits: Sequence[Hit], groups: Groups) -> list[Hit]:
    """Group names spelled in a way the groups file does not list ("Qassem al-Jabbareen")."""
    table = groups.skeletons
    if not table:
        return []
    longest = max(len(skeleton) for skeleton in table)
    tokens = doc.tokens
    skeletons: dict[str, str | None] = {}  # per distinct word
    for token in tokens:
        if token.norm not in skeletons:
            part = _consonants(token.norm) if token.norm.isascii() else None
            skeletons[token.norm] = _collapse(part) if part else part
    # the skeleton of a run of words, extended word by word: a run of one letter across the
    # join of two words collapses too
    collapsed = [skeletons[token.norm] for token in tokens]
    known = Overlaps((hit.start, hit.end) for hit in hits if hit.concept.startswith(GROUP_PREFIX))
    found: list[Hit] = []
    index = 0
    while index < len(tokens):
        match: Hit | None = None
        if collapsed[index] and tokens[index].norm not in _ARTICLES:
            candidates: list[tuple[int, str]] = []
            skeleton = ""
            for last in range(index, min(len(tokens), index + MAX_NAME_TOKENS)):
                piece = collapsed[last]
                if piece is None or tokens[last].sentence != tokens[index].sentence:
                    break
                skeleton = _join_collapsed(skeleton, piece)
                if len(skeleton) > longest:
                    break
                candidates.append((last, skeleton))
            for last, skeleton in reversed(candidates):
                group = table.get(skeleton)
                if group is None:
                    continue  # nearly always: look the skeleton up before anything else
                window = tokens[index : last + 1]
                words = [token.norm for token in window]
                if words[-1] in _ARTICLES or _content_words(words) < 2:
                    continue
                start, end = window[0].start, window[-1].end
                if known.hit(start, end):
                    continue
                match = Hit(GROUP_PREFIX + group, doc.text[start:end], index, last, start, end)
                break
        if match is not None:
            found.append(match)
            index = match.last + 1
        else:
            index += 1
    return found


def _speaks_of_itself(tokens: Sequence[Any], last: int, first: int | None = None) -> bool:
    """ "X says its fighters hit", "X said it targeted", "X posts footage of", "footage released
    by X's media wing": the group as the actor."""
    sentence = tokens[last].sentence
    ahead = [t.norm for t in tokens[last + 1 : last + 5] if t.sentence == sentence]
    if ahead and ahead[0] in _FOOTAGE:
        return True  # "Ashab al-Kahf video shows ..."
    if set(ahead[:3]) & _MEDIA:
        return True  # "Ashab al-Kahf's media wing", "الإعلام الحربي لـ..."
    if first is not None and first > 0 and tokens[first - 1].norm in _BY:
        behind = {t.norm for t in tokens[max(0, first - 7) : first - 1] if t.sentence == sentence}
        if behind & (_FOOTAGE | _PUBLISH):
            return True  # "new footage released today by X"
    for position, word in enumerate(ahead):
        if word in _SAY and set(ahead[position + 1 : position + 3]) & _SELF:
            return True
        if word in _OWN and ahead[position + 1 : position + 2] and ahead[position + 1] in _OWN_FIGHTER_NOUNS:
            return True  # "Kataib Hezbollah praised its heroes for ..."
        if word in _PUBLISH and set(ahead[position + 1 : position + 4]) & _FOOTAGE:
            return True
    return False


_BE = frozenset(("was", "were", "is", "are", "been", "being"))


def _blamed(tokens: Sequence[Any], first: int, last: int) -> bool:
    """Whether the group at tokens ``first..last`` is blamed, not claiming: "تحمّل خلايا داعش
    مسؤولية الهجوم", "officials blamed ISIS", "ISIS was blamed", "held ISIS responsible"."""
    sentence = tokens[first].sentence
    before = {t.norm for t in tokens[max(0, first - BLAME_REACH) : first] if t.sentence == sentence}
    after = [t.norm for t in tokens[last + 1 : last + 4] if t.sentence == sentence]
    if before & _BLAME or (len(after) >= 2 and after[0] in _BE and after[1] in _BLAME):
        return True
    return bool(before & _HOLD) and bool(set(after) & _RESPONSIBLE)


def _agency_reports(tokens: Sequence[Any], first: int, last: int) -> bool:
    """ "Amaq said ...", "أفادت وكالة أعماق": the group's news agency reporting (its claim)."""
    sentence = tokens[first].sentence
    near = [t.norm for t in tokens[max(0, first - 3) : last + 3] if t.sentence == sentence]
    return bool(set(near) & _AGENCY_REPORTS)


def _signature_line(text: str, tokens: Sequence[Any], covered: set[int]) -> tuple[int, int]:
    """The span of the post's last line when it holds only group hashtags ("#عصبة_الثائرين"), the
    signature of a statement; (-1, -1) otherwise."""
    end = len(text.rstrip())
    low = text.rfind("\n", 0, end) + 1
    words = text[low:end].split()
    if not words or not all(word.startswith("#") for word in words):
        return (-1, -1)
    starts = [token.start for token in tokens]
    inside = between(starts, low, end)
    if not inside or not all(tokens[index].index in covered for index in inside):
        return (-1, -1)
    return (low, end)


def _is_hashtag(text: str, spaces: Sequence[int], start: int) -> bool:
    """Whether the word at ``start`` is part of a #hashtag (#أصحاب_الكهف); ``spaces``: the
    offsets of the text's whitespace."""
    position = word_start(spaces, start)
    return text[position : position + 1] == "#"


#: How many tokens before a hashtag group name a claim word may stand ("بيان صادر عن #X").
HASHTAG_CLAIM_REACH = 3
#: "شباب ربع الله أحرقوا ...": the group's own young men, right before its name.
_YOUNG_MEN = frozenset(normalise(word) for word in ("شباب", "وشباب", "فتية", "فتيان"))
#: "Translation of a Qasim al-Jabbarin post: '...'": the group's own words quoted after its name.
_OWN_TEXT = frozenset(
    normalise(word) for word in ("post", "message", "communique", "communiqué", "telegram", "منشور", "رسالة")
)
_QUOTE_OPENS = re.compile(r"\s*[:\u2013\u2014-]\s*[\"'\u201c\u2018\u00ab]")


def _claim_word_before(tokens: Sequence[Any], first: int, covered: set[int]) -> bool:
    """Whether a claim word (not negated) stands just before a group name in its sentence."""
    sentence = tokens[first].sentence
    for index in range(max(0, first - HASHTAG_CLAIM_REACH), first):
        token = tokens[index]
        if token.sentence != sentence or index in covered:
            continue
        if token.norm in _CLAIM_WORDS or _OWN_FIGHTERS.match(token.norm) or token.norm in _YOUNG_MEN:
            before = {tokens[j].norm for j in range(max(0, index - 4), index)}
            return not before & _NEGATIONS
    return False


def _own_words(text: str, tokens: Sequence[Any], hit: Hit) -> bool:
    """ "شباب ربع الله أحرقوا", "a Qasim al-Jabbarin post: '...'": the group's men as the actors,
    or its own post quoted."""
    if hit.first > 0 and tokens[hit.first - 1].norm in _YOUNG_MEN:
        return True
    if hit.last + 1 >= len(tokens):
        return False
    after = tokens[hit.last + 1]
    return after.norm in _OWN_TEXT and bool(_QUOTE_OPENS.match(text, after.end))


@dataclass(frozen=True, slots=True)
class Claim:
    """A group a post says claimed an attack, and where the claim is (original offsets)."""

    group: str
    start: int
    end: int


def find_claims(doc: Document, hits: Iterable[Hit], groups: Groups) -> list[Claim]:
    """Every claim in a document, in text order."""
    tokens = doc.tokens
    text = doc.text
    every = [hit for hit in hits if hit.concept.startswith(GROUP_PREFIX)]
    # "أولياء الدم" inside "سرايا أولياء الدم" is the same mention
    inside_longer = strictly_inside([(hit.start, hit.end) for hit in every])
    group_hits = [hit for hit, inside in zip(every, inside_longer, strict=True) if not inside]
    covered = {index for hit in group_hits for index in range(hit.first, hit.last + 1)}
    if not group_hits:
        return []
    # offsets looked up by bisection, so a long post with many names costs linear time
    starts = [token.start for token in tokens]  # ascending: tokens are in text order
    spaces = whitespace_offsets(text)
    newlines = [match.start() for match in re.finditer("\n", text)]
    colons = [match.start() for match in re.finditer(":", text)]
    signature = _signature_line(text, tokens, covered)
    claims: list[Claim] = []
    signed: list[Claim] = []
    # groups the text speaks of without a claim ("ISIS cells attacked ... #داعش"): a hashtag of
    # theirs on the last line is the post's topic, not a signature
    spoken_of: set[str] = set()
    for hit in group_hits:
        group = groups.group(hit.concept)
        if group is None:
            continue
        if _is_hashtag(text, spaces, hit.start):
            if signature[0] <= hit.start < signature[1]:
                signed.append(Claim(group.name, hit.start, hit.end))  # "...\n#أصحاب_الكهف"
            elif _claim_word_before(tokens, hit.first, covered):
                # "بيان صادر عن #قاصم_الجبارين", "تمكن مجاهدو #أصحاب_الكهف من ...": a hashtag
                # read as the name in a claiming sentence
                claims.append(Claim(group.name, hit.start, hit.end))
            continue
        if hit.first > 0 and tokens[hit.first - 1].norm in _GOD:
            continue
        if _blamed(tokens, hit.first, hit.last):
            spoken_of.add(group.name)
            continue
        sentence = tokens[hit.first].sentence
        claimed = False
        # a claim word in the same sentence, not negated
        low = max(0, hit.first - CLAIM_WINDOW)
        high = min(len(tokens), hit.last + CLAIM_WINDOW + 1)
        for index in range(low, high):
            token = tokens[index]
            if token.sentence != sentence or index in covered:
                continue
            if token.norm not in _CLAIM_WORDS and not _OWN_FIGHTERS.match(token.norm):
                continue
            if index > 0 and tokens[index - 1].norm in _COMMAND:
                continue
            before = {
                tokens[j].norm for j in range(max(0, index - 4), index) if tokens[j].sentence == sentence
            }
            if before & _NEGATIONS:
                continue
            claimed = True
            break
        if not claimed:
            claimed = _speaks_of_itself(tokens, hit.last, hit.first) or _own_words(text, tokens, hit)
        agency = normalise(text[hit.start : hit.end]) in group.agencies
        if not claimed and agency:
            claimed = _agency_reports(tokens, hit.first, hit.last)
        if not claimed:
            # a heading: "المقاومة الإسلامية في العراق - أصحاب الكهف: استهداف رتل ..."
            low, high = line_start(newlines, hit.start), line_end(newlines, hit.start, len(text))
            colon = next_at(colons, hit.end, high)
            if colon >= 0:
                # "Ashab al-Kahf (translated): ...": a note in brackets is not part of the heading
                notes = Overlaps(match.span() for match in _BRACKETED.finditer(text, low, colon))
                head = [
                    tokens[index]
                    for index in between(starts, low, colon)
                    if not notes.hit(tokens[index].start, tokens[index].end)
                ]
                # "Amaq Agency: ...", "وكالة أعماق: ...": the agency's own heading
                claimed = (
                    bool(head)
                    and len(head) <= 12
                    and all(t.index in covered or (agency and t.norm in _AGENCY_WORDS) for t in head)
                )
        if not claimed:
            # a signature: the group's name (with its umbrella) alone on a line
            low, high = line_start(newlines, hit.start), line_end(newlines, hit.start, len(text))
            in_line = [tokens[index] for index in between(starts, low, high)]
            if in_line and len(in_line) <= 8 and all(t.index in covered for t in in_line):
                claimed = True
        if claimed:
            claims.append(Claim(group.name, hit.start, hit.end))
        else:
            spoken_of.add(group.name)
    claims.extend(claim for claim in signed if claim.group not in spoken_of)
    return sorted(set(claims), key=lambda claim: (claim.start, claim.end, claim.group))
