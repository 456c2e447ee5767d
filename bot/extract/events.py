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

import datetime as dt
import difflib
import re
from bisect import bisect_left, bisect_right, insort
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, cached_property
from itertools import pairwise
from pathlib import Path
from typing import Protocol

from bot.errors import ConfigError
from bot.extract.actors import GROUP_PREFIX, Claim, Groups, find_claims, load_groups, transliterated_hits
from bot.extract.dates import DateMention, find_dates
from bot.extract.folding import fold
from bot.extract.gazetteer import PLACE_PREFIX, Gazetteer, Place, load_gazetteer
from bot.extract.numbers import Casualties, find_casualties
from bot.extract.spans import (
    Overlaps,
    between,
    line_start,
    strictly_inside,
    whitespace_offsets,
    word_start,
)
from bot.extract.split import Segment, list_items, ordinal_segments, segments_are_lines, stated_count
from bot.model import ATTACK_TYPES, TARGETS, Classification, Event, Post
from bot.rules.matcher import Hit, TermEntry
from bot.rules.text import Document, Token, normalise


class Labeller(Protocol):
    """What the rule engine offers the extractor: its labels over a window of tokens."""

    def labels_for(self, doc: Document, hits: Sequence[Hit], first: int, last: int) -> Mapping[str, str]: ...


@cache  # also called per place name with constant words
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
    "جسر",
    "مدخل",
    "محافظة",
    "بمحافظة",
    "ريف",
    # the same with "ب" (in/at) joined: "بطريق صفوان", "بأطراف سامراء"; Iraqi "يم" (beside)
    "بطريق",
    "بحي",
    "بجسر",
    "بمنفذ",
    "بتقاطع",
    "بمفرق",
    "بسيطرة",
    "بمدخل",
    "بأطراف",
    "بريف",
    "بمحيط",
    "بمركز",
    "يم",
    "كرب",  # Iraqi گرب (near), folded
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
    "expressway",
    "motorway",
    "freeway",
)
_ROUTE_AFTER = _norms("road", "highway", "expressway", "motorway", "freeway", "route")
_ROUTE_BEFORE = _norms("طريق", "الطريق", "وطريق", "بطريق", "road", "highway")
_ROUTE_JOINERS = frozenset(("", "-", "/", "و", "to", "and", "&"))
_BETWEEN = _norms("بين", "between")
#: "وقاعدة", "and the ... base": the kind of site named before a road's second end.
_SITE_WORD_AFTER_AND = re.compile(r"^(و|and)\s*(?:the\s+)?(?:ال)?(?:قاعدة|قاعده|حقل|معسكر|مطار|base|camp)$")
#: "RPG, not IED", "صاروخ وليس عبوة": the word after it is not what happened.
_NEGATING = _norms("not", "ليس", "وليس", "لا")
_NEAR_WORDS = _norms("near", "outside", "قرب", "وقرب", "بالقرب", "محيط", "عند", "كرب", "يم")
_BASE_WORDS = re.compile(
    r"\b(?:bases?|air\s*base|airbase|airport|airfield|embassy|garrison|camp)\b|"
    r"(?<![\u0621-\u064a])[وب]?(?:ال)?(?:قاعده|مطار|السفاره|معسكر)(?![\u0621-\u064a])"
)
_POSSESSIVE_CONVOY = re.compile(
    r"\b(?:their|its)\s+(?:own\s+)?(?:convoy|convoys|column|vehicles)\b|"
    r"(?<![\u0621-\u064a])(?:رتلهم|رتلها|ارتالهم|ارتالها|قافلتهم|قافلتها|رتل\w*\s+(?:لهم|لها|تابع\w*\s+لهم|تابع\w*\s+لها))"
)
_ROAD_WORDS = _norms(
    "road", "route", "highway", "way", "طريق", "الطريق", "المؤدي", "المؤدية", "الطريق المؤدي"
)
#: ", and" / "، و" between two places: a list of places, not a place and where it lies.
_LIST_AND = re.compile(r"[,\u060c]\s*(?:and|or|و)\b|[,\u060c]\s*و")
_COORDINATION = re.compile(r"^[\s,،]*(?:and|&|or)?[\s,،]*$|^[\s,،]*$")
#: Between a place and the governorate a post files it under: "Makhmour district, Erbil province".
_DISTRICT_OF = re.compile(
    r"\s*(?:(?:district|sub-?district|area|town)\s*)?[,،]\s*(?:in\s+)?|\s+in\s+|\s*[،,]?\s*(?:قضاء\s+|ناحية\s+)?(?:في\s+)?"
)
_PROVINCE_WORDS = _norms("province", "governorate")
#: A list line whose report was denied or whose bomb was defused reports no attack.
_DISMISSED = re.compile(
    r"\b(?:denied\s+by|not\s+counted|no\s+convoy\s+involve(?:ment|d)|(?:was\s+)?debunked|rendered\s+safe|defused\s+by|(?:found|cleared)\s+and\s+"
    r"(?:defused|removed|rendered\s+safe))\b|(?<![\u0621-\u064a])(?:لا\s+صحه|نفت\s+(?:خليه\s+الاعلام\s+الامني|"
    r"القياده|الشرطه|الوزاره)|تم\s+تفكيك|فككت)(?![\u0621-\u064a])"
)
#: What a list line may report an attack on instead of a convoy: a pipeline, a private car, a drone
#: shot down, a pylon.
_OTHER_OBJECT = re.compile(
    r"\b(?:pipelines?|suvs?|private\s+(?:car|vehicle)s?|civilian\s+(?:car|vehicle)s?|shot\s+down|pylons?|"
    r"power\s+lines?|c-ram)\b|(?<![\u0621-\u064a])(?:ال)?(?:انبوب|خط\s+(?:ال)?نفط|سياره\s+(?:ال)?مدنيه|"
    r"سياره\s+(?:ال)?خاصه|اسقاط|برج)(?![\u0621-\u064a])"
)
#: A colon right after a name: "١. بلد: عبوة ناسفة ..." labels a list line with its place.
_LABEL_AFTER = re.compile(r"\s*:")
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
#: "It is the second attack ... in 48 hours", "وهو ثاني استهداف ... خلال": a tally of earlier attacks;
#: places and dates after it in its sentence are about those ("after one near Afak on Sunday").
_TALLY_CLAUSE = re.compile(
    r"\b(?:the|its|a)\s+(?:second|third|fourth|fifth|sixth|seventh|\d+(?:st|nd|rd|th))\s+(?:such\s+)?"
    r"(?:attack|strike|bombing|ied|incident)s?\b(?=.{0,60}?\b(?:of\s+its\s+kind|such|in\s+(?:\d+|two|three|four|"
    r"five|a)\s+(?:hours?|days?|weeks?)|this\s+(?:week|month|year)|within|since|in\s+less\s+than)\b)|"
    r"(?<![\u0621-\u064a])(?:ثاني|ثالث|رابع|خامس|سادس|سابع)\s+(?:استهداف|هجوم|عمليه|اعتداء)(?![\u0621-\u064a])|"
    r"(?<![\u0621-\u064a])(?:ال)?(?:استهداف|هجوم|عمليه)\s+ال(?:ثاني|ثالث|رابع|خامس|سادس)(?=\s+(?:من\s+نوعه|خلال|منذ))"
)
#: "... near Basra and another near Zubair", "الأول في البصرة والآخر في الزبير"
_ANOTHER_ONE = re.compile(
    r"\b(?:another|the\s+other|a\s+second|the\s+second)\b|"
    r"(?<![\u0621-\u064a])[وف]?(?:ال)?(?:اخر|اخري|ثاني|ثانيه)(?![\u0621-\u064a])"
)
_DEFUSED = re.compile(
    r"\b(?:defus|dismantl|disarm|detonated\s+in\s+a\s+controlled|found\s+and\s+removed|foiled)|"
    r"(?<![\u0621-\u064a])(?:فكك|تفكيك|ابطال|بتفكيك|وفككت|فككت|احباط)"
)
#: Words of a bomb that went off or an attack that struck: a sentence with them reports an attack
#: even when it also tells of a second device defused.
_WENT_OFF = re.compile(
    r"\b(?:explo(?:ded|sion)|went\s+off|blast|struck|hit|hits|targeted|ambushed|fired|wounding|killing|"
    r"damag(?:ed|ing))\b|(?<![\u0621-\u064a])[وف]?(?:انفجر|انفجرت|انفجار|استهدف|استهدفت|استهداف|طال|اصابه|مقتل)"
    r"(?![\u0621-\u064a])"
)
_SIMILAR = re.compile(r"a\s+similar\s+attack|مماثل")
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
    "burn",
    "blaze",
    "استهدا",
    "استهدف",
    "عبوه",
    "عبوات",
    "عبوتين",
    "عبوت",
    "ناسف",
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
    "حرق",
    "احتراق",
    "النار",
)
#: Rule-engine concepts that name an attack or a weapon.
_ATTACK_CONCEPTS = frozenset(
    ("attack", "explosion", "ied", "rocket", "drone", "gunfire", "arson", "unknown_cause")
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
#: A word that starts with a convoy stem ("trucks", "والرتل"; not "struck").
_CONVOY_WORD = re.compile(r"(?<![^\W\d_])(?:[وفبل]?(?:ال|لل)?)(?:" + "|".join(_CONVOY_STEMS) + ")")
_PLURAL_CONVOYS = re.compile(
    r"\b(?:convoys|attacks|and\s+another|another\s+one)\b|(?<![\u0621-\u064a])[وب]?(?:ال)?(?:ارتال|قوافل|هجمات)|"
    r"(?<![\u0621-\u064a])و(?:ال)?اخري?(?![\u0621-\u064a])"  # "... في الزبير، وآخر في أبي الخصيب"
)
#: A clause that tells what came after the report's first attack ("تلتها", "followed by", "ثم").
_SEQUEL = re.compile(
    r"\b(?:followed\s+by|then|after\s+which|later)\b|"
    r"(?<![\u0621-\u064a])(?:[وف]?(?:تلته|تلتها|تلاه|تلاها|تبعته|تبعتها|اعقبته|اعقبتها|ثم|بعدها|لاحقا|وبعد\s+"
    r"(?:ساعه|ساعتين|ساعات|دقائق|قليل)))(?![\u0621-\u064a])"
)
#: A sentence that adds one more attack to the report's first ("In another attack", "وفي هجوم آخر",
#: "كما استُهدف رتل ثالث", "A second convoy was hit").
_ANOTHER = re.compile(
    r"\b(?:in\s+(?:another|a\s+separate|a\s+second|a\s+similar)\s+(?:attack|incident|strike|bombing)|"
    r"another\s+(?:convoy|column|attack|ied|bomb|explosion)|(?:a|the)\s+(?:second|third|fourth)\s+"
    r"(?:convoy|column|attack|ied|bomb|explosion)|separately)\b|"
    r"(?<![\u0621-\u064a])(?:[وف]?في\s+|[وف])?(?:هجوم|استهداف|رتل|رتلا|حادث|عمليه|انفجار|عبوه)\s+"
    r"(?:اخر|اخري|ثان|ثاني|ثانيه|ثالث|ثالثه|رابع|منفصل)(?![\u0621-\u064a])|"
    r"(?<![\u0621-\u064a])[وف]?كما\s+(?:استهدف|تعرض|انفجرت|انفجر|استهدفت|هاجم|تم)|"
    r"(?<![\u0621-\u064a])[وف]?في\s+سياق\s+متصل"
)
#: "ورتل ثاني انضرب بنفس اليوم بالحمزة", "and a second convoy was hit near X": one more convoy
#: attacked, told in the same sentence without a word of sequence.
_ANOTHER_CONVOY = re.compile(
    r"\b(?:and\s+)?(?:another|a\s+second|a\s+third)\s+(?:convoy|column)\s+(?:was|were|got)\s+"
    r"(?:hit|struck|targeted|attacked|ambushed)\b|"
    r"(?<![\u0621-\u064a])[وف](?:رتل|قافله)\s+(?:اخر|ثاني|ثان|ثالث)\s+(?:انضرب|ضربوه|استهدف|تعرض|انستهدف|طكت)"
)
#: "The attack took place last Thursday", "وقع الهجوم يوم الخميس": the date that follows is the attack's.
_OCCURRED = re.compile(
    r"\b(?:took\s+place|happened|occurred|was\s+carried\s+out|was\s+conducted|was\s+filmed|dates\s+from)\b"
    r"[^.!?\n]{0,15}$|(?<![\u0621-\u064a])(?:وقع|وقعت|جري|حدث|نفذ|نفذت|تم\s+تنفيذ)(?![\u0621-\u064a])[^.!?\n]{0,25}$"
)
#: "... in the second attack", "في الهجوم الأول": a sentence about one attack of a list.
_EN_ORDINAL_WORDS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5}
_AR_ORDINAL_WORDS = {"اول": 1, "ثاني": 2, "ثالث": 3, "رابع": 4, "خامس": 5}
_POINTED = re.compile(
    r"\b(?:in|during|by|from)\s+the\s+(?P<en>first|second|third|fourth|fifth)"
    r"\s+(?:attack|convoy|blast|bombing|incident|one|strike)\b|"
    r"(?<![\u0621-\u064a])[وفب]?(?:في|ب)?\s*(?:ال)?(?:هجوم|انفجار|استهداف|رتل|عمليه)\s+ال(?P<ar>اول|ثاني|ثالث|رابع|خامس)"
    r"(?![\u0621-\u064a])"
)
#: "Five attacks since Sunday", "منذ يوم الأحد": where a tally starts, not an attack date.
_SINCE = re.compile(r"\b(?:since|until|till)\s+(?:last\s+)?$|(?<![\u0621-\u064a])(?:منذ|حتي)\s+(?:يوم\s+)?$")
#: "Footage released today", "نشرت اليوم": the date of the publication, not of the attack.
#: "ISIS on Monday claimed three attacks": the date a verb of saying follows is the report's.
_ANNOUNCED_AFTER = re.compile(
    r"\s*,?\s*(?:claimed|said|announced|reported|released|published|issued|posted)\b"
)
#: "BAGHDAD, Dec 8 – ...": a capitalised place opening the line, then the date and a dash.
_DATELINE_BEFORE = re.compile(r"\s*[A-Z][A-Za-z .'\-]*,\s*(?:[A-Z][A-Za-z .'\-]*,\s*)?")
_DASH_AFTER = re.compile(r"\s*(?:\(\w+\)\s*)?[\-\u2013\u2014]")
_PUBLISHED = re.compile(
    r"\b(?:released|published|posted|shared|aired|issued)\s*$|"
    r"(?<![\u0621-\u064a])(?:نشر|نشرت|بثت|بث|اصدر|اصدرت)(?:ه|ها)?\s*$"
)
#: "X claimed responsibility on Friday for ... on Thursday night", "تبنت X يوم الاثنين": the day of
#: the claim, not of the attack.
_CLAIMED_ON = re.compile(
    r"\b(?:claimed|claims|claiming)(?:\s+responsibility)?\s+(?:on\s+)?$|"
    r"(?<![\u0621-\u064a])[وف]?(?:تبنت|تبني|اعلنت|اعلن)(?:\s+(?!ان\b|انه\b|عن\b|استهد|تعرض)[\u0621-\u064a]+){0,3}?\s+(?:يوم\s+)?$"
)
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

