"""Rule sets: concepts + rules + categories compiled from YAML; classify a document with them.

A rule fires when its concepts are found (``all`` of them, ``any`` one of a list) and its
exclusions are not (``none`` anywhere, ``none_near`` in the same sentence or window), within
the limits it sets (``same_sentence``, ``within`` N words). A fired rule adds its weight to
its category (relevance) or to its value (labels such as ``attack_type``); a category whose
score reaches its threshold is decided, a label category picks its best-scoring value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import attrgetter, itemgetter
from pathlib import Path

from bot.errors import RuleError
from bot.model import Classification, RuleHit, TermMatch
from bot.rules.check import check_source
from bot.rules.matcher import Hit, Matcher, Presence, TermEntry
from bot.rules.prefilter import Prefilter
from bot.rules.source import Source, read_rules
from bot.rules.text import Document, tokenise

__all__ = ["RELEVANT", "Category", "Rule", "RuleSet", "build_ruleset", "classify", "load_ruleset"]

RELEVANT = "relevant"
#: At most this many matches per concept are kept in a fired rule (explanations stay short).
_MATCHES_PER_CONCEPT = 4


@dataclass(frozen=True, slots=True)
class Rule:
    """A compiled rule."""

    name: str
    category: str
    weight: float
    value: str | None
    all_of: tuple[str, ...]
    any_of: tuple[str, ...]
    none_of: tuple[str, ...]
    none_near: tuple[str, ...]
    within: int | None
    same_sentence: bool
    origin: str
    #: What must be found: each ``all`` concept alone, then the ``any`` list as one slot.
    slots: tuple[tuple[str, ...], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        slots = tuple((concept,) for concept in self.all_of) + ((self.any_of,) if self.any_of else ())
        object.__setattr__(self, "slots", slots)

    @property
    def triggers(self) -> frozenset[str]:
        """Concepts one of which must be present for the rule to have a chance."""
        return frozenset(self.all_of[:1] or self.any_of)


@dataclass(frozen=True, slots=True)
class Category:
    """An output category: ``relevant`` (a yes/no score) or a label with values."""

    name: str
    threshold: float
    values: tuple[str, ...]
    default: str | None
    origin: str


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Concepts, rules and categories ready to evaluate; ``entries`` feed one shared Matcher."""

    concepts: Mapping[str, tuple[TermEntry, ...]]
    rules: tuple[Rule, ...]
    categories: Mapping[str, Category]
    #: concept -> the relevance rules / the label rules it can trigger, with their positions
    _index: Mapping[str, tuple[tuple[int, Rule], ...]] = field(repr=False, compare=False)
    _label_index: Mapping[str, tuple[tuple[int, Rule], ...]] = field(
        default_factory=dict, repr=False, compare=False
    )
    #: concepts that can make a relevance rule with a positive weight fire
    _triggers: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    _cache: dict[str, object] = field(default_factory=dict, repr=False, compare=False)

    @property
    def entries(self) -> tuple[TermEntry, ...]:
        """Every term of every concept (protected words included, as exact terms)."""
        return tuple(entry for terms in self.concepts.values() for entry in terms)

    @property
    def matcher(self) -> Matcher:
        """A Matcher over this rule set's own terms (built once)."""
        matcher = self._cache.get("matcher")
        if not isinstance(matcher, Matcher):
            matcher = self._cache["matcher"] = Matcher(self.entries)
        return matcher

    @property
    def labels(self) -> tuple[Category, ...]:
        """The output categories other than relevance."""
        return tuple(category for category in self.categories.values() if category.name != RELEVANT)

    def evaluate(self, doc: Document, hits: Sequence[Hit]) -> Classification:
        """Classify a document from its matcher hits (hits of unknown concepts are ignored).

        Labels are decided only for a relevant post (they describe its attack).
        """
        triggers = self._triggers
        for hit in hits:
            if hit.concept in triggers:
                break
        else:
            return Classification(relevant=False, score=0.0)
        evidence = _Evidence(doc, hits, self.concepts)
        fired = self._fire(doc, evidence, relevance=True)
        score = float(sum(hit.weight for hit in fired))
        relevant = score >= self.categories[RELEVANT].threshold
        labels: dict[str, str] = {}
        if relevant:
            described = self._fire(doc, evidence, relevance=False)
            labels = self._decide(described)
            fired += described
        return Classification(relevant=relevant, score=round(score, 6), hits=tuple(fired), labels=labels)

    def labels_for(self, doc: Document, hits: Sequence[Hit], first: int, last: int) -> dict[str, str]:
        """The label categories (attack_type, target, ...) from the hits inside tokens first..last."""
        inside = [hit for hit in hits if first <= hit.first and hit.last <= last]
        return self._decide(self._fire(doc, _Evidence(doc, inside, self.concepts), relevance=False))

    def classify(self, text: str) -> Classification:
        """Tokenise, match and evaluate one text with this rule set's own matcher."""
        return self.classify_doc(tokenise(text))[0]

    def classify_doc(self, doc: Document, matcher: Matcher | None = None) -> tuple[Classification, list[Hit]]:
        """Classify a document, building its hits only when a relevance rule may fire.

        Exactly the result of ``evaluate(doc, matcher.scan(doc))``: a literal prefilter over
        the folded text rules out most posts before they are tokenised (``Prefilter``: a
        superset of the concepts that occur); then one screening pass finds
        which relevance concepts occur (per sentence when a trigger does); a document on which
        no relevance rule can fire (no trigger; a required concept missing; an excluded one
        present; not all in one sentence) skips the full scan, and its hits are returned
        empty. A relevant document always comes with its full hits. ``matcher`` must hold
        this rule set's terms (default: its own).
        """
        matcher = self.matcher if matcher is None else matcher
        screen = self._screen
        possible = self.prefilter.possible(doc.text)  # a superset, without tokenising
        if not possible & screen.triggers or not screen.may_fire(0, possible):
            return Classification(relevant=False, score=0.0), []
        presence = matcher.presence_map(doc, screen.concepts)
        if not self._may_fire(presence):
            return Classification(relevant=False, score=0.0), []
        # regex concepts were taken as possible anywhere: look at their real hits (scan reuses them)
        if presence.everywhere and not self._may_fire(
            matcher.presence_map(doc, screen.concepts, regexes=True)
        ):
            return Classification(relevant=False, score=0.0), []
        hits = matcher.scan(doc)
        return self.evaluate(doc, hits), hits

    def use_prefilter(self, engine: str = "auto") -> Prefilter:
        """Build (or rebuild) the literal prefilter on ``engine``: auto, hyperscan, aho-corasick."""
        self._cache.pop("prefilter", None)
        self._cache["engine"] = engine
        return self.prefilter

    @property
    def prefilter(self) -> Prefilter:
        """The literal prefilter over the concepts relevance rules need (compiled on first use)."""
        prefilter = self._cache.get("prefilter")
        if prefilter is None:
            # only what a relevance rule needs present: exclusions never stop may_fire(0, ...)
            needed = {
                concept
                for rule in self.rules
                if rule.category == RELEVANT
                for concept in (*rule.all_of, *rule.any_of)
            } | self._triggers
            concepts = {name: terms for name, terms in self.concepts.items() if name in needed}
            engine = str(self._cache.get("engine", "auto"))
            prefilter = self._cache["prefilter"] = Prefilter(concepts, self._screen.concepts, engine=engine)
        return prefilter  # type: ignore[return-value]

    def _may_fire(self, presence: Presence) -> bool:
        """Whether a relevance rule may fire given where its concepts may and must be.

        False only when ``evaluate`` would fire nothing: no trigger possible, or a trigger
        certain and no relevance rule able to fire on these concepts and positions.
        """
        screen = self._screen
        certain = possible = 0
        for sure, maybe in presence.sentences:
            certain |= sure
            possible |= maybe
        if not possible & screen.triggers:
            return False
        return not certain & screen.triggers or (
            screen.may_fire(certain, possible) and screen.may_fire_in(presence)
        )

    @property
    def _screen(self) -> _Screen:
        screen = self._cache.get("screen")
        if screen is None:
            screen = self._cache["screen"] = _Screen.of(
                [rule for rule in self.rules if rule.category == RELEVANT], self._triggers
            )
        return screen  # type: ignore[return-value]

    def origin(self, rule_name: str) -> str | None:
        """Where a rule is defined ("file:line")."""
        for rule in self.rules:
            if rule.name == rule_name:
                return rule.origin
        return None

    # -- evaluation ---------------------------------------------------------------------

    def _fire(self, doc: Document, evidence: _Evidence, *, relevance: bool) -> list[RuleHit]:
        """Fire the relevance rules, or the label rules, that the evidence satisfies."""
        index = self._index if relevance else self._label_index
        candidates: dict[int, Rule] = {}
        for concept in evidence.found:
            for position, rule in index.get(concept, ()):
                candidates[position] = rule
        fired: list[RuleHit] = []
        made = evidence.matches  # by id(hit): one TermMatch per hit, however many rules use it
        for position in sorted(candidates):  # file order
            rule = candidates[position]
            matched = _try(rule, evidence)
            if matched is not None:
                matches: list[TermMatch] = []
                for hit in matched:
                    match = made.get(id(hit))
                    if match is None:
                        text = doc.text[hit.start : hit.end]
                        match = made[id(hit)] = TermMatch(hit.concept, hit.term, hit.start, hit.end, text)
                    matches.append(match)
                fired.append(RuleHit(rule.name, rule.category, rule.weight, rule.value, tuple(matches)))
        return fired

    def _decide(self, fired: Iterable[RuleHit]) -> dict[str, str]:
        scores: dict[tuple[str, str], float] = {}
        for hit in fired:
            if hit.value is not None:
                key = (hit.category, hit.value)
                scores[key] = scores.get(key, 0.0) + hit.weight
        labels: dict[str, str] = {}
        for category in self.labels:
            best: str | None = None
            best_score = 0.0
            for value in category.values:  # earlier values win ties
                score = scores.get((category.name, value), 0.0)
                if score >= category.threshold and (best is None or score > best_score):
                    best, best_score = value, score
            chosen = best if best is not None else category.default
            if chosen is not None:
                labels[category.name] = chosen
        return labels


