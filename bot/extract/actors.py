"""Claimant groups: their spellings (config/groups.yaml) and who a post says claimed an attack.

A group named in a post is the claimant only when the post says it claimed the attack:
a claim word near it ("claimed", "claims", "statement", تبنى، تعلن، بيان، مسؤولية), the
group as the actor of its own statement ("مجاهدو أصحاب الكهف", "أبطال قاصم الجبارين"),
or its name alone on a line (the signature of a statement). "No group has claimed",
"stopped short of claiming", a suspicion ("ISIS cells are believed to be behind it") and
hashtags are not claims. When a post names an umbrella and one of its groups ("The
Islamic Resistance in Iraq – Ashab al-Kahf"), the most specific group wins.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.errors import ConfigError
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
        "أبطال",
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
#: How many tokens apart a claim word and a group name may be in one sentence.
CLAIM_WINDOW = 30


@dataclass(frozen=True, slots=True)
class Group:
    """A claimant group: canonical name, the umbrella it belongs to, its spellings."""

    name: str
    parent: str | None = None
    umbrella: bool = False
    variants: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Groups:
    """Every group by canonical name and the matcher terms that find them."""

    groups: Mapping[str, Group]
    entries: tuple[TermEntry, ...]

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
        spellings = tuple(dict.fromkeys([name, *variants, *agency]))
        groups[name] = Group(name, parent, bool(item.get("umbrella", False)), spellings)
        for term in spellings:
            key = normalise(term)
            if seen_terms.get(key, name) != name:
                raise ConfigError(f"{name}: {term!r} is also a variant of {seen_terms[key]}", file=file)
            seen_terms[key] = name
            entries.append(TermEntry(GROUP_PREFIX + name, term, exact=False, origin=f"{file}:{where}"))
    for group in groups.values():
        if group.parent is not None and group.parent not in groups:
            raise ConfigError(f"{group.name}: unknown parent {group.parent!r}", file=file)
    return Groups(groups, tuple(entries))


def _is_hashtag(text: str, start: int) -> bool:
    """Whether the word at ``start`` is part of a #hashtag (#أصحاب_الكهف)."""
    position = start
    while position > 0 and not text[position - 1].isspace():
        position -= 1
    return text[position : position + 1] == "#"


def _line_bounds(text: str, start: int) -> tuple[int, int]:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    return line_start, len(text) if line_end < 0 else line_end


@dataclass(frozen=True, slots=True)
class Claim:
    """A group a post says claimed an attack, and where the claim is (original offsets)."""

    group: str
    start: int
    end: int


def find_claims(doc: Document, hits: Iterable[Hit], groups: Groups) -> list[Claim]:
    """Every claim in a document, in text order."""
    tokens = doc.tokens
    every = [hit for hit in hits if hit.concept.startswith(GROUP_PREFIX)]
    # "أولياء الدم" inside "سرايا أولياء الدم" is the same mention
    group_hits = [
        hit
        for hit in every
        if not any(
            other.start <= hit.start
            and hit.end <= other.end
            and (other.end - other.start) > (hit.end - hit.start)
            for other in every
        )
    ]
    covered = {index for hit in group_hits for index in range(hit.first, hit.last + 1)}
    claims: list[Claim] = []
    for hit in group_hits:
        group = groups.group(hit.concept)
        if group is None or _is_hashtag(doc.text, hit.start):
            continue
        sentence = tokens[hit.first].sentence
        claimed = False
        # a claim word in the same sentence, not negated
        low = max(0, hit.first - CLAIM_WINDOW)
        high = min(len(tokens), hit.last + CLAIM_WINDOW + 1)
        for index in range(low, high):
            token = tokens[index]
            if token.sentence != sentence or index in covered or token.norm not in _CLAIM_WORDS:
                continue
            before = {
                tokens[j].norm for j in range(max(0, index - 4), index) if tokens[j].sentence == sentence
            }
            if before & _NEGATIONS:
                continue
            claimed = True
            break
        if not claimed:
            # a signature: the group's name (with its umbrella) alone on a line
            line_start, line_end = _line_bounds(doc.text, hit.start)
            in_line = [t for t in tokens if line_start <= t.start < line_end]
            if in_line and len(in_line) <= 8 and all(t.index in covered for t in in_line):
                claimed = True
        if claimed:
            claims.append(Claim(group.name, hit.start, hit.end))
    return sorted(set(claims), key=lambda claim: (claim.start, claim.end, claim.group))