_LETTER = re.compile(r"[^\W\d_]")
_CLAUSE_BREAK = re.compile(r"[,;\u060c\u061b]|\s(?=and\s|while\s|whereas\s|و)")
#: "Two convoys were hit in Babil" gives this many events at most when they share one place.
#: A parenthesis ("(no casualties, per coalition)") and where the clause before it starts.
_PARENTHESIS = re.compile(r"\([^()\n]{1,200}\)")
_CLAUSE_START = re.compile(r"[.:;!?\u060c\u061b\u061f\n|]|,\s*(?:and|while|but)\b|\band\s+separately\b")
#: How far back (characters) the clause before a parenthesis is looked for.
CLAUSE_LETTERS = 160
MAX_UNPLACED_COPIES = 5
_GENERIC_PLACE_WORDS = re.compile(
    r"\b(?:district|sub-?district|province|governorate|city|town|village|area|mountains?|refinery|"
    r"air\s*base|airbase|base|camp|airport|airstrip|field|fields|crossing|junction|road|highway|"
    r"expressway|bridge|landing|zone|complex|plant|station|port|dam|lake|valley|garrison|range|hills?)\b",
    re.IGNORECASE,
)
#: Below this likeness (difflib ratio of simplified names) an English name is another name.
OTHER_NAME_RATIO = 0.75
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
    cue: str = "none"
    #: the gazetteer spelling found (a matcher term): "الحمزة" names Hamzah al-Sharqi as "Hamzah"
    term: str = ""

    @property
    def admin1(self) -> str | None:
        return self.place.admin1