@dataclass(frozen=True, slots=True)
class _Screen:
    """The relevance rules as bit masks over their concepts, to rule a post out before ``scan``.

    A rule can only fire when each ``all`` concept and one ``any`` concept occur and no
    ``none`` concept does (``_try`` checks exactly this first), so with the concepts that
    possibly occur (a superset of the hits') and those that certainly occur (a subset) a
    post whose rules all fail this test needs no hits: ``evaluate`` would fire nothing.
    """

    concepts: tuple[str, ...]
    triggers: int  # concepts that can make a positive relevance rule fire
    rules: tuple[tuple[int, int, int], ...]  # (all, any, none) masks per relevance rule
    #: (all, any, none, none_near masks, whether the rule needs one sentence) per rule
    local: tuple[tuple[int, int, int, int, bool], ...]
    #: (within, each slot's mask, the none_near mask its window excludes) per rule (None: no window)
    windows: tuple[tuple[int, tuple[int, ...], int] | None, ...] = ()

    @classmethod
    def of(cls, rules: Sequence[Rule], triggers: frozenset[str]) -> _Screen:
        """Masks for these relevance rules and trigger concepts."""
        concepts = tuple(
            sorted(
                {*triggers}
                | {
                    concept
                    for rule in rules
                    for concept in (*rule.all_of, *rule.any_of, *rule.none_of, *rule.none_near)
                }
            )
        )
        bit = {concept: 1 << number for number, concept in enumerate(concepts)}

        def mask(names: Iterable[str]) -> int:
            return sum(bit[name] for name in set(names))

        return cls(
            concepts,
            mask(triggers),
            tuple((mask(rule.all_of), mask(rule.any_of), mask(rule.none_of)) for rule in rules),
            tuple(
                (
                    mask(rule.all_of),
                    mask(rule.any_of),
                    mask(rule.none_of),
                    mask(rule.none_near),
                    rule.same_sentence or (rule.within is None and bool(rule.none_near)),  # as in _try
                )
                for rule in rules
            ),
            tuple(
                None
                if rule.within is None
                else (
                    rule.within,
                    tuple(mask(slot) for slot in rule.slots),
                    # a window rule outside one sentence excludes none_near hits near it
                    0 if rule.same_sentence else mask(rule.none_near),
                )
                for rule in rules
            ),
        )

    def may_fire(self, certain: int, possible: int) -> bool:
        """Whether some relevance rule may fire given the concepts that occur (certain, possible)."""
        for needed, one_of, excluded in self.rules:
            if needed & possible == needed and (not one_of or one_of & possible) and not excluded & certain:
                return True
        return False

    def may_fire_in(self, presence: Presence) -> bool:
        """Whether some relevance rule may fire given where its concepts (certainly, possibly) are.

        A rule that needs one sentence (``same_sentence``, or ``none_near`` without
        ``within``) needs a sentence with all its concepts and none of its ``none_near``
        ones; ``none`` concepts count anywhere in the post. A rule with ``within`` N needs
        every slot possibly found in some N-token window, and (outside one sentence) no
        ``none_near`` concept certainly found within N tokens of its start.
        """
        sentences = presence.sentences
        certain = possible = 0
        for sure, maybe in sentences:
            certain |= sure
            possible |= maybe
        windows = self.windows or (None,) * len(self.local)
        for (needed, one_of, excluded, near, local), window in zip(self.local, windows, strict=True):
            if needed & possible != needed or (one_of and not one_of & possible) or excluded & certain:
                continue
            if local and not any(
                needed & maybe == needed and (not one_of or one_of & maybe) and not near & sure
                for sure, maybe in sentences
            ):
                continue
            if window is None or _may_fit(window, presence):
                return True
        return False


