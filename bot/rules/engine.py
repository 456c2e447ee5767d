"""Rule sets: concepts + rules + categories compiled from YAML; classify a document with them.

A rule fires when its concepts are found (``all`` of them, ``any`` one of a list) and its
exclusions are not (``none`` anywhere, ``none_near`` in the same sentence or window), within
the limits it sets (``same_sentence``, ``within`` N words). A fired rule adds its weight to
its category (relevance) or to its value (labels such as ``attack_type``); a category whose
score reaches its threshold is decided, a label category picks its best-scoring value.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

from bot.errors import RuleError
from bot.model import NOT_RELEVANT, Classification, RuleHit, TermMatch
from bot.rules.check import check_source
from bot.rules.matcher import Hit, Matcher, Presence, TermEntry
from bot.rules.prefilter import Prefilter, screen_text
from bot.rules.source import Source, read_rules
from bot.rules.text import Document, tokenise

__all__ = [
    "NOT_RELEVANT",
    "RELEVANT",
    "Category",
    "Rule",
    "RuleSet",
    "build_ruleset",
    "classify",
    "load_ruleset",
]

RELEVANT = "relevant"
#: At most this many matches per concept are kept in a fired rule (explanations stay short).
_MATCHES_PER_CONCEPT = 4
#: How many concept masks ``_Plans.passing`` remembers before it starts again.
_PASSING_MEMO = 4096


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
    #: concepts that can make a relevance rule with a positive weight fire
    _triggers: frozenset[str] = field(default=frozenset(), repr=False, compare=False)
    _cache: dict[str, object] = field(default_factory=dict, repr=False, compare=False)
    #: the rules compiled for ``evaluate`` (bit masks, flattened slots), derived once
    _plans: _Plans = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_plans", _Plans.of(self.rules, self.concepts, self.labels))

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
            return NOT_RELEVANT
        evidence = _Evidence(doc, hits, self._plans.bits)
        fired = self._fire(evidence, relevance=True)
        score = float(sum(hit.weight for hit in fired))
        relevant = score >= self.categories[RELEVANT].threshold
        labels: dict[str, str] = {}
        if relevant:
            described = self._fire(evidence, relevance=False)
            labels = self._decide(described)
            fired += described
        return Classification(relevant=relevant, score=round(score, 6), hits=tuple(fired), labels=labels)

    def labels_for(self, doc: Document, hits: Sequence[Hit], first: int, last: int) -> dict[str, str]:
        """The label categories (attack_type, target, ...) from the hits inside tokens first..last."""
        inside = [hit for hit in hits if first <= hit.first and hit.last <= last]
        return self._decide(self._fire(_Evidence(doc, inside, self._plans.bits), relevance=False))

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
        this rule set's terms (default: its own; more terms only of other concepts: the
        prefilter and its bound on the regex concepts know the rule set's terms alone).
        """
        matcher = self.matcher if matcher is None else matcher
        screen = self._screen
        prefilter = self.prefilter
        folded = screen_text(doc.text)
        possible = prefilter.found(folded)  # a superset, without tokenising
        rules = screen.possible_rules(possible) if possible & screen.triggers else []
        if not rules:
            return NOT_RELEVANT, []
        # the rules that may fire all need one sentence: one line must hold their concepts
        if (
            "\n" in doc.text
            and all(local for _, _, local in rules)
            and not any(
                needed & line == needed and (not one_of or one_of & line)
                for line in prefilter.line_masks(doc.text, possible, folded)  # lazily: stops at a match
                for needed, one_of, _ in rules
            )
        ):
            return NOT_RELEVANT, []
        # first with the prefilter's bound on the regex concepts (no stream, no gate: a
        # superset of the gate's answer), then with the gate's (the automaton's part is reused)
        if not self._may_fire(
            matcher.presence_map(doc, screen.concepts, bound=prefilter.regex_concepts(folded))
        ):
            return NOT_RELEVANT, []
        presence = matcher.presence_map(doc, screen.concepts)
        if not self._may_fire(presence):
            return NOT_RELEVANT, []
        # regex concepts were taken as possible anywhere: look at their real hits (scan reuses them)
        if presence.everywhere and not self._may_fire(
            matcher.presence_map(doc, screen.concepts, regexes=True)
        ):
            return NOT_RELEVANT, []
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
            # only what a relevance rule needs present: nothing is certain before the screen,
            # so exclusions never rule a post out there
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

    def _fire(self, evidence: _Evidence, *, relevance: bool) -> list[RuleHit]:
        """Fire the relevance rules, or the label rules, that the evidence satisfies (file order).

        A rule whose concepts are not all there (``all`` each, ``any`` one, ``none`` not at
        all) is passed over on its masks alone: ``_try`` would return None for it.
        """
        plans = self._plans
        fired: list[RuleHit] = []
        made = evidence.matches
        for plan in plans.passing(evidence.present, relevance=relevance):
            matched = _try(plan, evidence)
            if matched is not None:
                rule = plan.rule
                matches = tuple(map(made.__getitem__, matched))
                fired.append(RuleHit(rule.name, rule.category, rule.weight, rule.value, matches))
        return fired

    def _decide(self, fired: Iterable[RuleHit]) -> dict[str, str]:
        scores: dict[str, dict[str, float]] = {}  # category -> value -> score
        for hit in fired:
            if hit.value is not None:
                of_category = scores.setdefault(hit.category, {})
                of_category[hit.value] = of_category.get(hit.value, 0.0) + hit.weight
        labels: dict[str, str] = {}
        nothing: dict[str, float] = {}
        for category in self._plans.categories:
            best: str | None = None
            best_score = 0.0
            of_category = scores.get(category.name, nothing)
            for value in category.values:  # earlier values win ties
                score = of_category.get(value, 0.0)
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

    def possible_rules(self, possible: int) -> list[tuple[int, int, bool]]:
        """(all, any, needs one sentence) of the rules that may fire on the concepts
        ``possible`` (nothing certain: exclusions do not count), in rule order."""
        return [
            (needed, one_of, local)
            for needed, one_of, _excluded, _near, local in self.local
            if needed & possible == needed and (not one_of or one_of & possible)
        ]

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


