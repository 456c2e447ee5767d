"""Events out of one relevant post: where, when, what, against whom, claimed by, casualties (pure).

The extractor works on what the analyser already has: the tokenised document, the hits of
the one matcher scan (gazetteer names are ``place:<id>`` concepts, claimant names
``group:<name>``) and the rule engine's classification. It

1. keeps the place names that really name a place here (an ambiguous name needs a
   locative cue or its governorate nearby) and scores each as the attack site (a
   locative cue, the attack sentence, a governorate that agrees raise it; "north of X"
   after another place, "towards X", a base the convoy was heading to lower it);
2. splits the post into one segment per attack: list items, ordinals, or, when the post
   says how many convoys were hit, its distinct sites;
3. reads each segment's site, date, labels (``labels_for`` over the segment's tokens),
   casualties and claim, and fills what a segment lacks from the text shared by all
   (a preamble date, "all five were claimed by ...", "no casualties in any of them").
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from bot.errors import ConfigError
from bot.extract.actors import GROUP_PREFIX, Claim, Groups, find_claims, load_groups
from bot.extract.dates import DateMention, find_dates
from bot.extract.folding import fold
from bot.extract.gazetteer import PLACE_PREFIX, Gazetteer, Place, load_gazetteer
from bot.extract.numbers import Casualties, find_casualties
from bot.extract.split import Segment, list_items, ordinal_segments, segments_are_lines, stated_count
from bot.model import ATTACK_TYPES, TARGETS, Classification, Event, Post
from bot.rules.matcher import Hit, TermEntry
from bot.rules.text import Document, Token, normalise


class Labeller(Protocol):
    """What the rule engine offers the extractor: its labels over a window of tokens."""

    def labels_for(self, doc: Document, hits: Sequence[Hit], first: int, last: int) -> Mapping[str, str]: ...


def _norms(*words: str) -> frozenset[str]:
    return frozenset(normalise(word) for word in words)


_LOCATIVE = _norms(
    "in",
    "near",
    "at",
    "outside",
    "around",
    "inside",
    "into",
    "nearby",
    "في",
    "وفي",
    "قرب",
    "وقرب",
    "منطقة",
    "بمنطقة",
    "قضاء",
    "بقضاء",
    "ناحية",
    "بناحية",
    "مدينة",
    "بمدينة",
    "بلدة",
    "ببلدة",
    "قرية",
    "بقرية",
    "طريق",
    "عند",
    "داخل",
    "محيط",
    "أطراف",
    "مركز",
    "حي",
    "منفذ",
    "تقاطع",
    "مفرق",
    "سيطرة",
    "مدخل",
    "محافظة",
    "بمحافظة",
    "ريف",
)
_AFTER_LOCATIVE = _norms(
    "district",
    "province",
    "governorate",
    "town",
    "city",
    "village",
    "area",
    "neighbourhood",
    "neighborhood",
    "highway",
    "road",
    "bridge",
    "junction",
    "crossing",
    "intersection",
    "entrance",
    "outskirts",
)
_ROAD_WORDS = _norms(
    "road", "route", "highway", "way", "طريق", "الطريق", "المؤدي", "المؤدية", "الطريق المؤدي"
)
_COORDINATION = re.compile(r"^[\s,،]*(?:and|&|or)?[\s,،]*$|^[\s,،]*$")
_OF_PLACES = _norms(
    "province",
    "district",
    "governorate",
    "city",
    "town",
    "village",
    "area",
    "outskirts",
    "vicinity",
    "intersection",
    "junction",
    "region",
    "suburbs",
    "countryside",
    "entrance",
    "centre",
    "center",
)
_DIRECTIONS = _norms(
    "north",
    "south",
    "east",
    "west",
    "northeast",
    "northwest",
    "southeast",
    "southwest",
    "northern",
    "southern",
    "eastern",
    "western",
    "شمال",
    "شمالي",
    "جنوب",
    "جنوبي",
    "شرق",
    "شرقي",
    "غرب",
    "غربي",
    "شمالا",
    "جنوبا",
    "شرقا",
    "غربا",
)
_TOWARDS = _norms(
    "to",
    "towards",
    "toward",
    "from",
    "for",
    "إلى",
    "الى",
    "نحو",
    "باتجاه",
    "اتجاه",
    "قادم",
    "قادما",
    "متجها",
    "المتجه",
    "المؤدي",
    "من",
    "لقاعدة",
    "destined",
    "bound",
    "heading",
)
_REGION_ADJECTIVES = _norms("northern", "southern", "eastern", "western", "central")
_PAST = re.compile(
    r"\b(?:last\s+(?:week|month)|earlier\s+this\s+(?:week|month)|previous(?:ly)?|a\s+similar\s+attack|"
    r"(?:a\s+)?(?:week|month|year)s?\s+ago)\b|(?<![\u0621-\u064a])(?:[وف]?(?:ال)?اسبوع\s+الماضي|الشهر\s+الماضي|"
    r"سابق|مماثل)"
)
_NEAR_FROM = _norms("بالقرب", "قريبا", "مقربة", "بمقربة")
_ATTACK_STEMS = (
    "attack",
    "ied",
    "bomb",
    "explosi",
    "blast",
    "struck",
    "strike",
    "hit",
    "target",
    "ambush",
    "fire",
    "rocket",
    "rpg",
    "drone",
    "torch",
    "استهدا",
    "استهدف",
    "عبوه",
    "عبوات",
    "عبوتين",
    "انفجار",
    "تفجير",
    "هجوم",
    "قذيف",
    "صاروخ",
    "مسير",
    "كمين",
    "يضرمون",
    "اضرام",
    "احراق",
    "النار",
)
_CONVOY_STEMS = (
    "convoy",
    "column",
    "truck",
    "tanker",
    "رتل",
    "ارتال",
    "قافل",
    "قوافل",
    "شاحن",
    "صهريج",
    "صهاريج",
)
_PLURAL_CONVOYS = re.compile(r"\b(?:convoys|attacks)\b|(?<![\u0621-\u064a])[وب]?(?:ال)?(?:ارتال|قوافل|هجمات)")
_BACKGROUND = re.compile(
    r"\b(?:since|routine|routinely|usually|often|most|dozens|hundreds|have\s+become|rose|risen|increase[ds]?|"
    r"surge[ds]?|statistics|in\s+20\d\d|this\s+(?:month|year|summer|spring|winter|autumn)|so\s+far|such\s+attacks?|"
    r"in\s+(?:january|february|march|april|may|june|july|august|september|october|november|december)(?!\s*\d))\b|"
    r"(?<![\u0621-\u064a])(?:منذ|عاده|غالبا|معظم|عشرات|مئات|ارتفاع|تزايد|هذا\s+الشهر|هذا\s+العام|خلال\s+الشهر)"
)
_COUNTRY_WORDS = (
    ("IQ", re.compile(r"\biraq|(?<![\u0621-\u064a])[وب]?(?:ال)?عراق")),
    ("SY", re.compile(r"\bsyria|(?<![\u0621-\u064a])[وب]?سوري[اه]")),
)

#: "Two convoys were hit in Babil" gives this many events at most when they share one place.
MAX_UNPLACED_COPIES = 5
#: How far (tokens) "north of X" may follow another place and still only describe it.
REFERENCE_GAP = 4


@dataclass(frozen=True, slots=True)
class Mention:
    """A place named in the post, with how likely it is to be where the attack happened."""

    place: Place
    first: int
    last: int
    start: int
    end: int
    sentence: int
    score: float
    hashtag: bool = False
    reference: bool = False

    @property
    def admin1(self) -> str | None:
        return self.place.admin1


@dataclass(frozen=True, slots=True)
class _Site:
    """One attack: its text segment (or None for the whole post) and its best place mention."""

    start: int
    end: int
    mention: Mention | None


@dataclass(frozen=True)
class Extractor:
    """Gazetteer and groups compiled for extraction; ``extract`` is pure."""

    gazetteer: Gazetteer
    groups: Groups
    labeller: Labeller | None = field(default=None, compare=False)

    @property
    def entries(self) -> tuple[TermEntry, ...]:
        """The terms to compile into the shared matcher (places and claimant groups)."""
        return (*self.gazetteer.entries, *self.groups.entries)

    def bind(self, labeller: Labeller) -> Extractor:
        """The same extractor reading per-segment labels from the rule engine."""
        return replace(self, labeller=labeller)

    def extract(
        self, post: Post, doc: Document, hits: Sequence[Hit], classification: Classification
    ) -> tuple[Event, ...]:
        """The events one (relevant) post reports, in the order it reports them."""
        return _Extraction(self, post, doc, list(hits), classification).run()


def load_extractor(gazetteer_dir: Path, groups_file: Path) -> Extractor:
    """Load the gazetteer CSV files of a folder and the groups file; ConfigError on bad data."""
    paths = sorted(gazetteer_dir.glob("*.csv")) if gazetteer_dir.is_dir() else []
    if not paths:
        raise ConfigError("no gazetteer CSV files", file=str(gazetteer_dir))
    return Extractor(load_gazetteer(paths), load_groups(groups_file))


class _Extraction:
    """The working state for one post (kept out of the frozen Extractor)."""

    def __init__(
        self, extractor: Extractor, post: Post, doc: Document, hits: list[Hit], classification: Classification
    ) -> None:
        self.extractor = extractor
        self.post = post
        self.doc = doc
        self.text = doc.text
        self.tokens = doc.tokens
        self.starts = [token.start for token in self.tokens]
        self.hits = hits
        self.classification = classification
        self.reference_date = post.local_date
        self.folded = fold(self.text)
        self.dates = find_dates(self.text, self.reference_date, folded=self.folded)
        self.attack_sentences = self._attack_sentences()
        strong = sorted(sentence for sentence, strength in self.attack_sentences.items() if strength >= 2)
        self.lead_sentence = strong[0] if strong else -1
        self.past_sentences = self._past_sentences()
        self.group_spans = [(hit.start, hit.end) for hit in hits if hit.concept.startswith(GROUP_PREFIX)]
        self.mentions = self._mentions()
        self.claims = find_claims(doc, hits, extractor.groups)

    # -- tokens and sentences ---------------------------------------------------------------

    def _token_at(self, offset: int) -> Token | None:
        if not self.tokens:
            return None
        index = max(0, bisect_right(self.starts, offset) - 1)
        return self.tokens[index]

    def _window(self, start: int, end: int) -> tuple[int, int] | None:
        inside = [token.index for token in self.tokens if start <= token.start < end]
        return (inside[0], inside[-1]) if inside else None

    def _attack_sentences(self) -> dict[int, int]:
        """Sentence -> 2 when it names an attack on a convoy, 1 an attack or a convoy."""
        strength: dict[int, int] = {}
        attack: set[int] = set()
        convoy: set[int] = set()
        for token in self.tokens:
            norm = token.norm
            if any(stem in norm for stem in _ATTACK_STEMS):
                attack.add(token.sentence)
            if any(stem in norm for stem in _CONVOY_STEMS):
                convoy.add(token.sentence)
        for rule_hit in self.classification.hits:
            if rule_hit.weight <= 0:
                continue
            for match in rule_hit.matches:
                matched = self._token_at(match.start)
                if matched is not None:
                    attack.add(matched.sentence)
        for sentence in attack | convoy:
            strength[sentence] = (sentence in attack) + (sentence in convoy)
        return strength

    def _past_sentences(self) -> set[int]:
        """Sentences about earlier attacks ("last week a similar attack ...")."""
        found: set[int] = set()
        for match in _PAST.finditer(self.folded.text):
            start, _ = self.folded.span(match.start(), match.end())
            token = self._token_at(start)
            if token is not None:
                found.add(token.sentence)
        return found

    # -- places -----------------------------------------------------------------------------

    def _place_hits(self) -> list[tuple[Hit, Place]]:
        gazetteer = self.extractor.gazetteer
        found = [(hit, place) for hit in self.hits if (place := gazetteer.place(hit.concept)) is not None]
        kept: list[tuple[Hit, Place]] = []
        for hit, place in found:
            if any(low < hit.end and hit.start < high for low, high in self.group_spans):
                continue  # "قاسم" inside "قاسم الجبارين"
            inside_longer = any(
                other.start <= hit.start
                and hit.end <= other.end
                and (other.end - other.start) > (hit.end - hit.start)
                for other, _ in found
            )
            if inside_longer:
                continue
            if any(other.start == hit.start and other.end == hit.end for other, _ in kept):
                continue
            kept.append((hit, place))
        return kept

    def _is_hashtag(self, start: int) -> bool:
        position = start
        while position > 0 and not self.text[position - 1].isspace():
            position -= 1
        return self.text[position : position + 1] == "#"

    def _norm(self, index: int) -> str:
        return self.tokens[index].norm if 0 <= index < len(self.tokens) else ""

    def _same_sentence(self, index: int, other: int) -> bool:
        return 0 <= other < len(self.tokens) and self.tokens[other].sentence == self.tokens[index].sentence

    def _cue(self, hit: Hit) -> str:
        """How the words around a place name relate it to the attack: locative, direction, towards or none."""
        first = hit.first
        before = self._norm(first - 1) if self._same_sentence(first, first - 1) else ""
        before2 = self._norm(first - 2) if self._same_sentence(first, first - 2) else ""
        before3 = self._norm(first - 3) if self._same_sentence(first, first - 3) else ""
        original = self.text[hit.start : hit.end]
        if before in _REGION_ADJECTIVES and (before2 in _LOCATIVE or before3 in _LOCATIVE):
            return "locative"  # "in the southern Dora district"
        if before in _DIRECTIONS or (before == "of" and before2 in _DIRECTIONS):
            return "direction"
        if before in _norms("مدينة", "محافظة", "قضاء", "مركز") and before2 in _DIRECTIONS:
            return "direction"
        if before in _TOWARDS or before2 in _norms("إلى", "الى", "to", "towards"):
            if before == "من" and before2 in _NEAR_FROM:
                return "locative"
            to_index = first - 1 if before in _TOWARDS else first - 2
            if {self._norm(to_index - 1), self._norm(to_index - 2)} & _ROAD_WORDS:
                return "road_to"  # "on the road (leading) to Camp Taji": near it
            return "towards"
        if before3 in _norms("إلى", "الى") and before2 in _norms("قاعدة", "معسكر"):
            if {self._norm(first - 4), self._norm(first - 5)} & _ROAD_WORDS:
                return "road_to"
            return "towards"
        if before in _LOCATIVE or (before == "of" and before2 in _OF_PLACES):
            return "locative"
        if original[:1] in "بف" and original[1:3] in ("ال", "ا") and _is_arabic(original):
            return "locative"  # بالديوانية: "in Diwaniyah" written as one word
        after = self._norm(hit.last + 1) if self._same_sentence(hit.last, hit.last + 1) else ""
        if after in _AFTER_LOCATIVE:
            return "locative"
        return "none"

    def _mentions(self) -> list[Mention]:
        """The place names that name a place here, each scored as the attack site."""
        pairs = self._place_hits()
        header_limit = self._header_limit()
        raw: list[tuple[Hit, Place, str, bool]] = []
        for hit, place in pairs:
            raw.append((hit, place, self._cue(hit), self._is_hashtag(hit.start)))
        governorates = {place.admin1 for _, place, _, _ in raw if place.is_governorate and place.admin1}
        mentions: list[Mention] = []
        previous_end_token: int | None = None
        previous_sentence: int | None = None
        cues_by_last: dict[int, tuple[int, str]] = {}
        for position, (hit, place, own_cue, hashtag) in enumerate(raw):
            cue = own_cue
            inherited = cues_by_last.get(hit.first - 1)
            if inherited is None and self._norm(hit.first - 1) in _norms("and", "or", "&"):
                inherited = cues_by_last.get(hit.first - 2)
            if cue == "none" and inherited is not None:
                # "in Diwaniyah, Samawah and Babylon", "في بابل وبغداد": a list shares its cue
                between = self.text[inherited[0] : hit.start]
                if _COORDINATION.match(between) or (between.strip() == "" and self.text[hit.start] == "و"):
                    cue = inherited[1]
                    raw[position] = (hit, place, cue, hashtag)
            if not hashtag:
                cues_by_last[hit.last] = (hit.end, cue)
        raw = self._namesakes_as_governorates(raw)
        for hit, place, cue, hashtag in raw:
            if _needs_cue(place, self.text, hit):
                script = "ar" if _is_arabic(self.text[hit.start : hit.end]) else "en"
                if script == "en" and not any(char.isupper() for char in self.text[hit.start : hit.end]):
                    continue
                others = {
                    other.admin1
                    for other_hit, other, _, other_tag in raw
                    if other_hit is not hit and other.admin1 and (other.is_governorate or other_tag)
                }
                if cue != "locative" and place.admin1 not in others:
                    continue
            sentence = self.tokens[hit.first].sentence
            score = 0.0
            reference = False
            if cue == "locative":
                score += 3
            elif cue == "road_to":
                score += 2
            elif cue == "direction":
                near_previous = (
                    previous_end_token is not None
                    and previous_sentence == sentence
                    and hit.first - previous_end_token <= REFERENCE_GAP
                )
                if near_previous:
                    reference = True
                    score -= 1
                else:
                    score += 2.5
            elif cue == "towards":
                score -= 3
            score += self.attack_sentences.get(sentence, 0) * 0.5
            if sentence == self.lead_sentence:
                score += 1  # the first sentence about an attack on a convoy is the report's own
            if sentence in self.past_sentences:
                score -= 2  # "last week a similar attack hit a convoy near X" is background
            if place.kind == "base":
                score -= 2
            if place.is_governorate:
                score -= 0.5
            elif place.admin1 in governorates:
                score += 1
            if place.admin1 is None:
                score -= 1
            if hit.start < header_limit:
                score = min(score, 0.5)
            mentions.append(
                Mention(place, hit.first, hit.last, hit.start, hit.end, sentence, score, hashtag, reference)
            )
            if not hashtag and place.admin1 and place.kind != "road":
                previous_end_token = hit.last
                previous_sentence = sentence
        return mentions

    def _namesakes_as_governorates(
        self, raw: list[tuple[Hit, Place, str, bool]]
    ) -> list[tuple[Hit, Place, str, bool]]:
        """ "in Dhi Qar and Basra": a capital named like its governorate, listed with governorates, is one."""
        out = list(raw)
        governorates = self.extractor.gazetteer.governorates
        for index in range(len(out) - 1):
            (hit_a, place_a, cue_a, tag_a), (hit_b, place_b, cue_b, tag_b) = out[index], out[index + 1]
            between = self.text[hit_a.end : hit_b.start]
            if tag_a or tag_b or not (_COORDINATION.match(between) or between.strip() in ("و", "")):
                continue
            if between.strip() == "" and self.text[hit_b.start] != "و":
                continue
            province_b = governorates.get(place_b.admin1 or "")
            province_a = governorates.get(place_a.admin1 or "")
            if place_a.is_governorate and place_b.namesake and province_b is not None:
                out[index + 1] = (hit_b, province_b, cue_b, tag_b)
            elif place_b.is_governorate and place_a.namesake and province_a is not None:
                out[index] = (hit_a, province_a, cue_a, tag_a)
        return out

    def _header_limit(self) -> int:
        """End offset of a leading dateline/header ("الرطبة |", "Kirkuk:", "SAMAWAH, Iraq –")."""
        first_line_end = self.text.find("\n")
        line = self.text if first_line_end < 0 else self.text[:first_line_end]
        found = re.match(r"^\W{0,6}[^|:\n–\-,.]{1,40}?\s*(?:\||:|\s[–-]\s|,\s*(?:Iraq|Syria)\b)", line)
        if found and len(found.group().split()) <= 6:
            return found.end()
        return 0

    # -- choosing sites ---------------------------------------------------------------------

    def _candidates(self, start: int, end: int) -> list[Mention]:
        return [m for m in self.mentions if start <= m.start < end and not m.hashtag]

    def _best(self, candidates: Sequence[Mention]) -> Mention | None:
        if not candidates:
            return None
        best = max(candidates, key=lambda m: (m.score, m.place.rank, -m.start))
        # Below a governorate, any place in it that is not a destination says more
        # ("Samawah: an IED ... It is the third attack in Muthanna").
        floor = -1.0 if best.place.is_governorate else best.score - 2
        finer = [
            m
            for m in candidates
            if m.admin1 == best.admin1
            and m.place.rank > best.place.rank
            and m.score >= floor
            and not m.reference
            and m.place.kind != "base"
        ]
        if finer and (best.place.rank <= 2 or best.reference):
            return max(finer, key=lambda m: (m.score, m.place.rank, -m.start))
        return best

    def _locations(self, candidates: Sequence[Mention]) -> list[list[Mention]]:
        """Mentions grouped into distinct places (a governorate or "south of X" joins a place in it)."""
        groups: list[list[Mention]] = []
        for mention in sorted(candidates, key=lambda m: m.start):
            home = None
            for group in groups:
                specific = max(group, key=lambda m: m.place.rank)
                if mention.place.id in {m.place.id for m in group}:
                    home = group
                    break
                if mention.admin1 and mention.admin1 == specific.admin1:
                    if _broad(mention.place) or mention.reference or _broad(specific.place):
                        home = group
                        break
                    close = any(
                        m.sentence == mention.sentence and abs(m.first - mention.first) <= REFERENCE_GAP
                        for m in group
                    )
                    if close and min(mention.place.rank, specific.place.rank) <= 2:
                        home = group
                        break
            if home is None:
                groups.append([mention])
            else:
                home.append(mention)
        return groups

    def _sites(self) -> tuple[list[_Site], list[Segment]]:
        """One site per attack, and the segments they came from (empty for the whole post)."""
        items = list_items(self.text)
        segments: list[Segment] = []
        if items:
            segments = [segment for segment in items if self._sited(segment)]
        if len(segments) < 2:
            segments = ordinal_segments(self.text, self.group_spans)
            segments = [segment for segment in segments if self._sited(segment)]
        if len(segments) >= 2:
            sites = [_Site(s.start, s.end, self._best(self._candidates(s.start, s.end))) for s in segments]
            return sites, segments
        candidates = [m for m in self.mentions if not m.hashtag and m.score > 0]
        locations = [group for group in self._locations(candidates) if max(m.score for m in group) >= 1.5]
        count = stated_count(self.text)
        multi = None
        if count is not None and count >= 2 and len(locations) >= 2:
            ranked = sorted(locations, key=lambda g: -max(m.score for m in g))[:count]
            multi = sorted(ranked, key=lambda g: min(m.start for m in g))
        elif count is None or count >= 2:
            multi = self._listed_locations(locations)
        if multi and len(multi) >= 2:
            return self._split_sites(multi), []
        single = _Site(0, len(self.text), self._best([m for m in self.mentions if not m.hashtag]))
        if count is not None and 2 <= count <= MAX_UNPLACED_COPIES and len(locations) <= 1:
            # "Two convoys were targeted in Babil": two attacks, one place known for both
            return [single] * count, []
        return [single], []

    def _sited(self, segment: Segment) -> bool:
        """Whether a list item names a place that can be an attack site (not only a destination)."""
        return any(m.score > -1 for m in self._candidates(segment.start, segment.end))

    def _listed_locations(self, locations: list[list[Mention]]) -> list[list[Mention]] | None:
        """ "IED attacks on convoys in Diwaniyah, Samawah and Babylon": plural convoys, places with cues."""
        background = {sentence for sentence in self._sentences() if self._is_background(sentence)}
        for sentence in sorted({m.sentence for group in locations for m in group}):
            if self.lead_sentence >= 0 and sentence > self.lead_sentence:
                break  # a list of places after the report's own attack is background
            if sentence in background or not _PLURAL_CONVOYS.search(self._sentence_text(sentence)):
                continue
            listed = [
                group
                for group in locations
                if any(m.sentence == sentence and m.score >= 2.5 and not m.reference for m in group)
            ]
            if len(listed) >= 2:
                # the other well-placed sites of the post are attacks too
                return [
                    group
                    for group in locations
                    if any(
                        m.score >= 2.5
                        and not m.reference
                        and m.sentence not in background | self.past_sentences
                        for m in group
                    )
                ]
        return None

    def _sentences(self) -> list[int]:
        return sorted({token.sentence for token in self.tokens})

    def _sentence_text(self, sentence: int) -> str:
        inside = [t for t in self.tokens if t.sentence == sentence]
        return fold(self.text[inside[0].start : inside[-1].end]).text if inside else ""

    def _is_background(self, sentence: int) -> bool:
        return bool(_BACKGROUND.search(self._sentence_text(sentence)))

    def _sentence_bounds(self, sentence: int) -> tuple[int, int]:
        """Original offsets from a sentence's first token to the next sentence's first token."""
        inside = [t for t in self.tokens if t.sentence == sentence]
        after = next((t.start for t in self.tokens if t.sentence > sentence), len(self.text))
        return (inside[0].start, after) if inside else (0, after)

    def _split_sites(self, locations: list[list[Mention]]) -> list[_Site]:
        """Cut the sentences that name the sites so each site has the words before it.

        Text before the first site's sentence and after the last site's sentence is shared
        ("All three were claimed by ...").
        """
        sites = []
        first_sentence = min(m.sentence for m in locations[0] if not m.reference)
        boundary = self._sentence_bounds(first_sentence)[0]
        for index, group in enumerate(locations):
            following = locations[index + 1] if index + 1 < len(locations) else None
            if following is None:
                end = self._sentence_bounds(max(m.sentence for m in group))[1]
            else:
                next_start = min(m.start for m in following)
                before_next = [m.end for m in group if m.end <= next_start]
                end = max(before_next) if before_next else next_start
            best = self._best(group)
            sites.append(_Site(boundary, end, best))
            boundary = end
        return sites

    # -- per-event details ------------------------------------------------------------------

    def _date_in(self, start: int, end: int) -> DateMention | None:
        inside = [d for d in self.dates if start <= d.start < end]
        if not inside:
            return None

        def strength(d: DateMention) -> int:
            token = self._token_at(d.start)
            return self.attack_sentences.get(token.sentence, 0) if token else 0

        strongest = max(strength(d) for d in inside)
        return next(d for d in inside if strength(d) == strongest)

    def _labels(self, start: int, end: int, whole: bool) -> tuple[str, str]:
        labels: Mapping[str, str] = self.classification.labels
        attack = labels.get("attack_type", "unknown")
        target = labels.get("target", "unknown")
        labeller = self.extractor.labeller
        if not whole and labeller is not None:
            window = self._window(start, end)
            if window is not None:
                local = labeller.labels_for(self.doc, self.hits, window[0], window[1])
                if local.get("attack_type", "unknown") != "unknown":
                    attack = local["attack_type"]
                if local.get("target", "unknown") != "unknown":
                    target = local["target"]
        return (
            attack if attack in ATTACK_TYPES else "unknown",
            target if target in TARGETS else "unknown",
        )

    def _country(self, mention: Mention | None) -> str | None:
        if mention is not None:
            return mention.place.country
        countries = {m.place.country for m in self.mentions}
        if len(countries) == 1:
            return countries.pop()
        body = self.folded.text
        found = [code for code, pattern in _COUNTRY_WORDS if pattern.search(body)]
        return found[0] if len(found) == 1 else None

    def _claimant(self, claims: Sequence[Claim]) -> str | None:
        names = list(dict.fromkeys(claim.group for claim in claims))
        return self.extractor.groups.most_specific(names) if names else None

    def run(self) -> tuple[Event, ...]:
        sites, segments = self._sites()
        whole = len(sites) == 1
        if whole:
            site = sites[0]
            date = self._date_in(0, len(self.text))
            casualties = find_casualties(self.text)
            attack, target = self._labels(0, len(self.text), True)
            return (
                self._event(
                    mention=site.mention,
                    date=date,
                    attack=attack,
                    target=target,
                    claimed_by=self._claimant(self.claims),
                    casualties=casualties,
                ),
            )
        shared_ranges = _complement([(site.start, site.end) for site in sites], len(self.text))
        shared_text = " \n ".join(self.text[a:b] for a, b in shared_ranges)
        shared_dates = [d for a, b in shared_ranges if (d := self._date_in(a, b)) is not None]
        shared_date = self._best_shared_date(shared_dates)
        if shared_date is None and sites[-1].mention is not None and sites[-1].start > 0:
            # "الأول في الرميثة والثاني قرب السماوة، يوم السبت": a date closing the list is for all
            last = sites[-1]
            after = last.mention.end if last.mention is not None else last.end
            closing = [d for d in self.dates if after <= d.start < last.end]
            dated = [site for site in sites[:-1] if self._date_in(site.start, site.end) is not None]
            if closing and not dated and not segments_are_lines(segments):
                shared_date = closing[0]
        if not segments_are_lines(segments) and sites[-1].mention is not None:
            # "... والثاني في البصرة، فجر اليوم دون خسائر بشرية": words closing the list are for all
            shared_text += " \n " + self.text[sites[-1].mention.end : sites[-1].end]
        shared_casualties = find_casualties(shared_text) if shared_text.strip() else Casualties()
        refined = self._refinements(sites, shared_ranges)
        claims_for = self._claims_per_site(sites, shared_ranges)
        events = []
        for index, site in enumerate(sites):
            date = self._date_in(site.start, site.end) or shared_date
            casualties = find_casualties(self.text[site.start : site.end])
            if casualties.killed is None and shared_casualties.killed == 0:
                casualties = replace(casualties, killed=0)
            if casualties.injured is None and shared_casualties.injured == 0:
                casualties = replace(casualties, injured=0)
            attack, target = self._labels(site.start, site.end, False)
            mention = refined.get(index, site.mention)
            events.append(
                self._event(
                    mention=mention,
                    date=date,
                    attack=attack,
                    target=target,
                    claimed_by=self._claimant(claims_for[index]),
                    casualties=casualties,
                )
            )
        return tuple(events)

    def _best_shared_date(self, dates: Sequence[DateMention]) -> DateMention | None:
        if not dates:
            return None

        def strength(d: DateMention) -> int:
            token = self._token_at(d.start)
            return self.attack_sentences.get(token.sentence, 0) if token else 0

        strongest = max(strength(d) for d in dates)
        return next(d for d in dates if strength(d) == strongest)

    def _site_index(self, admin1s: set[str], sites: Sequence[_Site]) -> list[int]:
        return [i for i, s in enumerate(sites) if s.mention is not None and s.mention.admin1 in admin1s]

    def _refinements(self, sites: Sequence[_Site], shared: Sequence[tuple[int, int]]) -> dict[int, Mention]:
        """A more specific place in the shared text for the one site of its governorate."""
        refined: dict[int, Mention] = {}
        for start, end in shared:
            for mention in self._candidates(start, end):
                if not mention.admin1 or mention.place.kind == "base":
                    continue
                matching = self._site_index({mention.admin1}, sites)
                if len(matching) != 1:
                    continue
                index = matching[0]
                current = refined.get(index, sites[index].mention)
                if current is not None and mention.place.rank > current.place.rank and index not in refined:
                    refined[index] = mention
        return refined

    def _claims_per_site(
        self, sites: Sequence[_Site], shared: Sequence[tuple[int, int]]
    ) -> list[list[Claim]]:
        per_site: list[list[Claim]] = [[] for _ in sites]
        for claim in self.claims:
            inside = [i for i, s in enumerate(sites) if s.start <= claim.start < s.end]
            if inside and not any(a <= claim.start < b for a, b in shared):
                per_site[inside[0]].append(claim)
                continue
            token = self._token_at(claim.start)
            sentence = token.sentence if token else -1
            admin1s = {
                m.admin1 for m in self.mentions if m.sentence == sentence and m.admin1 and not m.hashtag
            }
            targets = self._site_index(admin1s, sites) if admin1s else []
            for index in targets or range(len(sites)):
                per_site[index].append(claim)
        return per_site

    def _event(
        self,
        *,
        mention: Mention | None,
        date: DateMention | None,
        attack: str,
        target: str,
        claimed_by: str | None,
        casualties: Casualties,
    ) -> Event:
        place = mention.place if mention is not None else None
        named = place is not None and not place.is_governorate
        governorate = (
            self.extractor.gazetteer.governorates.get(place.admin1) if place and place.admin1 else None
        )
        point = place if place is not None and place.lat is not None else governorate
        return Event(
            date=date.date if date is not None else self.reference_date,
            country=self._country(mention),
            admin1=place.admin1 if place else None,
            place=place.name if named and place else None,
            attack_type=attack,
            target=target,
            claimed_by=claimed_by,
            killed=casualties.killed,
            injured=casualties.injured,
            lat=point.lat if point else None,
            lon=point.lon if point else None,
            place_ar=place.name_ar if named and place else None,
        )


def _broad(place: Place) -> bool:
    """A governorate, or a city that posts use for its namesake governorate ("in Babil and Baghdad")."""
    return place.is_governorate or place.namesake


def _complement(ranges: Sequence[tuple[int, int]], length: int) -> list[tuple[int, int]]:
    out = []
    position = 0
    for start, end in sorted(ranges):
        if start > position:
            out.append((position, start))
        position = max(position, end)
    if position < length:
        out.append((position, length))
    return out


def _is_arabic(text: str) -> bool:
    return any("\u0600" <= char <= "\u06ff" for char in text)


def _needs_cue(place: Place, text: str, hit: Hit) -> bool:
    """Whether this spelling of the place is also a common word or name (one word, flagged script)."""
    span = text[hit.start : hit.end]
    script = "ar" if _is_arabic(span) else "en"
    if script not in place.ambiguous:
        return False
    words = [word for word in re.split(r"[\s\-_'’]+", span) if word and word.casefold() not in ("al", "el")]
    return len(words) <= 1


__all__ = ["PLACE_PREFIX", "Extractor", "Labeller", "Mention", "load_extractor"]