def _may_fit(window: tuple[int, tuple[int, ...], int], presence: Presence) -> bool:
    """Whether a window rule may fire: a necessary condition on the positions of its concepts.

    ``_in_a_window`` fires at a hit ``s`` (the window's first) when every slot has a hit in
    ``s .. s + within`` and no excluded hit lies in ``s - within .. last + within``, where
    ``last`` (the window's last hit) is at least the earliest hit of every slot. Possible
    hits are a superset of the real ones and certain ones a subset, so if the rule fires at
    ``s``, every slot has a possible hit in the window and no certain exclusion lies in
    ``s - within .. max(earliest possible hit of each slot) + within``.
    """
    within, slots, near = window
    positions = presence.positions
    wanted = 0
    for slot in slots:
        wanted |= slot
    size = len(positions)
    stop = 0  # positions[:stop]: token <= start + within
    low = 0  # positions[low:]: token >= start - within
    begin = 0  # positions[begin:]: token >= start
    for index in range(size):
        start, _, maybe = positions[index]
        if not maybe & wanted:
            continue
        while stop < size and positions[stop][0] <= start + within:
            stop += 1
        while positions[low][0] < start - within:
            low += 1
        while positions[begin][0] < start:
            begin += 1
        # the last hit of a real window is at least the earliest possible hit of every slot
        last = start
        for slot in slots:
            if slot & presence.everywhere:
                continue  # a regex concept not scanned: possible anywhere
            for token, _, possible in positions[begin:stop]:
                if possible & slot:
                    last = max(last, token)
                    break
            else:
                break  # a slot with no possible hit in the window
        else:
            if near:
                blocked = 0
                for token, certain, _ in positions[low:]:
                    if token > last + within:
                        break
                    blocked |= certain
                if blocked & near:
                    continue
            return True
    return False