@dataclass(frozen=True, slots=True)
class _Plan:
    """One rule compiled for ``_fire``: its concepts as bit masks, its slot concepts flattened.

    The masks are over the rule set's concepts (``_Plans.bits``); a rule needs
    ``needed & present == needed``, ``one_of & present`` (when it has an ``any`` list) and
    no ``excluded & present``, where ``present`` is the mask of the concepts found.
    """

    rule: Rule
    needed: int  # the ``all`` concepts
    one_of: int  # the ``any`` concepts (0: no ``any`` list)
    excluded: int  # the ``none`` concepts
    near: int  # the ``none_near`` concepts
    slots: tuple[tuple[str, ...], ...]
    none_near: tuple[str, ...]
    within: int | None
    #: whether the rule must fire inside one sentence (``same_sentence``, or ``none_near`` without a window)
    local: bool
    #: every slot's concepts in slot order (the order ``_keep`` counts matches in)
    concepts: tuple[str, ...]
    #: no concept occurs twice in ``concepts``: each concept's hits come as one run
    distinct: bool
    #: concept -> the number of its slot (with ``distinct`` concepts)
    slot_of: Mapping[str, int]

    @classmethod
    def of(cls, rule: Rule, bits: Mapping[str, int]) -> _Plan:
        """Compile one rule over these concept bits."""

        def mask(names: Iterable[str]) -> int:
            found = 0
            for name in names:
                found |= bits[name]
            return found

        concepts = tuple(concept for slot in rule.slots for concept in slot)
        return cls(
            rule=rule,
            needed=mask(rule.all_of),
            one_of=mask(rule.any_of),
            excluded=mask(rule.none_of),
            near=mask(rule.none_near),
            slots=rule.slots,
            none_near=rule.none_near,
            within=rule.within,
            local=rule.same_sentence or (rule.within is None and bool(rule.none_near)),
            concepts=concepts,
            distinct=len(set(concepts)) == len(concepts),
            slot_of={concept: number for number, slot in enumerate(rule.slots) for concept in slot},
        )