class _Location:
    """Mentions of one distinct place (``_locations``), with what joining it depends on."""

    def __init__(self, mention: Mention) -> None:
        self.members = [mention]
        self.ids = {mention.place.id}
        #: the first of the highest rank, as ``max`` gives it
        self.specific = mention
        #: the first of the furthest end, as ``max`` gives it
        self.last = mention
        self.governorate = mention.place.is_governorate
        #: sentence -> (first token, member number) of its members, sorted
        self.by_sentence: dict[int, list[tuple[int, int]]] = {mention.sentence: [(mention.first, 0)]}

    def add(self, mention: Mention) -> None:
        self.members.append(mention)
        self.ids.add(mention.place.id)
        if mention.place.rank > self.specific.place.rank:
            self.specific = mention
        if mention.end > self.last.end:
            self.last = mention
        self.governorate = self.governorate or mention.place.is_governorate
        insort(self.by_sentence.setdefault(mention.sentence, []), (mention.first, len(self.members) - 1))

    def near(self, sentence: int, first: int, last: int) -> list[Mention]:
        """The members in a sentence whose first token is in ``first..last``."""
        members = self.by_sentence.get(sentence, [])
        low, high = bisect_left(members, (first, -1)), bisect_right(members, (last, len(self.members)))
        return [self.members[number] for _, number in members[low:high]]


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
        # Tokens are in text order and their sentence numbers never decrease: a sentence's
        # tokens, or the tokens between two offsets, are a slice found by bisection.
        self.starts = [token.start for token in self.tokens]
        self.sentence_numbers = [token.sentence for token in self.tokens]
        self._sentence_texts: dict[int, str] = {}
        self._backgrounds: dict[int, bool] = {}
        self._stem_memo: dict[str, tuple[bool, bool]] = {}
        self._sentence_matches: dict[tuple[str, int], bool] = {}
        self._sentence_counts: dict[int, int | None] = {}
        self._first_letters: dict[int, int] = {}
        self.hits = hits + transliterated_hits(doc, hits, extractor.groups)
        self.classification = classification
        self.reference_date = post.local_date
        self.folded = fold(self.text)
        # "the second attack in 48 hours, after one near Afak on Sunday": what follows is earlier
        self.tallies: list[int] = sorted(
            self.folded.span(match.start(), match.end())[0]
            for match in _TALLY_CLAUSE.finditer(self.folded.text)
        )
        self.dates = [
            d
            for d in find_dates(self.text, self.reference_date, folded=self.folded)
            if not _SINCE.search(self._folded_text(max(0, d.start - 12), d.start))
            and not self._after_tally(d.start)
        ]
        self.date_starts = [d.start for d in self.dates]  # in text order, as find_dates gives them
        self.attack_sentences = self._attack_sentences()
        strong = sorted(sentence for sentence, strength in self.attack_sentences.items() if strength >= 2)
        # "In Anbar, a device was defused on a road used by supply trucks. In Diyala, a device
        # exploded as a convoy passed": a bomb defused reports no attack; the report is the next one
        struck = [
            sentence
            for sentence in strong
            if sentence not in self._defused_sentences or self._sentence_has(_WENT_OFF, sentence)
        ]
        self.lead_sentence = (struck or strong or [-1])[0]
        self.past_sentences = self._past_sentences()
        self.group_spans = [(hit.start, hit.end) for hit in self.hits if hit.concept.startswith(GROUP_PREFIX)]
        self.mentions = self._mentions()
        self.claims = find_claims(doc, self.hits, extractor.groups)
        #: Round-up lines that report no attack on a convoy: neither events nor shared text.
        self.dropped: list[tuple[int, int]] = []

    # -- tokens and sentences ---------------------------------------------------------------

    def _token_at(self, offset: int) -> Token | None:
        if not self.tokens:
            return None
        index = max(0, bisect_right(self.starts, offset) - 1)
        return self.tokens[index]

    def _window(self, start: int, end: int) -> tuple[int, int] | None:
        inside = between(self.starts, start, end)
        return (self.tokens[inside[0]].index, self.tokens[inside[-1]].index) if inside else None

    def _folded_text(self, start: int, end: int) -> str:
        """``fold(self.text[start:end]).text``, cut from the folded whole (folding is per character)."""
        folded = self.folded
        return folded.text[folded.position(start) : folded.position(end)]

    def _stems(self, norm: str) -> tuple[bool, bool]:
        """Whether a word holds an attack stem, and whether it holds a convoy stem."""
        known = self._stem_memo.get(norm)
        if known is None:
            known = self._stem_memo[norm] = (
                any(stem in norm for stem in _ATTACK_STEMS),
                any(stem in norm for stem in _CONVOY_STEMS),
            )
        return known

    def _attack_sentences(self) -> dict[int, int]:
        """Sentence -> 2 when it names an attack on a convoy, 1 an attack or a convoy."""
        strength: dict[int, int] = {}
        attack: set[int] = set()
        convoy: set[int] = set()
        for token in self.tokens:
            has_attack, has_convoy = self._stems(token.norm)
            if has_attack:
                attack.add(token.sentence)
            if has_convoy:
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
        """Sentences about earlier attacks ("last week a similar attack ...") or a bomb defused."""
        found: set[int] = set()
        for match in _PAST.finditer(self.folded.text):
            start, _ = self.folded.span(match.start(), match.end())
            token = self._token_at(start)
            if token is None:
                continue
            if token.sentence in found:
                continue
            if _SIMILAR.fullmatch(match.group()) and self._sentence_has(_ANOTHER, token.sentence):
                continue  # "رتلاً آخر تعرض لهجوم مماثل": another convoy, hit the same way, now
            found.add(token.sentence)
        # "Police later defused a second IED near X": no attack there
        found.update(sentence for sentence in self._defused_sentences if sentence != self.lead_sentence)
        return found

    @cached_property
    def _defused_sentences(self) -> set[int]:
        """Sentences that tell of a bomb defused or an attack foiled."""
        found: set[int] = set()
        for match in _DEFUSED.finditer(self.folded.text):
            token = self._token_at(self.folded.span(match.start(), match.end())[0])
            if token is not None:
                found.add(token.sentence)
        return found

    # -- places -----------------------------------------------------------------------------

    def _place_hits(self) -> list[tuple[Hit, Place]]:
        gazetteer = self.extractor.gazetteer
        found = [(hit, place) for hit in self.hits if (place := gazetteer.place(hit.concept)) is not None]
        names = Overlaps(self.group_spans)
        inside_longer = strictly_inside([(hit.start, hit.end) for hit, _ in found])
        kept: list[tuple[Hit, Place]] = []
        spans: set[tuple[int, int]] = set()
        for (hit, place), inside in zip(found, inside_longer, strict=True):
            if names.hit(hit.start, hit.end):
                continue  # "قاسم" inside "قاسم الجبارين"
            if inside or (hit.start, hit.end) in spans:
                continue
            spans.add((hit.start, hit.end))
            kept.append((hit, place))
        return kept

    @cached_property
    def _spaces(self) -> list[int]:
        return whitespace_offsets(self.text)

    @cached_property
    def _newlines(self) -> list[int]:
        return [match.start() for match in re.finditer("\n", self.text)]

    def _is_hashtag(self, start: int) -> bool:
        position = word_start(self._spaces, start)
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
        if before in ("al", "el"):
            # "near al-Rumaitha" where the name is listed without its article
            before4 = self._norm(first - 4) if self._same_sentence(first, first - 4) else ""
            before, before2, before3 = before2, before3, before4
        if before == "the":
            # "near the Kharab al-Jir airstrip", "in the Rmelan countryside"
            before4 = self._norm(first - 4) if self._same_sentence(first, first - 4) else ""
            before, before2, before3 = before2, before3, before4
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
        if before == "by" and before2 in _ROUTE_AFTER:
            return "locative"  # "on the expressway by Taji": beside it
        if _LABEL_AFTER.match(self.text, hit.end) and self._heads_line(hit):
            return "locative"  # "١. بلد: عبوة ناسفة على رتل": a list line labelled with its place
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
            cue = self._cue(hit)
            # "IED hits a convoy in #Yusufiyah": a hashtag the sentence runs through names the site
            raw.append((hit, place, cue, self._is_hashtag(hit.start) and cue != "locative"))
        governorates = {place.admin1 for _, place, _, _ in raw if place.is_governorate and place.admin1}
        mentions: list[Mention] = []
        previous_end_token: int | None = None
        previous_sentence: int | None = None
        cues_by_last: dict[int, tuple[int, str]] = {}
        previous_near: tuple[int, str | None, int] | None = None
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
        raw = self._route_endpoints(raw)
        raw = self._qualified(raw)
        raw = self._restated_governorate(raw)
        # governorates and hashtags by admin1: "X in Basra" keeps an ambiguous X of Basra
        marked = Counter(
            other.admin1
            for _, other, _, other_tag in raw
            if other.admin1 and (other.is_governorate or other_tag)
        )
        # "طريق الزبير - صفوان": two ends of one road in one governorate vouch for each other
        route_admin1 = Counter(place.admin1 for _, place, cue, _ in raw if cue == "route" and place.admin1)
        for hit, place, cue, hashtag in raw:
            paired_route = cue == "route" and route_admin1[place.admin1 or ""] >= 2
            if _needs_cue(place, self.text, hit) and not paired_route:
                script = "ar" if _is_arabic(self.text[hit.start : hit.end]) else "en"
                if script == "en" and not any(char.isupper() for char in self.text[hit.start : hit.end]):
                    continue
                itself = bool(place.admin1) and (place.is_governorate or hashtag)
                others = marked[place.admin1] - itself if place.admin1 else 0
                if cue not in ("locative", "road_to") and others <= 0:
                    continue  # "on the road leading to (the town of) al-Hol" names it as "near" does
            sentence = self.tokens[hit.first].sentence
            score = 0.0
            reference = False
            if cue == "locative" and self._inside_previous(hit, previous_near, sentence, place):
                # "near the Kharab al-Jir airstrip in the Rmelan countryside": the area it lies in
                reference = True
                score -= 1
            elif cue == "locative":
                score += 3
            elif cue == "road_to":
                score += 2
            elif cue == "direction":
                near_previous = (
                    previous_end_token is not None
                    and previous_sentence == sentence
                    and hit.first - previous_end_token <= REFERENCE_GAP
                    # "..., by Taji, and south of Hillah": a list's next place, not where Taji lies
                    and not _LIST_AND.search(self.text[self.tokens[previous_end_token].end : hit.start])
                )
                if near_previous:
                    reference = True
                    score -= 1
                else:
                    score += 2.5
            elif cue == "towards":
                score -= 3
            elif cue == "route":
                # an end of "the Kirkuk-Sulaimani road": where the road runs; a place on it is better
                reference = True
                score -= 1
            score += self.attack_sentences.get(sentence, 0) * 0.5
            if sentence == self.lead_sentence:
                score += 1  # the first sentence about an attack on a convoy is the report's own
            if sentence in self.past_sentences:
                score -= 2  # "last week a similar attack hit a convoy near X" is background
            if self._after_tally(hit.start):
                reference = True  # "..., the third such attack this week after one near X"
                score -= 4
            if place.kind == "base" and cue != "route":
                # "near the Conoco field" is where it happened; "a convoy for Ain al-Asad" is not;
                # "the road between the Omar field and Conoco" runs there
                near = cue == "locative" and self._norm(hit.first - 1) in _NEAR_WORDS
                score -= 0.5 if near else 2
            if place.is_governorate:
                score -= 0.5
            elif place.admin1 in governorates:
                score += 1
            if place.admin1 is None:
                score -= 1
            if hit.start < header_limit:
                score = min(score, 0.5)
            mentions.append(
                Mention(
                    place,
                    hit.first,
                    hit.last,
                    hit.start,
                    hit.end,
                    sentence,
                    score,
                    hashtag,
                    reference,
                    cue,
                    hit.term,
                )
            )
            if not hashtag and place.admin1 and place.kind == "road" and cue in ("none", "locative"):
                # "على طريق محمد القاسم في بغداد": the city right after a road in it is where it runs
                previous_near = (hit.last, place.admin1, sentence)
            if not hashtag and place.admin1 and place.kind != "road":
                previous_end_token = hit.last
                previous_sentence = sentence
                near = cue == "route" or (
                    cue == "locative"
                    and bool(
                        {self._norm(hit.first - 1), self._norm(hit.first - 2)} & (_NEAR_WORDS | _BETWEEN)
                    )
                )
                previous_near = (hit.last, place.admin1, sentence) if near else None
        return mentions

    def _after_tally(self, offset: int) -> bool:
        """Whether a tally ("the second attack in 48 hours") precedes ``offset`` in its sentence."""
        token = self._token_at(offset)
        if token is None:
            return False
        low = self._sentence_bounds(token.sentence)[0]
        return bool(between(self.tallies, low, offset))

    def _inside_previous(
        self, hit: Hit, previous_near: tuple[int, str | None, int] | None, sentence: int, place: Place
    ) -> bool:
        """Whether "in (the) X" follows "near Y" closely, in the same governorate: X contains Y."""
        if previous_near is None or place.is_governorate:
            return False
        last, admin1, near_sentence = previous_near
        before = self._norm(hit.first - 1)
        if before == "the":
            before = self._norm(hit.first - 2)
        return (
            near_sentence == sentence
            and admin1 == place.admin1
            and hit.first - last <= REFERENCE_GAP
            and before in _norms("in", "في", "ب")
        )

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

    def _restated_governorate(
        self, raw: list[tuple[Hit, Place, str, bool]]
    ) -> list[tuple[Hit, Place, str, bool]]:
        """ "Makhmour district, Erbil province": a disputed place the post files under another
        governorate is where the post says it is."""
        out = list(raw)
        for index in range(len(out) - 1):
            (hit_a, place_a, cue_a, tag_a), (hit_b, place_b, _, tag_b) = out[index], out[index + 1]
            if tag_a or tag_b or place_a.is_governorate or not place_b.is_governorate:
                continue
            if (
                place_a.admin1 is None
                or place_b.admin1 in (None, place_a.admin1)
                or place_a.country != place_b.country
            ):
                continue
            if not _DISTRICT_OF.fullmatch(self.text[hit_a.end : hit_b.start]):
                continue
            named = self.text[hit_b.start : hit_b.end].casefold()
            after = self._norm(hit_b.last + 1)
            if (
                any(word in named for word in ("province", "governorate", "محافظة"))
                or after in _PROVINCE_WORDS
            ):
                out[index] = (hit_a, replace(place_a, admin1=place_b.admin1), cue_a, tag_a)
        return out

    def _qualified(self, raw: list[tuple[Hit, Place, str, bool]]) -> list[tuple[Hit, Place, str, bool]]:
        """ "الزبير / البصرة", "Zubair (Basra)": a name followed by its own governorate is a place."""
        out = list(raw)
        for index in range(len(out) - 1):
            (hit_a, place_a, cue_a, tag_a), (hit_b, place_b, _, tag_b) = out[index], out[index + 1]
            if tag_a or tag_b or cue_a != "none" or place_a.is_governorate or place_a.admin1 is None:
                continue
            if place_b.admin1 != place_a.admin1 or not (place_b.is_governorate or place_b.namesake):
                continue
            if self.text[hit_a.end : hit_b.start].strip() in ("/", ",", "،", "(", "-", "\u2013", "|"):
                out[index] = (hit_a, place_a, "locative", tag_a)
        return out

    def _route_endpoints(self, raw: list[tuple[Hit, Place, str, bool]]) -> list[tuple[Hit, Place, str, bool]]:
        """ "the Erbil-Koya road", "طريق الكوت - العمارة", "الطريق الرابط بين خانقين وكلار": the
        two ends of a road name where it runs, not where the attack was."""
        out = list(raw)
        for index in range(len(out) - 1):
            (hit_a, place_a, _, tag_a), (hit_b, place_b, _, tag_b) = out[index], out[index + 1]
            if tag_a or tag_b or place_a.is_governorate or place_b.is_governorate:
                continue
            if not self._same_sentence(hit_a.first, hit_b.first):
                continue
            between = self.text[hit_a.end : hit_b.start].strip().casefold()
            between = re.sub(r"[\u2010-\u2015\u2212]", "-", between)
            between = _SITE_WORD_AFTER_AND.sub(r"\1", between)  # "بين حقل العمر وقاعدة كونيكو"
            if between not in _ROUTE_JOINERS:
                continue
            if between == "-" and self._heads_line(hit_a) and self.text[hit_a.end : hit_b.start] != "-":
                continue  # "• Nasiriyah – Suq al-Shuyukh road": a list line's place, then its road
            before = {self._norm(hit_a.first - 1), self._norm(hit_a.first - 2), self._norm(hit_a.first - 3)}
            road_before = bool(before & _ROUTE_BEFORE)
            road_after = self._norm(hit_b.last + 1) in _ROUTE_AFTER
            between_words = road_before and self._norm(hit_a.first - 1) in _norms("بين", "between")
            joined = between == "" and self.text[hit_b.start] == "و" and road_before
            if between in ("and", "&", "و", "") and not between_words and not joined:
                continue
            if road_before or road_after:
                out[index] = (hit_a, place_a, "route", tag_a)
                out[index + 1] = (hit_b, place_b, "route", tag_b)
        for index, (hit, place, cue, tag) in enumerate(out):
            # "الطريق بين اليعربية وتل بيدر", "the road between Rmelan and Tal Adas": the road's
            # first end names the site when the gazetteer does not know its other end
            if tag or place.is_governorate or cue == "route" or self._norm(hit.first - 1) not in _BETWEEN:
                continue
            road = {self._norm(hit.first - 2), self._norm(hit.first - 3)} & _ROAD_WORDS
            after = self._norm(hit.last + 1)
            joined = after in ("and", "&") or (
                after.startswith("و") and self.text[hit.end : hit.end + 1].isspace()
            )
            if road and joined and self._same_sentence(hit.first, hit.last + 1):
                out[index] = (hit, place, "locative", tag)
        for index in range(len(out) - 1):
            # "on the Fallujah road near Khan Dhari", "على طريق الفلوجة قرب خان ضاري": a road
            # named after one town, then the place on it
            (hit_a, place_a, cue_a, tag_a), (hit_b, _, _, tag_b) = out[index], out[index + 1]
            if tag_a or tag_b or place_a.is_governorate or cue_a == "route":
                continue
            road_after = self._norm(hit_a.last + 1) in _ROUTE_AFTER
            road_before = self._norm(hit_a.first - 1) in _ROUTE_BEFORE
            gap = hit_b.first - hit_a.last
            if not (road_after or road_before) or not self._same_sentence(hit_a.first, hit_b.first):
                continue
            if gap <= 4 and self._norm(hit_b.first - 1) in _NEAR_WORDS:
                out[index] = (hit_a, place_a, "route", tag_a)
        for index in range(len(out) - 1):
            # "• Nasiriyah – Suq al-Shuyukh road": the place, then the road (named after where it leads)
            (hit_a, place_a, _, tag_a), (hit_b, place_b, _, tag_b) = out[index], out[index + 1]
            if tag_a or tag_b or place_a.is_governorate or place_b.is_governorate:
                continue
            between = re.sub(r"[\u2010-\u2015\u2212]", "-", self.text[hit_a.end : hit_b.start].strip())
            if between in ("-", ":", "|") and self._norm(hit_b.last + 1) in _ROUTE_AFTER:
                out[index + 1] = (hit_b, place_b, "route", tag_b)
        return out

    def _heads_line(self, hit: Hit) -> bool:
        """Whether a name opens its line (after a bullet or number): "• Nasiriyah – ..."."""
        start = line_start(self._newlines, hit.start)
        letter = self._first_letters.get(start)
        if letter is None:
            found = _LETTER.search(self.text, start)
            letter = self._first_letters[start] = found.start() if found else len(self.text)
        return letter >= hit.start

    @cached_property
    def _header_end(self) -> int:
        """``_header_limit``, worked out once."""
        return self._header_limit()

    def _header_limit(self) -> int:
        """End offset of a leading dateline/header ("الرطبة |", "Kirkuk:", "SAMAWAH, Iraq –")."""
        first_line_end = self.text.find("\n")
        line = self.text if first_line_end < 0 else self.text[:first_line_end]
        found = re.match(r"^\W{0,6}[^|:\n–\-,.]{1,40}?\s*(?:\||:|\s[–-]\s|,\s*(?:Iraq|Syria)\b)", line)
        if found and len(found.group().split()) <= 6:
            return found.end()
        return 0

    # -- choosing sites ---------------------------------------------------------------------

    @cached_property
    def _mentions_by_start(self) -> tuple[list[int], list[int]]:
        """The mentions' indexes sorted by start, and those starts."""
        order = sorted(range(len(self.mentions)), key=lambda index: self.mentions[index].start)
        return order, [self.mentions[index].start for index in order]

    def _candidates(self, start: int, end: int) -> list[Mention]:
        order, starts = self._mentions_by_start
        inside = sorted(order[index] for index in between(starts, start, end))
        return [m for m in map(self.mentions.__getitem__, inside) if not m.hashtag]

    def _best(self, candidates: Sequence[Mention]) -> Mention | None:
        if not candidates:
            return None
        best = max(candidates, key=lambda m: (m.score, m.place.rank, -m.start))
        # Below a governorate, any place in it that is not a destination says more
        # ("Samawah: an IED ... It is the third attack in Muthanna"); below a road in a city, a
        # town or district on it does, the city it runs through does not.
        floor = -1.0 if best.place.is_governorate else best.score - 2
        # "Rifai | ... on the highway north of Nasiriyah": the city only places the site; the
        # dateline names it
        header = self._header_end if best.cue == "direction" else 0
        routes = sorted((m for m in candidates if m.cue == "route"), key=lambda m: m.start)
        # a road named by its two ends; "Nasiriyah – Suq al-Shuyukh road" names one end only
        first_route = routes[0] if len(routes) >= 2 else None
        if (
            best.cue == "route"
            and first_route is not None
            and first_route is not best
            and first_route.admin1 == best.admin1
            and first_route.score >= best.score
            and first_route.place.rank >= 2
        ):
            # "الطريق بين الحلة والكفل", "the Baqubah-Muqdadiyah road": with nothing nearer, the
            # road's first-named end is the site, however small the other
            best = first_route
        finer = [
            m
            for m in candidates
            if m.admin1 == best.admin1
            and m.place.rank > max(best.place.rank, 2 if best.place.kind == "road" else 0)
            and (m.score >= floor or m.start < header)
            # "البصرة | ... على طريق الزبير - صفوان": below only a city or governorate, a road's
            # first end is the most specific place named
            and (not m.reference or (m.cue == "route" and m is first_route))
            and (m.place.kind != "base" or self._site_of_base(m, best))
        ]
        if finer and (best.place.rank <= 2 or best.reference):
            return max(finer, key=lambda m: (m.score, m.place.rank, -m.start))
        if best.place.kind == "road" and best.admin1 is None:
            # "الإسكندرية | ... على طريق بغداد - الحلة": a road across governorates says less
            # than the town the dateline names
            towns = [
                m
                for m in candidates
                if m.admin1
                and m.place.kind not in ("road", "base")
                and not m.place.is_governorate
                and not m.reference
                and m.start < self._header_end
            ]
            if towns:
                return max(towns, key=lambda m: (m.score, m.place.rank, -m.start))
        if best.place.is_governorate:
            return self._road_in(best, candidates) or best
        return best

    @staticmethod
    def _road_in(governorate: Mention, candidates: Sequence[Mention]) -> Mention | None:
        """ "on MSR Tampa in Dhi Qar": a road that crosses several governorates, named in the
        sentence of the governorate the post files it under, is the place, in that governorate."""
        roads = [
            m
            for m in candidates
            if m.place.kind == "road"
            and m.place.admin1 is None
            and m.sentence == governorate.sentence
            and m.cue not in ("towards", "direction")
            and not m.reference
            and m.score > 0
        ]
        if len(roads) != 1:
            return None
        road = roads[0]
        place = replace(road.place, admin1=governorate.admin1, country=governorate.place.country)
        return replace(road, place=place)

    def _site_of_base(self, base: Mention, best: Mention) -> bool:
        """Whether a base or field names the site: "near the Conoco field", "on the road to the
        Qasrak base", "a convoy on the Conoco field road in Deir ez-Zor" (the city only says
        where the field is)."""
        if self._norm(base.first - 1) in _NEAR_WORDS or base.cue == "road_to":
            return True
        between = self.text[base.end : best.start].strip().casefold()
        return best.start > base.end and between in ("in", "في", "ب") and best.place.rank <= 2

    def _locations(self, candidates: Sequence[Mention]) -> list[list[Mention]]:
        """Mentions grouped into distinct places (a governorate or "south of X" joins a place in it)."""
        groups: list[_Location] = []
        # Only two kinds of group can take a mention: the first holding its place, and those
        # whose most specific place is in its governorate; the others are never looked at.
        holding: dict[str, int] = {}
        by_admin1: dict[str | None, set[int]] = {}
        chains = self._enumerations(candidates)
        for mention in sorted(candidates, key=lambda m: m.start):
            home = None
            suspects = set(by_admin1.get(mention.admin1, ())) if mention.admin1 else set()
            if mention.place.id in holding:
                suspects.add(holding[mention.place.id])
            for number in sorted(suspects):
                group = groups[number]
                specific = group.specific
                if mention.place.id in group.ids:
                    home = number
                    break
                if mention.admin1 and mention.admin1 == specific.admin1:
                    if self._another_between(group, mention):
                        continue  # "one near Basra and another near Zubair": two places
                    if _broad(mention.place) or mention.reference or _broad(specific.place):
                        home = number
                        break
                    chain = chains.get(mention.start)
                    close = any(
                        abs(m.first - mention.first) <= REFERENCE_GAP
                        and not (chains.get(m.start) is not None and chains.get(m.start) == chain)
                        for m in group.near(
                            mention.sentence, mention.first - REFERENCE_GAP, mention.first + REFERENCE_GAP
                        )
                    )
                    if close and min(mention.place.rank, specific.place.rank) <= 2:
                        home = number
                        break
            if home is None:
                home = len(groups)
                groups.append(_Location(mention))
                holding.setdefault(mention.place.id, home)
                by_admin1.setdefault(mention.admin1, set()).add(home)
                continue
            group = groups[home]
            before = group.specific.admin1
            group.add(mention)
            holding[mention.place.id] = min(holding.get(mention.place.id, home), home)
            if group.specific.admin1 != before:
                by_admin1[before].discard(home)
                by_admin1.setdefault(group.specific.admin1, set()).add(home)
        return [group.members for group in groups]

    def _another_between(self, group: _Location, mention: Mention) -> bool:
        """Whether "another" stands between a group's place and a city named like its governorate."""
        if mention.place.is_governorate or group.governorate:
            return False
        last = group.last
        if last.end > mention.start or last.sentence != mention.sentence:
            return False
        return bool(_ANOTHER_ONE.search(self._folded_text(last.end, mention.start)))

    def _enumerations(self, candidates: Sequence[Mention]) -> dict[int, int]:
        """ "Samawah, Rumaythah and al-Khidr": places listed with "and" are distinct places.

        Maps a mention's start to its list's number; "Rumaythah, Samawah" (no "and") is a
        town qualified by its city and is not a list.
        """
        ordered = sorted(candidates, key=lambda m: m.start)
        chains: list[list[Mention]] = []
        joined_by_and: list[bool] = []
        for mention in ordered:
            if chains:
                last = chains[-1][-1]
                between = self.text[last.end : mention.start]
                linked = bool(_COORDINATION.match(between)) or (
                    between.strip() == "" and self.text[mention.start] == "و"
                )
                if linked and last.sentence == mention.sentence:
                    chains[-1].append(mention)
                    conjunction = re.search(r"\b(?:and|&)\b", between) or between.strip() == "و"
                    joined_by_and[-1] = (
                        joined_by_and[-1] or bool(conjunction) or self.text[mention.start] == "و"
                    )
                    continue
            chains.append([mention])
            joined_by_and.append(False)
        return {
            m.start: number
            for number, (chain, listed) in enumerate(zip(chains, joined_by_and, strict=True))
            if listed and len(chain) >= 2
            for m in chain
        }

    def _sites(self) -> tuple[list[_Site], list[Segment]]:
        """One site per attack, and the segments they came from (empty for the whole post)."""
        items = list_items(self.text)
        segments: list[Segment] = []
        if items:
            segments = self._attack_items([segment for segment in items if self._sited(segment)])
        off: list[tuple[int, int]] = []
        if len(segments) < 2:
            segments = ordinal_segments(self.text, self.group_spans)
            segments = [segment for segment in segments if self._sited(segment)]
            # "الأولى على رتل ... والثانية على قاعدة حرير": a strike on a base is not on a convoy
            off = [(s.start, s.end) for s in segments if self._base_not_convoy(s)]
            if off and len(off) < len(segments):
                self.dropped.extend(off)
                segments = [s for s in segments if (s.start, s.end) not in off]
            else:
                off = []
        if len(segments) >= 2:
            sites = [_Site(s.start, s.end, self._best(self._candidates(s.start, s.end))) for s in segments]
            return sites, segments
        mentions = [m for m in self.mentions if not any(a <= m.start < b for a, b in off)]
        candidates = [m for m in mentions if not m.hashtag and m.score > 0]
        located = self._locations(candidates)
        locations = [group for group in located if max(m.score for m in group) >= 1.5]
        count = stated_count(self.text)
        multi = None
        if count is not None and count >= 2 and len(locations) >= 2:
            ranked = sorted(locations, key=lambda g: -max(m.score for m in g))[:count]
            multi = sorted(ranked, key=lambda g: min(m.start for m in g))
        elif count is None or count >= 2:
            multi = (
                self._listed_locations(locations)
                or self._dated_sentences(locations)
                or self._another_sentences(locations)
                # the dateline's place may be the first of the attacks ("الدغارة | ...، ورتل ثاني
                # انضرب بالحمزة")
                or self._another_sentences(
                    [g for g in located if max(m.score for m in g) >= 1.5 or g[0].start < self._header_end]
                )
            )
        if multi and len(multi) >= 2:
            return self._split_sites(multi), []
        single = _Site(0, len(self.text), self._best([m for m in mentions if not m.hashtag]))
        if count is not None and 2 <= count <= MAX_UNPLACED_COPIES and len(locations) <= 1:
            # "Two convoys were targeted in Babil": two attacks, one place known for both
            return [single] * count, []
        return [single], []

    def _base_not_convoy(self, segment: Segment) -> bool:
        """Whether a part of a post is about a strike on a base and names no convoy."""
        _, convoy = self._evidence(segment)
        return not convoy and bool(_BASE_WORDS.search(self._folded_text(segment.start, segment.end)))

    def _evidence(self, segment: Segment) -> tuple[bool, bool]:
        """Whether a segment names an attack, and whether it names a convoy."""
        inside = between(self.starts, segment.start, segment.end)
        stems = [self._stems(self.tokens[index].norm) for index in inside]
        attack = any(has_attack for has_attack, _ in stems)
        if not attack:
            attack = bool(between(self._attack_hit_starts, segment.start, segment.end))
        convoy = any(has_convoy for _, has_convoy in stems)
        return attack, convoy

    @cached_property
    def _attack_hit_starts(self) -> list[int]:
        return sorted(hit.start for hit in self.hits if hit.concept in _ATTACK_CONCEPTS)

    def _attack_items(self, items: list[Segment]) -> list[Segment]:
        """A round-up's lines that report an attack on a convoy: not "an aid convoy arrived",
        not "rockets fell near the air base"."""
        evidence = [self._evidence(item) for item in items]
        if not any(attack for attack, _ in evidence):
            return items  # "1) Diwaniya 2) Hilla" under "four IED attacks on convoys today"
        # "Convoy attacks reported today:" heads a list of attacks; "• Hilla – 2 trucks damaged" is one
        headed = all(self._evidence(Segment(0, items[0].start, "item"))) if items[0].start > 0 else False
        # one line that reports a whole attack on a convoy: lines naming neither are other news
        reported = any(attack and convoy for attack, convoy in evidence)
        kept = []
        for item, (attack, convoy) in zip(items, evidence, strict=True):
            item_text = self._folded_text(item.start, item.end)
            base = _BASE_WORDS.search(item_text)
            other_news = not headed and reported and not attack and not convoy
            # "3/ Context: attacks on this road have become routine since 2020" is commentary
            other_news = other_news or (
                reported and not (attack and convoy) and bool(_BACKGROUND.search(item_text))
            )
            # "Thu – reported IED at Latifiya: DENIED, not counted", "device rendered safe by EOD"
            dismissed = bool(_DISMISSED.search(item_text))
            # "(2) IED vs a private SUV", "| Kirkuk-Baiji pipeline | IED |", "security forces defused an
            # IED": beside lines that report attacks on convoys, an attack on no convoy is other news
            other_target = (
                attack
                and not convoy
                and reported
                and not _ANOTHER_ONE.search(item_text)
                and bool(_OTHER_OBJECT.search(item_text) or _DEFUSED.search(item_text))
            )
            if (
                (convoy and not attack and not headed)
                or (attack and not convoy and base)
                or other_target
                or other_news
                or dismissed
            ):
                self.dropped.append((item.start, item.end))
            else:
                kept.append(item)
        return kept

    def _sited(self, segment: Segment) -> bool:
        """Whether a list item names a place that can be an attack site (not only a destination)."""
        return any(m.score > -1 for m in self._candidates(segment.start, segment.end))

    def _listed_locations(self, locations: list[list[Mention]]) -> list[list[Mention]] | None:
        """ "IED attacks on convoys in Diwaniyah, Samawah and Babylon": plural convoys, places with cues."""
        background = {sentence for sentence in self._sentences() if self._is_background(sentence)}
        placed: dict[int, list[int]] = {}  # sentence -> the groups placed well in it, in order
        for number, group in enumerate(locations):
            for m in group:
                if m.score >= 2.5 and not m.reference:
                    numbers = placed.setdefault(m.sentence, [])
                    if not numbers or numbers[-1] != number:
                        numbers.append(number)
        for sentence in sorted({m.sentence for group in locations for m in group}):
            if self.lead_sentence >= 0 and sentence > self.lead_sentence:
                break  # a list of places after the report's own attack is background
            if sentence in background or not _PLURAL_CONVOYS.search(self._sentence_text(sentence)):
                continue
            listed = placed.get(sentence, [])
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

    def _dated_sentences(self, locations: list[list[Mention]]) -> list[list[Mention]] | None:
        """ "Monday 9 Aug: an IED hit a convoy near Kufa. Tuesday 10 Aug: an ambush on a convoy
        near Baiji": sentences that each report a convoy attack with a place and a day of their own."""
        background = self.past_sentences | {s for s in self._sentences() if self._is_background(s)}
        chosen: list[list[Mention]] = []
        firsts: set[int] = set()  # the first sentence of each chosen group
        days: set[dt.date] = set()
        for group in locations:
            sited = [m for m in group if m.score >= 2.5 and not m.reference and m.sentence not in background]
            if not sited:
                continue
            sentence = min(m.sentence for m in sited)
            if self.attack_sentences.get(sentence, 0) < 2:
                continue
            low, high = self._sentence_bounds(sentence)
            dated = [
                self.dates[index]
                for index in between(self.date_starts, low, high)
                if self.dates[index].kind != "relative"
            ]
            if len(dated) != 1 or sentence in firsts:
                return None
            chosen.append(group)
            firsts.add(min(m.sentence for m in group))
            days.add(dated[0].date)
        return chosen if len(chosen) >= 2 and len(days) == len(chosen) else None

    def _another_sentences(self, locations: list[list[Mention]]) -> list[list[Mention]] | None:
        """ "... in Mushahada. In another attack, a second convoy was hit near Dujail. A third convoy
        was also targeted in Kifl": a report, then sentences that each add an attack at a place."""
        background = self.past_sentences | {s for s in self._sentences() if self._is_background(s)}
        firsts: list[tuple[int, list[Mention]]] = []
        for group in locations:
            sited = [m for m in group if m.score >= 2.5 and not m.reference and m.sentence not in background]
            if sited:
                firsts.append((min(m.sentence for m in sited), group))
                continue
            # "الدغارة | عبوة استهدفت رتل ...، ورتل ثاني انضرب بالحمزة": the dateline's place is
            # the first attack's, told in the sentence after it
            headed = [
                m for m in group if m.start < self._header_end and not m.reference and m.cue != "towards"
            ]
            after = headed[0].last + 1 if headed else len(self.tokens)
            if after < len(self.tokens) and self.tokens[after].sentence not in background:
                firsts.append((self.tokens[after].sentence, group))
        firsts.sort(key=lambda pair: pair[0])
        if len(firsts) < 2 or self.attack_sentences.get(firsts[0][0], 0) < 2:
            return None
        chosen = [firsts[0][1]]
        used = {firsts[0][0]}
        for sentence, group in firsts[1:]:
            if sentence in used and self._sequel_clause(chosen[-1], group):
                chosen.append(group)  # "عبوة ... في البطحاء، تلتها عبوة ثانية برتل آخر قرب سوق الشيوخ"
                continue
            if sentence in used or self.attack_sentences.get(sentence, 0) < 1:
                continue
            text = self._sentence_text(sentence)
            if not _ANOTHER.search(text) or _DEFUSED.search(text):
                continue  # "engineers defused a second IED near X" is no attack
            chosen.append(group)
            used.add(sentence)
        return chosen if len(chosen) >= 2 else None

    def _sequel_clause(self, previous: list[Mention], group: list[Mention]) -> bool:
        """Whether the words between one attack's place and the next place in its sentence add
        another attack that followed it ("..., followed by a second IED on another convoy near X")."""
        start = max(m.end for m in previous)
        end = min(m.start for m in group)
        if end <= start:
            return False
        text = self._folded_text(start, end)
        told = bool(_SEQUEL.search(text) and _ANOTHER.search(text)) or bool(_ANOTHER_CONVOY.search(text))
        return told and not _DEFUSED.search(text)

    def _sentences(self) -> list[int]:
        return sorted(set(self.sentence_numbers))

    def _sentence_tokens(self, sentence: int) -> range:
        """The indexes of a sentence's tokens."""
        numbers = self.sentence_numbers
        return range(bisect_left(numbers, sentence), bisect_right(numbers, sentence))

    def _sentence_text(self, sentence: int) -> str:
        known = self._sentence_texts.get(sentence)
        if known is None:
            inside = self._sentence_tokens(sentence)
            known = (
                self._folded_text(self.tokens[inside[0]].start, self.tokens[inside[-1]].end) if inside else ""
            )
            self._sentence_texts[sentence] = known
        return known

    def _is_background(self, sentence: int) -> bool:
        known = self._backgrounds.get(sentence)
        if known is None:
            known = self._backgrounds[sentence] = bool(_BACKGROUND.search(self._sentence_text(sentence)))
        return known

    def _sentence_bounds(self, sentence: int) -> tuple[int, int]:
        """Original offsets from a sentence's first token to the next sentence's first token."""
        inside = self._sentence_tokens(sentence)
        after = self.tokens[inside.stop].start if inside.stop < len(self.tokens) else len(self.text)
        return (self.tokens[inside[0]].start, after) if inside else (0, after)

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
                end = self._clause_cut(end, next_start, following)
            best = self._best(group)
            sites.append(_Site(boundary, end, best))
            boundary = end
        return sites

    def _clause_cut(self, end: int, next_start: int, following: list[Mention]) -> int:
        """Where one site's words stop: the next site's sentence, or the last clause break before it.

        "... in Abu Ghraib on Sunday morning and another near Khan Dhari": "on Sunday morning"
        stays with Abu Ghraib; "in Samawah, killing two. Another ... in Nasiriyah": the
        casualties stay with Samawah.
        """
        first = min(following, key=lambda m: m.start)
        before = self._token_at(end - 1) if end > 0 else None
        if before is not None and first.sentence > before.sentence:
            return max(end, self._sentence_bounds(first.sentence)[0])
        between = self.text[end:next_start]
        breaks = list(_CLAUSE_BREAK.finditer(between))
        return end + breaks[-1].start() if breaks else end

    # -- per-event details ------------------------------------------------------------------

    def _date_in(self, start: int, end: int) -> DateMention | None:
        inside = [self.dates[index] for index in between(self.date_starts, start, end)]
        return self._strongest_date(inside)

    def _date_strength(self, date: DateMention) -> int:
        """How surely a date is the attack's: its sentence's attack strength, more when the text
        says "the attack took place on ...", less for "footage released today"."""
        token = self._token_at(date.start)
        strength = self.attack_sentences.get(token.sentence, 0) if token else 0
        before = self._folded_text(max(0, date.start - 40), date.start)
        if _OCCURRED.search(before):
            strength += 3
        elif self._announced(date):
            strength -= 2
        return strength

    def _announced(self, date: DateMention) -> bool:
        """Whether a date is when the report was made, not the attack: "footage released today",
        "ISIS on Monday claimed ...", the dateline "BAGHDAD, Dec 8 – ..."."""
        before = self._folded_text(max(0, date.start - 40), date.start)
        if (
            _PUBLISHED.search(before[-25:])
            or _CLAIMED_ON.search(before)
            or _ANNOUNCED_AFTER.match(self.text, date.end)
        ):
            return True
        line = self.text[line_start(self._newlines, date.start) : date.start]
        return bool(_DATELINE_BEFORE.fullmatch(line)) and bool(_DASH_AFTER.match(self.text, date.end))

    def _strongest_date(self, dates: Sequence[DateMention]) -> DateMention | None:
        if not dates:
            return None
        # "Overnight: an IED struck ... before midnight Saturday": of dates as sure, a day named
        # says more than a relative word
        strengths = [(self._date_strength(d), d.kind != "relative") for d in dates]
        return dates[strengths.index(max(strengths))]

    def _local_labels(self, start: int, end: int) -> Mapping[str, str]:
        """The rule engine's labels over a part of the text; "RPG, not IED" does not count the IED."""
        labeller = self.extractor.labeller
        window = self._window(start, end) if labeller is not None else None
        if labeller is None or window is None:
            return {}
        # labels_for reads the hits inside the window: hand it only those (same order)
        hits, order, firsts = self._unnegated_hits
        first, last = window
        inside = sorted(
            index
            for index in map(order.__getitem__, between(firsts, first, last + 1))
            if hits[index].last <= last
        )
        return labeller.labels_for(self.doc, [hits[index] for index in inside], first, last)

    @cached_property
    def _unnegated_hits(self) -> tuple[list[Hit], list[int], list[int]]:
        """The hits not after a negation ("RPG, not IED"), their indexes by first token, and those firsts."""
        hits = [hit for hit in self.hits if self._norm(hit.first - 1) not in _NEGATING]
        order = sorted(range(len(hits)), key=lambda index: hits[index].first)
        return hits, order, [hits[index].first for index in order]

    def _labels(
        self,
        start: int,
        end: int,
        whole: bool,
        defaults: Mapping[str, str] | None = None,
        line: bool = False,
    ) -> tuple[str, str]:
        labels: Mapping[str, str] = self.classification.labels
        # "٤- استهداف رتل في المشخاب": a list line that names no weapon does not take another
        # line's; only the words around the list ("all IEDs unless noted", "both with IEDs")
        attack = "unknown" if line else labels.get("attack_type", "unknown")
        target = labels.get("target", "unknown")
        for key, value in (defaults or {}).items():
            # "(all IEDs unless noted)" before a list: what a line that names no weapon had
            if key == "attack_type" and value != "unknown":
                attack = value
            elif key == "target" and value != "unknown":
                target = value
        if not whole:
            local = self._local_labels(start, end)
            if local:
                if local.get("attack_type", "unknown") != "unknown":
                    attack = local["attack_type"]
                if local.get("target", "unknown") != "unknown":
                    target = local["target"]
        if target == "unknown" and self._own_convoy_of_local_forces(start, end):
            target = "iraqi_forces"
        return (
            attack if attack in ATTACK_TYPES else "unknown",
            target if target in TARGETS else "unknown",
        )

    def _own_convoy_of_local_forces(self, start: int, end: int) -> bool:
        """ "Two Peshmerga fighters were killed ... a bomb hit their convoy", "عنصرين من قسد ... رتلاً لهم"."""
        local, others = self._local_forces
        inside = local[bisect_left(local, (start, -1)) : bisect_left(local, (end, -1))]
        sentences = {sentence for _, sentence in inside}
        for sentence in sorted(sentences - others):
            low, high = self._sentence_bounds(sentence)
            if _POSSESSIVE_CONVOY.search(self._folded_text(max(low, start), min(high, end))):
                return True
        return False

    @cached_property
    def _local_forces(self) -> tuple[list[tuple[int, int]], set[int]]:
        """(start, sentence) of each local forces name, sorted; the sentences naming foreign forces."""
        local = sorted(
            (hit.start, token.sentence)
            for hit in self.hits
            if hit.concept == "local_forces"
            if (token := self._token_at(hit.start)) is not None
        )
        others = {
            token.sentence
            for hit in self.hits
            if hit.concept in ("coalition", "other_cargo", "logistics_support")
            if (token := self._token_at(hit.start)) is not None
        }
        return local, others

    def _country(self, mention: Mention | None) -> str | None:
        if mention is not None:
            return mention.place.country
        return self._post_country

    @cached_property
    def _post_country(self) -> str | None:
        """The one country the post's places are in, else the one country it names, else None."""
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
            # a list item left out as no convoy attack ("(2) IED vs a single private SUV, driver
            # injured") tells its own toll, not the convoy's
            kept = _complement(self.dropped, len(self.text)) if self.dropped else [(0, len(self.text))]
            casualties = find_casualties(" \n ".join(self._casualty_text(a, b) for a, b in kept))
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
        shared_ranges = _complement([(site.start, site.end) for site in sites] + self.dropped, len(self.text))
        shared_text, pointed = self._pointed_casualties(
            [self.text[a:b] for a, b in shared_ranges], len(sites)
        )
        shared_dates = [d for a, b in shared_ranges if (d := self._date_in(a, b)) is not None]
        if any(self._date_in(site.start, site.end) is not None for site in sites):
            # "ISIS on Monday claimed three weekend attacks: on Saturday ...": the claim's date
            # is no attack's; a site without a date takes the one told before it
            shared_dates = [d for d in shared_dates if not self._announced(d)]
        shared_date = self._best_shared_date(shared_dates)
        if shared_date is None and sites[-1].mention is not None and sites[-1].start > 0:
            # "الأول في الرميثة والثاني قرب السماوة، يوم السبت": a date closing the list is for all
            last = sites[-1]
            after = last.mention.end if last.mention is not None else last.end
            closing = [d for d in self.dates if after <= d.start < last.end]
            dated = [site for site in sites[:-1] if self._date_in(site.start, site.end) is not None]
            if closing and not dated and not segments_are_lines(segments):
                shared_date = closing[0]
        closing_list = (
            sites[-1].mention is not None
            and sites[-2].mention is not None
            and sites[-1].mention.sentence == sites[-2].mention.sentence
        )
        if not segments_are_lines(segments) and closing_list and sites[-1].mention is not None:
            # "... والثاني في البصرة، فجر اليوم دون خسائر بشرية": words closing the list are for all
            shared_text += " \n " + self.text[sites[-1].mention.end : sites[-1].end]
        shared_casualties = find_casualties(shared_text) if shared_text.strip() else Casualties()
        refined = self._refinements(sites, shared_ranges)
        defaults = self._local_labels(0, sites[0].start) if sites[0].start > 0 else {}
        lines = segments_are_lines(segments)
        if lines and defaults.get("attack_type", "unknown") == "unknown" and sites[-1].end < len(self.text):
            footer = self._local_labels(sites[-1].end, len(self.text))
            defaults = {**defaults, **{key: value for key, value in footer.items() if value != "unknown"}}
        labelled = [self._labels(site.start, site.end, False, defaults, lines) for site in sites]
        # "... والثاني في السماوة، وتبنت العملية ...": a claim closing the list is for all
        tail = [(sites[-1].mention.end, sites[-1].end)] if closing_list and sites[-1].mention else []
        claims_for = self._claims_per_site(sites, [*shared_ranges, *tail], [attack for attack, _ in labelled])
        events = []
        lines = segments_are_lines(segments)
        previous_date: DateMention | None = None
        for index, site in enumerate(sites):
            date = self._date_in(site.start, site.end) or shared_date
            if date is None and not lines:
                # "Two convoys were hit on Monday: one near X and another near Y": the date told
                # before a site that has none is its date too
                date = previous_date
            previous_date = date
            casualties = find_casualties(self._casualty_text(site.start, site.end))
            told = pointed.get(index)
            if told is not None:
                # "Two drivers were wounded in the second attack"
                casualties = Casualties(
                    casualties.killed if casualties.killed is not None else told.killed,
                    casualties.injured if casualties.injured is not None else told.injured,
                )
            if casualties.killed is None and shared_casualties.killed == 0:
                casualties = replace(casualties, killed=0)
            if casualties.injured is None and shared_casualties.injured == 0:
                casualties = replace(casualties, injured=0)
            attack, target = labelled[index]
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

    def _casualty_text(self, start: int, end: int) -> str:
        """The text whose casualty figures are the convoy's: a parenthesis after a clause about a
        base, not a convoy ("rockets hit the air base (no casualties), and an IED struck a
        convoy") tells that clause's toll and is left out."""
        text = self.text[start:end]
        kept: list[str] = []
        done = 0
        for found in _PARENTHESIS.finditer(text):
            clause = _CLAUSE_START.split(text[max(done, found.start() - CLAUSE_LETTERS) : found.start()])[-1]
            folded = fold(clause).text.casefold()
            if _BASE_WORDS.search(folded) and not _CONVOY_WORD.search(folded):
                kept.append(text[done : found.start()])
                done = found.end()
        kept.append(text[done:])
        return "".join(kept)

    @staticmethod
    def _pointed_casualties(parts: Sequence[str], count: int) -> tuple[str, dict[int, Casualties]]:
        """Shared sentences that name which attack they are about ("in the second attack",
        "في الهجوم الأول") give that attack's casualties; the rest stay shared by all."""
        shared: list[str] = []
        pointed: dict[int, Casualties] = {}
        for part in parts:
            for sentence in re.split(r"(?<=[.!?\u061f\n])", part):
                found = _POINTED.search(fold(sentence).text)
                position = (
                    (_EN_ORDINAL_WORDS.get(found["en"] or "") or _AR_ORDINAL_WORDS.get(found["ar"] or ""))
                    if found
                    else None
                )
                if position is not None and position <= count:
                    pointed[position - 1] = find_casualties(sentence)
                else:
                    shared.append(sentence)
        return " \n ".join(shared), pointed

    def _best_shared_date(self, dates: Sequence[DateMention]) -> DateMention | None:
        return self._strongest_date(dates)

    @staticmethod
    def _sites_by_admin1(sites: Sequence[_Site]) -> dict[str | None, list[int]]:
        """The indexes of the sites placed in each governorate."""
        found: dict[str | None, list[int]] = {}
        for index, site in enumerate(sites):
            if site.mention is not None:
                found.setdefault(site.mention.admin1, []).append(index)
        return found

    @staticmethod
    def _site_index(admin1s: set[str], placed: Mapping[str | None, list[int]]) -> list[int]:
        """The sites placed in any of these governorates, in order."""
        return sorted(index for admin1 in admin1s for index in placed.get(admin1, ()))

    def _refinements(self, sites: Sequence[_Site], shared: Sequence[tuple[int, int]]) -> dict[int, Mention]:
        """A more specific place in the shared text for the one site of its governorate."""
        refined: dict[int, Mention] = {}
        placed = self._sites_by_admin1(sites)
        for start, end in shared:
            for mention in self._candidates(start, end):
                if not mention.admin1 or mention.place.kind == "base":
                    continue
                matching = placed.get(mention.admin1, [])
                if len(matching) != 1:
                    continue
                index = matching[0]
                current = refined.get(index, sites[index].mention)
                if current is not None and mention.place.rank > current.place.rank and index not in refined:
                    refined[index] = mention
        return refined

    def _claims_per_site(
        self, sites: Sequence[_Site], shared: Sequence[tuple[int, int]], attacks: Sequence[str]
    ) -> list[list[Claim]]:
        """Each site's claims: its own, and a shared claim unless it names other sites' place or weapon."""
        per_site: list[list[Claim]] = [[] for _ in sites]
        placed = self._sites_by_admin1(sites)
        shared_spans = Overlaps(shared)
        # sites one after another (not the copies of one unplaced site): the first holding an
        # offset is found by bisection
        ordered = all(a.end <= b.start for a, b in pairwise(sites))
        site_starts = [site.start for site in sites]
        for claim in self.claims:
            token = self._token_at(claim.start)
            sentence = token.sentence if token else -1
            if ordered:
                holder = bisect_right(site_starts, claim.start) - 1
                inside = [holder] if holder >= 0 and claim.start < sites[holder].end else []
            else:
                inside = [i for i, s in enumerate(sites) if s.start <= claim.start < s.end]
            if inside and not shared_spans.hit(claim.start, claim.start + 1):
                if not self._claims_all(claim, sites[inside[0]], sentence):
                    per_site[inside[0]].append(claim)
                    continue
                targets: list[int] = list(range(len(sites)))
            else:
                admin1s = {m.admin1 for m in self._mentions_in(sentence) if m.admin1 and not m.hashtag}
                targets = (self._site_index(admin1s, placed) if admin1s else []) or list(range(len(sites)))
                # "X has claimed the drone strike": only the drone strike
                low, high = self._sentence_bounds(sentence)
                named = self._local_labels(low, high).get("attack_type", "unknown")
                same = [index for index in targets if attacks[index] == named]
                if named != "unknown" and same:
                    targets = same
            for index in targets:
                per_site[index].append(claim)
        return per_site

    def _mentions_in(self, sentence: int) -> list[Mention]:
        return self._mentions_by_sentence.get(sentence, [])

    @cached_property
    def _mentions_by_sentence(self) -> dict[int, list[Mention]]:
        found: dict[int, list[Mention]] = {}
        for mention in self.mentions:
            found.setdefault(mention.sentence, []).append(mention)
        return found

    def _claims_all(self, claim: Claim, site: _Site, sentence: int) -> bool:
        """ "X claims two IED attacks ...: one near A and another near B": a claim before the first
        site's place, in a sentence about several attacks, is for all of them."""
        if site.mention is None or claim.start >= site.mention.start or site.mention.sentence != sentence:
            return False
        return self._sentence_has(_PLURAL_CONVOYS, sentence) or (self._sentence_count(sentence) or 0) >= 2

    def _sentence_has(self, pattern: re.Pattern[str], sentence: int) -> bool:
        """Whether a pattern occurs in a sentence's folded text (asked once per sentence)."""
        key = (pattern.pattern, sentence)
        known = self._sentence_matches.get(key)
        if known is None:
            known = self._sentence_matches[key] = bool(pattern.search(self._sentence_text(sentence)))
        return known

    def _sentence_count(self, sentence: int) -> int | None:
        if sentence not in self._sentence_counts:
            self._sentence_counts[sentence] = stated_count(self._sentence_text(sentence))
        return self._sentence_counts[sentence]

    def _arabic_name(self, mention: Mention) -> str:
        """The English name an Arabic spelling gives ("الحمزة": "Hamzah"), unless the full Arabic
        name is written there ("قضاء الحمزة الشرقي": "Hamzah al-Sharqi")."""
        place = mention.place
        name = place.name_for(mention.term)
        if name == place.name or not place.name_ar:
            return name
        full = fold(place.name_ar).text
        if full in self._folded_text(mention.start, min(len(self.text), mention.end + len(full) + 1)):
            return place.name
        return name

    def _written_name(self, mention: Mention) -> str:
        """The place's canonical English name, or the English name the post uses when it is
        another name of the place: the event names the place as its report does."""
        written = self.text[mention.start : mention.end].strip()
        bare = re.sub(r"^(?:al|el|ad|ar|as|an|at|az)[\s-]+", "", written)  # "al-Hamza" is capitalised
        if _is_arabic(written):
            return self._arabic_name(mention)
        given = mention.place.given_name(mention.term)
        if given is not None:
            return given  # "Tuwairij=Hindiyah": a local name listed with the name reports use
        if not bare[:1].isupper() or _GENERIC_PLACE_WORDS.search(written) or mention.place.kind == "road":
            # "Baiji refinery", "Batha district": the place itself; "MSR Tampa": a road by its number
            return mention.place.name
        return written if _other_name(written, mention.place.name) else mention.place.name

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
            place=self._written_name(mention) if named and mention is not None else None,
            attack_type=attack,
            target=target,
            claimed_by=claimed_by,
            killed=casualties.killed,
            injured=casualties.injured,
            lat=point.lat if point else None,
            lon=point.lon if point else None,
            place_ar=place.name_ar if named and place else None,
        )


def _name_key(name: str) -> str:
    """A name without case, articles, punctuation and a final -iyah/-ah: "Al-Zubair" ~ "Zubayr"."""
    text = re.sub(r"^(?:al|el|ad|ar|as|an|at|az)[\s-]+", "", name.casefold().strip())
    text = re.sub(r"[^a-z]", "", text)
    return re.sub(r"(?:iyyah|iyah|iya|yah|ah)$", "ia", text)


def _other_name(written: str, canonical: str) -> bool:
    """Whether an English name in a post is another name of the place ("Derik" for Al-Malikiyah,
    "Tallil" for Imam Ali Air Base), not a spelling of its canonical name."""
    a, b = _name_key(written), _name_key(canonical)
    return bool(a) and bool(b) and a != b and difflib.SequenceMatcher(None, a, b).ratio() < OTHER_NAME_RATIO


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