class _Evidence:
    """The hits of one document by concept, and by concept and sentence (one pass over the hits)."""

    __slots__ = ("doc", "found", "grouped", "matches", "unions")

    def __init__(self, doc: Document, hits: Iterable[Hit], known: Mapping[str, object]) -> None:
        found: dict[str, list[Hit]] = {}
        grouped: dict[str, dict[int, list[Hit]]] = {}
        noted = doc.sentence_keys  # noted by the matcher as it scanned
        for hit in hits:
            concept = hit.concept
            if concept not in known:
                continue
            sentence = noted.get(hit.first)
            if sentence is None:
                sentence = doc.sentence_key(hit.first)
            hits_of = found.get(concept)
            if hits_of is None:
                found[concept] = [hit]
                grouped[concept] = {sentence: [hit]}
                continue
            hits_of.append(hit)
            by_sentence = grouped[concept]
            bucket = by_sentence.get(sentence)
            if bucket is None:
                by_sentence[sentence] = [hit]
            else:
                bucket.append(hit)
        self.doc = doc
        self.found = found
        #: concept -> sentence key -> the concept's hits in that sentence (in hit order)
        self.grouped = grouped
        self.unions: dict[tuple[str, ...], frozenset[int]] = {}
        self.matches: dict[int, TermMatch] = {}  # id(hit) -> its TermMatch, shared by every rule

    def sentences_of_any(self, concepts: tuple[str, ...]) -> frozenset[int]:
        """The sentence keys any of the concepts occurs in (rules share their lists: memoised)."""
        cached = self.unions.get(concepts)
        if cached is None:
            grouped = self.grouped
            union: set[int] = set()
            for concept in concepts:
                sentences = grouped.get(concept)
                if sentences is not None:
                    union.update(sentences)
            cached = self.unions[concepts] = frozenset(union)
        return cached


def _try(rule: Rule, evidence: _Evidence) -> list[Hit] | None:
    """The hits that make a rule fire, or None when it does not."""
    found = evidence.found
    for concept in rule.all_of:
        if concept not in found:
            return None
    if rule.any_of and not any(concept in found for concept in rule.any_of):
        return None
    for concept in rule.none_of:
        if concept in found:
            return None
    slots = rule.slots
    if rule.same_sentence or (rule.within is None and rule.none_near):
        return _in_a_sentence(rule, evidence)
    hits = [[hit for concept in slot for hit in found.get(concept, ())] for slot in slots]
    if rule.within is None:
        return _keep(hit for slot in hits for hit in slot)
    excluded = [hit for concept in rule.none_near for hit in found.get(concept, ())]
    return _in_a_window(rule.within, hits, excluded)