@dataclass(frozen=True, slots=True)
class _Plans:
    """The rules of a rule set compiled for evaluation, in file order."""

    #: one bit per concept a hit may carry (the rule set's concepts); concepts only rules
    #: name get bits above these, so no hit ever sets them
    bits: Mapping[str, int]
    relevance: tuple[_Plan, ...]
    labels: tuple[_Plan, ...]
    categories: tuple[Category, ...]  # the label categories, as ``RuleSet.labels``
    #: (relevance?, mask of the concepts present) -> the plans that pass their mask test
    _passing: dict[tuple[bool, int], tuple[_Plan, ...]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def passing(self, present: int, *, relevance: bool) -> tuple[_Plan, ...]:
        """The relevance (or label) plans with every ``all``, one ``any`` and no ``none`` concept present.

        Only they can fire; the answer depends on the mask alone, so it is memoised (bounded).
        """
        key = (relevance, present)
        passing = self._passing.get(key)
        if passing is None:
            if len(self._passing) >= _PASSING_MEMO:
                self._passing.clear()
            passing = self._passing[key] = tuple(
                plan
                for plan in (self.relevance if relevance else self.labels)
                if plan.needed & present == plan.needed
                and (not plan.one_of or plan.one_of & present)
                and not plan.excluded & present
            )
        return passing

    @classmethod
    def of(
        cls, rules: Sequence[Rule], concepts: Mapping[str, object], categories: tuple[Category, ...]
    ) -> _Plans:
        """Compile the rules; a rule with neither ``all`` nor ``any`` concepts never fires."""
        named = dict.fromkeys(concepts)
        for rule in rules:
            named.update(dict.fromkeys((*rule.all_of, *rule.any_of, *rule.none_of, *rule.none_near)))
        every = {name: 1 << number for number, name in enumerate(named)}
        plans = [_Plan.of(rule, every) for rule in rules if rule.all_of or rule.any_of]
        return cls(
            bits={name: every[name] for name in concepts},
            relevance=tuple(plan for plan in plans if plan.rule.category == RELEVANT),
            labels=tuple(plan for plan in plans if plan.rule.category != RELEVANT),
            categories=categories,
        )


class _Evidence:
    """The hits of one document by concept and by sentence (one pass over the hits).

    ``found`` holds each concept's hits, ``sentences`` each sentence's, both in hit order
    (``_try`` relies on no other order); ``present`` is the mask of the concepts found.
    Hits of concepts without a bit (unknown to the rule set) are ignored.
    """

    __slots__ = ("doc", "found", "matches", "present", "sentences")

    def __init__(self, doc: Document, hits: Iterable[Hit], bits: Mapping[str, int]) -> None:
        found: dict[str, list[Hit]] = {}
        masks: dict[int, int] = {}
        members: dict[int, list[Hit]] = {}
        present = 0
        noted = doc.sentence_keys  # noted by the matcher as it scanned
        # hits come by position (``scan`` sorts them), so a run of them shares a sentence:
        # its list and the concepts seen in it (``mask``) are at hand until the run ends
        current: int | None = None
        in_sentence: list[Hit] = []
        mask = 0
        for hit in hits:
            concept = hit.concept
            bit = bits.get(concept)
            if bit is None:
                continue
            present |= bit
            hits_of = found.get(concept)
            if hits_of is None:
                found[concept] = [hit]
            else:
                hits_of.append(hit)
            sentence = noted.get(hit.first)
            if sentence is None:
                sentence = doc.sentence_key(hit.first)
            if sentence != current:
                if current is not None:
                    masks[current] |= mask
                current, mask = sentence, 0
                in_sentence = members.setdefault(sentence, [])
                masks.setdefault(sentence, 0)
            in_sentence.append(hit)
            mask |= bit
        if current is not None:
            masks[current] |= mask
        self.doc = doc
        self.found = found
        self.present = present
        #: (sentence key, mask of its concepts, its hits) for each sentence with a hit, by key
        self.sentences = [(sentence, masks[sentence], members[sentence]) for sentence in sorted(masks)]
        self.matches = _Matches(doc.text)


class _Matches(dict[Hit, TermMatch]):
    """``hit -> its TermMatch``, made on first use: every rule that keeps a hit shares one."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text

    def __missing__(self, hit: Hit) -> TermMatch:
        match = self[hit] = TermMatch(
            hit.concept, hit.term, hit.start, hit.end, self.text[hit.start : hit.end]
        )
        return match


def _try(plan: _Plan, evidence: _Evidence) -> list[Hit] | None:
    """The hits that make a rule fire, or None when it does not.

    ``_fire`` calls it only for a rule whose ``all``/``any``/``none`` test passes on the
    evidence's concept mask; what is left is where the hits are.
    """
    if plan.local:
        return _in_a_sentence(plan, evidence.sentences)
    found = evidence.found
    if plan.within is None:
        if not plan.distinct:
            return _keep([hit for concept in plan.concepts for hit in found.get(concept, ())])
        kept: list[Hit] = []
        for concept in plan.concepts:
            kept += found.get(concept, ())[:_MATCHES_PER_CONCEPT]  # what _keep would count
        kept.sort(key=_POSITION)
        return kept
    slots = [[hit for concept in slot for hit in found.get(concept, ())] for slot in plan.slots]
    excluded: list[Hit] = []
    if plan.near & evidence.present:
        excluded = [hit for concept in plan.none_near for hit in found.get(concept, ())]
    return _in_a_window(plan.within, slots, excluded)


def _in_a_sentence(plan: _Plan, sentences: list[tuple[int, int, list[Hit]]]) -> list[Hit] | None:
    """The hits in the first sentence (by key) with every slot, no ``none_near`` concept and a window.

    Each candidate sentence is tested on its concept mask alone; its hits are gathered
    only then.
    """
    needed, one_of, near = plan.needed, plan.one_of, plan.near
    for _, mask, hits in sentences:
        if needed & mask != needed or (one_of and not one_of & mask) or near & mask:
            continue
        if plan.within is None:
            if plan.distinct:  # each concept of the slots once: its hits here, in hit order
                return _keep([hit for hit in hits if hit.concept in plan.slot_of])
            return _keep([hit for slot in _gather(plan, hits) for hit in slot])
        matched = _in_a_window(plan.within, _gather(plan, hits), [])
        if matched is not None:
            return matched
    return None


def _gather(plan: _Plan, hits: list[Hit]) -> list[list[Hit]]:
    """Each slot's hits among ``hits`` (one sentence's), as ``_in_a_window`` takes them.

    With distinct concepts a slot's list may interleave its concepts' hits: the window
    found and the hits kept only depend on each concept's hits being in hit order.
    """
    if not plan.distinct:
        return [[hit for concept in slot for hit in hits if hit.concept == concept] for slot in plan.slots]
    slots: list[list[Hit]] = [[] for _ in plan.slots]
    slot_of = plan.slot_of
    for hit in hits:
        number = slot_of.get(hit.concept)
        if number is not None:
            slots[number].append(hit)
    return slots


def _in_a_window(within: int, slots: list[list[Hit]], excluded: list[Hit]) -> list[Hit] | None:
    """The hits of the first window (by its first hit) of ``within`` tokens holding every slot.

    A window starts at a hit and holds the hits at most ``within`` tokens after it; it
    counts when no ``excluded`` hit lies ``within`` tokens or less before its first or
    after its last hit. Hits are ordered by first token, ties by slot, then as given.
    """
    if within < 0 or not all(slots):
        return None  # no window holds every slot
    tagged = [(hit.first, number, hit) for number, slot in enumerate(slots) for hit in slot]
    tagged.sort(key=_FIRST)  # stable, and slots were listed in order: ties stay by slot
    blocked = sorted(hit.first for hit in excluded) if excluded else []
    needed = len(slots)
    size = len(tagged)
    stop = 0
    for start, (first, _, _) in enumerate(tagged):
        # the window is tagged[start:stop]; a later start's window ends no earlier
        while stop < size and tagged[stop][0] <= first + within:
            stop += 1
        if len({number for _, number, _ in tagged[start:stop]}) == needed:
            low, high = first - within, tagged[stop - 1][0] + within
            nearest = bisect_left(blocked, low)
            if nearest == len(blocked) or blocked[nearest] > high:
                return _keep(list(map(_HIT, tagged[start:stop])))
    return None


def _keep(hits: list[Hit]) -> list[Hit]:
    """The first ``_MATCHES_PER_CONCEPT`` hits of each concept, sorted by position (stable).

    ``hits`` is a fresh list: it may be sorted in place and returned.
    """
    kept = hits
    if len(hits) > _MATCHES_PER_CONCEPT:  # else no concept has more
        kept = []
        counts: dict[str, int] = {}
        for hit in hits:
            seen = counts.get(hit.concept, 0)
            if seen < _MATCHES_PER_CONCEPT:
                counts[hit.concept] = seen + 1
                kept.append(hit)
    kept.sort(key=_POSITION)
    return kept


_FIRST = itemgetter(0)
_HIT = itemgetter(2)
_POSITION = itemgetter(2, 3, 0)  # a Hit's (first, last, concept)


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