def _in_a_sentence(rule: Rule, evidence: _Evidence) -> list[Hit] | None:
    shared: frozenset[int] | None = None
    for slot in rule.slots:
        here = evidence.sentences_of_any(slot)
        shared = here if shared is None else shared & here
        if not shared:
            return None
    assert shared is not None
    if rule.none_near:
        shared = shared - evidence.sentences_of_any(rule.none_near)
        if not shared:
            return None
    grouped = evidence.grouped
    nothing: dict[int, list[Hit]] = {}
    for sentence in sorted(shared):
        in_sentence = [
            [hit for concept in slot for hit in grouped.get(concept, nothing).get(sentence, ())]
            for slot in rule.slots
        ]
        if rule.within is None:
            return _keep(hit for slot in in_sentence for hit in slot)
        matched = _in_a_window(rule.within, in_sentence, [])
        if matched is not None:
            return matched
    return None


def _in_a_window(within: int, slots: list[list[Hit]], excluded: list[Hit]) -> list[Hit] | None:
    tagged = sorted(
        ((hit.first, number, hit) for number, slot in enumerate(slots) for hit in slot),
        key=_FIRST_AND_SLOT,
    )
    needed = len(slots)
    size = len(tagged)
    for start, (first, _, _) in enumerate(tagged):
        stop = start
        while stop < size and tagged[stop][0] - first <= within:  # sorted: the window ends here
            stop += 1
        window = tagged[start:stop]
        if len({number for _, number, _ in window}) < needed:
            continue
        low, high = first - within, window[-1][0] + within
        if any(low <= hit.first <= high for hit in excluded):
            continue
        return _keep(hit for _, _, hit in window)
    return None


def _keep(hits: Iterable[Hit]) -> list[Hit]:
    kept: list[Hit] = []
    counts: dict[str, int] = {}
    for hit in hits:
        seen = counts.get(hit.concept, 0)
        if seen < _MATCHES_PER_CONCEPT:
            counts[hit.concept] = seen + 1
            kept.append(hit)
    kept.sort(key=_POSITION)
    return kept


_FIRST_AND_SLOT = itemgetter(0, 1)
_POSITION = attrgetter("first", "last", "concept")


def build_ruleset(source: Source) -> RuleSet:
    """Compile checked definitions into a RuleSet (call ``check_source`` first)."""
    concepts: dict[str, list[TermEntry]] = {}
    for concept in source.concepts:
        entries = concepts.setdefault(concept.name, [])
        for term in concept.terms:
            entries.append(
                TermEntry(
                    concept.name,
                    term.text,
                    exact=term.exact,
                    origin=f"{term.file}:{term.line}",
                    regex=term.regex,
                )
            )
    rules = tuple(
        Rule(
            name=rule.name,
            category=rule.category,
            weight=rule.weight,
            value=rule.value,
            all_of=rule.all_of,
            any_of=rule.any_of,
            none_of=rule.none_of,
            none_near=rule.none_near,
            within=rule.within,
            same_sentence=rule.same_sentence,
            origin=f"{rule.file}:{rule.line}",
        )
        for rule in source.rules
    )
    index: dict[str, list[tuple[int, Rule]]] = {}
    label_index: dict[str, list[tuple[int, Rule]]] = {}
    for position, rule in enumerate(rules):
        for trigger in rule.triggers:
            (index if rule.category == RELEVANT else label_index).setdefault(trigger, []).append(
                (position, rule)
            )
    categories = {
        category.name: Category(
            category.name,
            category.threshold,
            category.values,
            category.default,
            f"{category.file}:{category.line}",
        )
        for category in source.categories
    }
    triggers = frozenset(
        concept
        for rule in rules
        if rule.category == RELEVANT and rule.weight > 0
        for concept in rule.triggers
    )
    return RuleSet(
        concepts={name: tuple(entries) for name, entries in concepts.items()},
        rules=rules,
        categories=categories,
        _index={concept: tuple(found) for concept, found in index.items()},
        _label_index={concept: tuple(found) for concept, found in label_index.items()},
        _triggers=triggers,
    )


def load_ruleset(directory: Path) -> RuleSet:
    """Read, check and compile a rules directory; raises RuleError listing every problem."""
    source = read_rules(directory)
    problems = [*source.problems, *check_source(source)]
    if problems:
        raise RuleError(problems)
    return build_ruleset(source)


def classify(ruleset: RuleSet, text: str) -> Classification:
    """Classify one text (the rule set's matcher is built once and cached)."""
    return ruleset.classify(text)
