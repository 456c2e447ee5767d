"""Casualty figures a report states: killed and injured, in English and Arabic (pure).

Numbers come as digits (ASCII or Arabic-Indic) or words ("three", "ثلاثة", the Arabic
dual "جنديين" = two soldiers, "أحد السائقين" = one of the drivers). A figure is read from
the words around a casualty word: "three contractors injured", "killing one officer and
wounding two policemen", "استشهاد جنديين وإصابة ثلاثة آخرين". "No casualties" / "دون
خسائر بشرية" gives 0; a vague statement ("a number of advisers were injured", "no word
on casualties", "أنباء عن وقوع إصابات") or silence gives None. Absurd figures are
ignored rather than trusted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.extract.folding import fold

#: A figure above this is a misreading (a year, a unit number), not a casualty count.
MAX_FIGURE = 500

_TOKEN = re.compile(r"\d+(?:,\d{3})*|[a-z]+(?:'[a-z]+)?|[\u0621-\u064a]+|[^\s\w]|\n", re.UNICODE)

EN_NUMBERS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "dozen": 12,
    "both": 2,
    "another": 1,
    "a": 1,
    "an": 1,
    "single": 1,
}
AR_NUMBERS = {
    "واحد": 1,
    "واحده": 1,
    "احد": 1,
    "احدي": 1,
    "اثنان": 2,
    "اثنين": 2,
    "اثنتين": 2,
    "اثنتان": 2,
    "ثلاث": 3,
    "ثلاثه": 3,
    "اربع": 4,
    "اربعه": 4,
    "خمس": 5,
    "خمسه": 5,
    "ست": 6,
    "سته": 6,
    "سبع": 7,
    "سبعه": 7,
    "ثمان": 8,
    "ثماني": 8,
    "ثمانيه": 8,
    "تسع": 9,
    "تسعه": 9,
    "عشر": 10,
    "عشره": 10,
    "عشرين": 20,
    "عشرون": 20,
    "ثلاثين": 30,
    "ثلاثون": 30,
}
_EN_PERSONS = re.compile(
    r"^(?:people|persons?|civilians?|soldiers?|troops?|troopers?|members?|fighters?|drivers?|contractors?|"
    r"engineers?|officers?|policem[ae]n|police|guards?|advis[eo]rs?|personnel|workers?|employees?|"
    r"service(?:m[ae]n|members?)|militants?|gunmen|children|child|m[ae]n|wom[ae]n|staff|crew|marines?|"
    r"security|recruits?|conscripts?|passengers?|others?|assistants?|escorts?|companions?|colleagues?|peshmerga|paramilitar(?:y|ies))$"
)
_AR_PROCLITICS = re.compile(r"^(?:[وفب]|ل)?(?:ال)?")
_AR_PERSON_STEMS = (
    "سائق",
    "سايق",  # Iraqi spelling of سائق
    "سواق",  # Iraqi plural of سائق
    "جندي",
    "جنود",
    "ضابط",
    "ضباط",
    "منتسب",
    "عنصر",
    "عناصر",
    "مقاتل",
    "شخص",
    "اشخاص",
    "مدني",
    "عسكري",
    "شرطي",
    "افراد",
    "فرد",
    "حارس",
    "حراس",
    "عامل",
    "عمال",
    "متعاقد",
    "مستشار",
    "موظف",
    "اخر",
    "مواطن",
    "طفل",
    "رجل",
    "امراه",
    "مهندس",
    "مرافق",
)
#: "استشهاد جنديين وإصابة ثالث": an ordinal right after the casualty word is one more person.
_AR_ORDINAL_ONE = frozenset(("ثالث", "رابع", "خامس", "سادس", "ثالثا", "رابعا"))
#: Stems whose plural is broken, so stem + ين/ان is the dual: "two of them".
_AR_DUAL_STEMS = ("جندي", "ضابط", "شخص", "فرد", "حارس", "عنصر", "شرطي", "طفل", "رجل", "قتيل", "شهيد", "جريح")
_AR_SUFFIX = re.compile(r"(?:يين|يان|ين|ان|ون|ا|ه|ها|هم|يه|ي)?$")

#: "3 soldiers KIA", "2 KIA / 4 WIA": the military abbreviations count like the verbs.
_EN_KILL = re.compile(r"^(?:kill|kills|killed|killing|dead|died|dies|slain|martyred|deaths?|kia)$")
_EN_HURT = re.compile(r"^(?:injur(?:e|es|ed|ing)|wound(?:s|ed|ing)?|hurt|wia)$")
#: "soldiers wounded in Monday's bombing have died": the wounded counted are now dead, not injured.
_EN_LATER_DIED = frozenset(("died", "succumbed"))
#: "Dec 8 – Two more soldiers": a dash ends the people a figure before a casualty verb counts.
_EN_DASHES = frozenset(("–", "—", "-"))
#: "escaped with burns", "suffered minor injuries": hurt, said of the people before it.
_EN_HURT_NOUN = re.compile(r"^(?:burns|injuries|wounds)$")
_EN_HURT_NOUN_CUE = frozenset(
    ("with", "suffered", "sustained", "minor", "serious", "severe", "light", "moderate")
)
#: Words that end the people a figure before a casualty verb can count ("a police officer said nobody ...").
_EN_STOP_BEFORE = frozenset(("said", "says", "told", "according", "nobody", "reported", "added", "stated"))
#: "A police officer confirmed that one driver died": a verb of saying with its report after it
#: ends the people counted ("two soldiers were confirmed dead" still counts them).
_EN_REPORTING = frozenset(
    (
        "confirmed",
        "confirms",
        "explained",
        "noted",
        "announced",
        "acknowledged",
        "admitted",
        "insisted",
        "wrote",
    )
)
_EN_SINGULAR_PERSON = re.compile(
    r"^(?:driver|soldier|officer|contractor|policeman|guard|fighter|engineer|civilian|worker|member|trooper|"
    r"serviceman|servicemember|passenger|crewman|assistant|escort|companion|colleague|guide)$"
)
#: People on the attacking side: their deaths are not the attack's casualties.
_EN_ATTACKERS = re.compile(
    r"^(?:militants?|gunmen|gunman|terrorists?|insurgents?|attackers?|assailants?|jihadists?)$"
)
#: "his assistant", "their escort": one person, like "the driver".
_EN_POSSESSIVES = frozenset(("his", "her", "its", "their"))
_EN_ORDINAL_ONE = frozenset(("third", "fourth", "fifth", "sixth"))
_AR_KILL = re.compile(
    # "هلاك" (perishing): how the Islamic State's claims tell the deaths of its enemies
    r"^(?:[وفب]|ل)?(?:مقتل|قتل|قتلي|قتيل|قتيلا|قتيلين|قتيلان|استشهاد|استشهد|مصرع|شهيد|شهداء|شهيدين|شهيدا|يقتل|هلاك|"
    # Iraqi: "استشهدوا جنديين", "انقتل السايق", "ماتوا ثلاثة"
    r"استشهدوا|استشهدو|استشهدت|انقتل|انقتلوا|انقتلو|ماتوا|ماتو)$"
)
_AR_HURT = re.compile(
    r"^(?:[وفب]|ل)?(?:اصابه|اصابات|اصيب|اصيبوا|اصيبا|جرح|جرحي|جريح|جريحا|جريحين|جريحان|مصاب|مصابين|مصابون|يصاب|اصابتهم|"
    # Iraqi: "انجرحوا ثلاثة", "سايقه انصاب", "تصوبوا اثنين"
    r"انجرح|انجرحوا|انجرحو|انجرحت|انصاب|انصابوا|انصابو|انصابت|تصوب|تصوبوا|تصوبو|تصاوب|تصاوبوا|تصاوبو|جرحوا|جرحو)$"
)
_AR_AMONG = frozenset(("بينهم", "بينهما", "منهم", "ومنهم", "بينها", "بضمنهم", "بينهن"))
#: Words (folded) after the people counted that tell the cause or the place: the count is over.
_AR_CAUSE = frozenset(
    ("جراء", "اثر", "نتيجه", "في", "علي", "قرب", "عند", "خلال", "اثناء", "بعد", "عندما", "حين")
)
_AR_BY_CAUSE = re.compile(
    r"^ب(?:ال)?(?:انفجار|استهداف|قصف|هجوم|عبو|سبب|نيران|اطلاق|صاروخ|صواريخ|قذيف|قذائف|طائر|ضرب|كمين|تفجير|اشتباك)"
)
#: "وجُرح على إثره اثنان", "أصيب جراء الانفجار سائق", "قتل فيه جنديان": words right after a
#: casualty verb that point back to the attack (folded); the people counted follow them.
_AR_BACK_REFERENCE = frozenset(
    (
        "اثره",
        "اثرها",
        "جراءه",
        "جراءها",
        "بسببه",
        "بسببها",
        "فيه",
        "فيها",
        "خلاله",
        "خلالها",
        "نتيجته",
        "ايضا",
    )
)
#: "جراء ذلك", "بسبب الانفجار", "على إثره", "على إثر الهجوم": a cause word and what it names.
_AR_CAUSE_WORDS = frozenset(("جراء", "بسبب", "نتيجه", "اثر"))
#: Singular victim nouns: "قتيل" alone is one person killed, "جريح" one wounded.
_AR_SINGULAR_VICTIM = frozenset(("قتيل", "شهيد", "جريح"))
_AR_DUAL_TRIGGER = re.compile(r"(?:ين|ان)$")

_BREAK = {".", ";", ":", "!", "?", "\n", "|", "؟"}
_EN_VAGUE = {
    "number",
    "several",
    "some",
    "dozens",
    "many",
    "scores",
    "unknown",
    "undisclosed",
    "multiple",
    "few",
}
_EN_AUXILIARIES = {
    "were",
    "was",
    "have",
    "has",
    "had",
    "been",
    "being",
    "reportedly",
    "allegedly",
    "also",
    "later",
}
_EN_SKIP = {
    "at",
    "least",
    "the",
    "of",
    "whom",
    "them",
    "about",
    "around",
    "nearly",
    "up",
    "to",
    "more",
    "than",
}
_GENERIC = re.compile(r"\b(?:most|usually|often|typically|routinely|generally|many\s+of)\b|عاده|غالبا|معظم")

_EN_ZERO_BOTH = re.compile(
    r"\b(?:no|zero|without(?:\s+(?:any|causing))?|nor)\s+(?:(?:reported|immediate|human|civilian|further|serious|"
    r"known|other|us|u\.s\.|american|coalition|iraqi|military)\s+)?"
    r"(?:casualties|casualty|cas|injuries|injured|wounded|victims|losses|one\s+hurt)\b"
    r"(?!\s+(?:figures?|details?|information|info|reports?|numbers?|counts?|toll|word|data|claims?|claimed|"
    r"(?:were\s+|was\s+|are\s+|is\s+)?(?:given|mentioned|stated|specified|disclosed|available|known\s+yet))\b)|"
    r"\bno\s*(?:-\s*)?(?:one|body)\s+(?:was\s+|were\s+|is\s+)?(?:reportedly\s+)?(?:hurt|injured|wounded|harmed)\b|"
    r"\b(?:material\s+damage\s+only|only\s+(?:caused\s+|causing\s+)?(?:material\s+)?damage|"
    r"limited\s+to\s+(?:material|physical)\s+damage)\b|"
    # "Neither caused casualties", "none of the blasts caused injuries": every attack of the post
    r"\b(?:neither|none)\s+(?:of\s+(?:them|the\s+\w+)\s+|\w+\s+)?(?:caused|causing|resulted\s+in|left|inflicted)"
    r"\s+(?:any\s+)?(?:casualties|injuries|deaths)\b|"
    r"\bwithout\s+(?:anyone|any\s+one|anybody)\s+(?:being\s+)?(?:hurt|injured|wounded|harmed)\b|"
    r"\bno\s+(?:[a-z.]+\s+)?(?:personnel|troops|soldiers|staff|crew|crewmen|drivers|servicemen|people|civilians|"
    r"contractors|passengers)\s+(?:was\s+|were\s+|(?:had|have)\s+been\s+)?(?:reportedly\s+)?"
    r"(?:hurt|injured|wounded|harmed)\b|"
    r"\b(?:unharmed|unhurt|uninjured|unscathed)\b|"
    r"\b(?:casualties|injuries)\s*[:\-]\s*(?:none|nil|no|zero|0)\b|"
    r"(?:الخسائر|الاصابات)(?:\s+البشريه)?\s*[:\-]\s*(?:لا|لا\s+توجد|لا\s+يوجد|دون|صفر|0)(?![\u0621-\u064a])"
)
_EN_ZERO_KILLED = re.compile(
    r"\b(?:no|zero|without(?:\s+any)?)\s+(?:(?:reported|immediate)\s+)?(?:deaths|fatalities|dead)\b|"
    r"\bno\s*(?:-\s*)?(?:one|body)\s+(?:was\s+|were\s+)?(?:reportedly\s+)?killed\b|"
    r"\b(?:no|without(?:\s+any)?)\s+(?:loss|losses)\s+of\s+(?:life|lives)\b"
)
#: "دون خسائر بالأرواح": nobody killed (injuries not addressed).
_AR_LIVES = frozenset(("بالارواح", "في", "ارواح", "الارواح"))
_AR_NEGATORS = {
    "لا",
    "ولا",
    "لم",
    "ولم",
    "دون",
    "بدون",
    "عدم",
    "وبدون",
    "ودون",
    "بلا",
    "خلو",
    "ماكو",
    "وماكو",
}
_AR_ZERO_NOUNS = re.compile(r"^(?:[وفب]|ل)?(?:ال)?(?:اصابات|اصابه|خسائر|ضحايا|قتلي|جرحي|اصابه)$")
#: "لم يسجل أي ضرر بشري": harm to people (not "ضرر مادي", damage to things) that did not happen.
_AR_HUMAN_HARM = re.compile(r"^(?:[وفب]|ل)?(?:ال)?(?:ضرر|اضرار)$")
_AR_HUMAN = frozenset(("بشري", "بشريه", "البشري", "البشريه"))
_AR_INFO = re.compile(
    r"^(?:[وفب]|ل)?(?:ال)?(?:معلومات|معلومه|انباء|تفاصيل|ورود|حصيله|تعرف|يعرف|معروفه|يتضح|تتضح|تاكيد|تصريح|"
    r"تذكر|يذكر|ذكر|تشر|يشر|اشاره|تتطرق|يتطرق|تفصح|يفصح)$"
)
#: "محد تأذى", "ما أحد انصاب", "لم يصب أحد" (Iraqi and standard): nobody was hurt.
_AR_NOBODY = re.compile(
    r"(?<![\u0621-\u064a])[وف]?(?:محد|محدا|ماكو\s+احد|ما\s+احد|لا\s+احد|ولا\s+احد|لم\s+يصب\s+احد|لم\s+يتاذ\s+احد)"
    r"(?:\s+(?:من\s+)?[\u0621-\u064a]+)?\s*(?:تاذي|تاذا|انصاب|اصيب|تصوب|يتاذي|جرح|انجرح|مات|قتل|باذي)"
    r"|(?<![\u0621-\u064a])[وف]?(?:لم\s+يصب|(?:ب?دون|من\s+دون)\s+ان\s+يصاب)\s+احد(?![\u0621-\u064a])"
    r"|(?<![\u0621-\u064a])[وف]?ماكو\s+(?:اصابات|ضحايا|خسائر)"
    r"|(?:طلعو|طلعوا|خرجو|خرجوا|نجو|نجوا)\s+سالمين|(?:كلهم|جميعهم)\s+سالمين"
    # "ماكو لا شهيد ولا جريح", "لا قتلى ولا جرحى": neither dead nor hurt
    r"|(?<![\u0621-\u064a])[وف]?لا\s+(?:شهيد|شهداء|قتيل|قتلي|ضحايا)\s+ولا\s+(?:جريح|جرحي|مصاب|مصابين|اصابات)(?![\u0621-\u064a])"
)
#: "ولا خسائر في صفوف المجاهدين", "no losses among our mujahideen": the attackers' side, in a
#: claim; it says nothing of the convoy's casualties.
_ATTACKER_SIDE = re.compile(
    r"\b(?:among|in\s+the\s+ranks\s+of)\s+(?:the\s+|our\s+)?(?:mujahideen|mujahidin|mujahedeen|attackers|"
    r"assailants|heroes)\b|\b(?:among\s+our\s+(?:men|fighters|brothers|ranks)|on\s+our\s+side)\b|"
    r"(?<![\u0621-\u064a])(?:[وب]?صفوف\s+(?:ال)?(?:مجاهد|ابطال|مقاوم|اخو|مهاجم)[\u0621-\u064a]*|[وب]?صفوفنا|"
    r"(?:بين|من)\s+(?:ال)?(?:مجاهدين|مجاهدينا|مهاجمين|ابطالنا))(?![\u0621-\u064a])"
)
#: "أضرار مادية فقط", "اقتصرت الأضرار على ...", "الحادث اقتصر على أضرار مادية": damage to things only.
_AR_MATERIAL_ONLY = re.compile(
    r"(?:اضرار|خسائر)\s+(?:ماديه|بالماديات)\s+فقط|اقتصرت\s+(?:ال)?(?:اضرار|خسائر)|"
    r"اقتصر(?:ت)?\s+علي\s+(?:ال)?(?:اضرار|خسائر)\s+(?:ال)?ماديه|اقتصر(?:ت)?\s+علي\s+الماديات"
)
#: "سائقَين", "جنديَيْن": a fatha before the final ين marks the dual, which folding would erase
#: (bare "سائقين" may be a plural); written as the nominative dual "سائقان" instead.
_MARKED_DUAL = re.compile(r"(?<=[\u0621-\u064a]{3})\u064e\u064a\u0652?\u0646(?![\u0621-\u064a\u064b-\u0652])")


@dataclass(frozen=True, slots=True)
class Casualties:
    """Killed and injured as a report states them; None where it does not say."""

    killed: int | None = None
    injured: int | None = None


@dataclass(frozen=True, slots=True)
class _Tok:
    text: str
    start: int


def _tokens(text: str) -> list[_Tok]:
    return [_Tok(match.group(), match.start()) for match in _TOKEN.finditer(text)]


def _number(word: str) -> int | None:
    if word.isdigit() or re.fullmatch(r"\d+(?:,\d{3})+", word):
        return int(word.replace(",", ""))
    if word in EN_NUMBERS:
        return EN_NUMBERS[word]
    bare = re.sub(r"^[وب]", "", word) if word not in AR_NUMBERS else word
    return AR_NUMBERS.get(bare)


def _ar_person(word: str) -> int | None:
    """1 for a singular person noun, 2 for a dual, 0 for a plural; None if not a person."""
    bare = _AR_PROCLITICS.sub("", word)
    for stem in _AR_PERSON_STEMS:
        if bare.startswith(stem) and _AR_SUFFIX.fullmatch(bare[len(stem) :]):
            rest = bare[len(stem) :]
            if stem in _AR_DUAL_STEMS and rest in ("ين", "ان", "يين", "يان"):
                return 2
            if rest in ("ان", "يان"):
                return 2  # "سائقان", "منتسبان": the nominative dual, never a plural
            if rest in ("ين", "ون", "يين") or stem in (
                "جنود",
                "ضباط",
                "عناصر",
                "اشخاص",
                "افراد",
                "حراس",
                "عمال",
                "سواق",
            ):
                return 0
            return 1
    return None


def _en_figure_after(tokens: list[_Tok], index: int) -> int | None:
    """'killing one officer', 'wounding 3', 'the killing of two soldiers'."""
    position = index + 1
    while position < len(tokens) and tokens[position].text in _EN_SKIP:
        position += 1
    if position >= len(tokens):
        return None
    word = tokens[position].text
    if word in ("a", "an") and position + 1 < len(tokens) and tokens[position + 1].text in _EN_VAGUE:
        return -1
    if word in ("a", "an") and position + 1 < len(tokens) and tokens[position + 1].text in _EN_ORDINAL_ONE:
        return 1  # "killing two and wounding a third"
    if word in _EN_VAGUE or (word in ("others", "more") and tokens[index].text.endswith("ing")):
        return -1  # "killing four fighters and wounding others": how many is not said
    if _EN_SINGULAR_PERSON.match(word):
        return 1  # "killed the driver of the lead truck"
    value = _number(word)
    if value is not None and any(
        _EN_ATTACKERS.match(token.text) for token in tokens[position + 1 : position + 3]
    ):
        return None  # "repelled the attack, killing two militants": the attackers are not its casualties
    if value is None or word in ("a", "an", "another", "both"):
        # "a"/"an" only counts with a person right after: "killing a soldier"
        if word in ("a", "an"):
            followers = [token.text for token in tokens[position + 1 : position + 3]]
            if any(_EN_PERSONS.match(follower) for follower in followers):
                return 1
        return None
    return value


def _bare_person_subject(tokens: list[_Tok], position: int, index: int) -> bool:
    """Whether a singular person noun with no article opens the clause of the casualty verb at
    ``index``, only adverbs or auxiliaries between them ("driver lightly injured")."""
    if not _EN_SINGULAR_PERSON.match(tokens[position].text):
        return False
    opener = tokens[position - 1].text if position > 0 else "."
    if opener not in _BREAK and opener not in (",", "and"):
        return False
    between = tokens[position + 1 : index]
    return all(token.text in _EN_AUXILIARIES or token.text.endswith("ly") for token in between)


def _en_figure_before(tokens: list[_Tok], index: int, stop: int) -> int | None:
    """'Three contractors ... and a female engineer were injured': quantities of people before the verb."""
    total = 0
    found = False
    position = index - 1
    if position > stop:
        immediate = _number(tokens[position].text)
        negated = position > 0 and tokens[position - 1].text in ("no", "not", "none")
        if immediate is not None and tokens[position].text not in ("a", "an", "both") and not negated:
            return immediate
    while position > stop:
        word = tokens[position].text
        if word in _BREAK or word in _EN_STOP_BEFORE or word in _EN_DASHES:
            break
        if word in _EN_REPORTING and position + 1 < index:
            break
        if word in ("including", "among"):
            total, found = 0, False  # "three people, including two drivers": the two are of the three
            position -= 1
            continue
        if word == "one" and position > 0 and tokens[position - 1].text == "no":
            break
        if _bare_person_subject(tokens, position, index):
            # headline style, no article: "Lead vehicle disabled, driver lightly injured"; a
            # comma or a stop before it ends the subject ("one truck burned, driver hurt")
            if position == 0 or tokens[position - 1].text != "and":
                return total + 1
            total += 1
            found = True
            position -= 1
            continue
        value = _number(word)
        if (
            value is None
            and (word == "the" or word in _EN_POSSESSIVES)
            and position + 1 < index
            and _EN_SINGULAR_PERSON.match(tokens[position + 1].text)
        ):
            # "the driver escaped with burns", "... and his assistant wounded": one person
            value = 1
        if (
            value is None
            and word in _EN_ORDINAL_ONE
            and position > 0
            and tokens[position - 1].text in ("a", "an")
            and position + 1 < index
            and tokens[position + 1].text in _EN_AUXILIARIES
        ):
            return 1  # "two drivers were killed and a third was wounded": one more person
        if value is not None and position > 0 and tokens[position - 1].text in ("no", "not", "none"):
            value = None  # "no one was hurt"
        if value is not None:
            following = [token.text for token in tokens[position + 1 : min(position + 5, index)]]
            if following and following[0] in _EN_VAGUE:
                return -1
            auxiliary = bool(following) and all(text in _EN_AUXILIARIES for text in following)
            # "two militants were killed": the attackers are not the attack's casualties
            attackers = any(_EN_ATTACKERS.match(text) for text in following[:2])
            people = word in ("another",) or auxiliary or any(_EN_PERSONS.match(text) for text in following)
            if people and not attackers:
                total += value
                found = True
        elif word in _EN_VAGUE and position + 1 < index and tokens[position + 1].text == "of":
            return -1
        position -= 1
    return total if found else None


#: How many tokens after "death toll" its figure may come ("... from Sunday's attack ... rose to five").
_TOLL_REACH = 16


def _en_toll(tokens: list[_Tok], index: int) -> int | None:
    """'the death toll rose to four', 'a death toll of 3': the total killed so far."""
    if index + 1 >= len(tokens) or tokens[index + 1].text != "toll":
        return None
    for position in range(index + 2, min(len(tokens) - 1, index + _TOLL_REACH)):
        if tokens[position].text in _BREAK:
            return None
        if tokens[position].text in ("to", "of", "at"):
            value = _number(tokens[position + 1].text)
            if value is not None and tokens[position + 1].text not in ("a", "an") and value <= MAX_FIGURE:
                return value
    return None


def _died_later(tokens: list[_Tok], index: int) -> bool:
    """'Two soldiers wounded in the bombing have died in hospital': the clause ends with their death."""
    for token in tokens[index + 1 :]:
        if token.text in _BREAK:
            return False
        if token.text in _EN_LATER_DIED:
            return True
    return False


@dataclass(slots=True)
class _Tally:
    """The highest killed and injured figures of one language's pass, and absurd ones seen."""

    killed: int | None = None
    injured: int | None = None
    vague_killed: bool = False
    vague_injured: bool = False

    def add(self, figure: int, *, kill: bool) -> None:
        """Count a figure for the dead (``kill``) or the hurt; one out of range is only noted."""
        if figure < 0 or figure > MAX_FIGURE:
            if kill:
                self.vague_killed = True
            else:
                self.vague_injured = True
        elif kill:
            self.killed = max(self.killed or 0, figure)
        else:
            self.injured = max(self.injured or 0, figure)

    def result(self) -> tuple[int | None, int | None, bool, bool]:
        """(killed, injured, an absurd killed figure seen, an absurd injured figure seen)."""
        return self.killed, self.injured, self.vague_killed, self.vague_injured


def _english(tokens: list[_Tok]) -> tuple[int | None, int | None, bool, bool]:
    tally = _Tally()
    last_trigger = -1
    clause_start = -1
    for index, token in enumerate(tokens):
        if token.text in _BREAK:
            clause_start = index
            continue
        is_kill = bool(_EN_KILL.match(token.text))
        is_hurt = bool(_EN_HURT.match(token.text))
        if not is_hurt and _EN_HURT_NOUN.match(token.text) and index > 0:
            is_hurt = tokens[index - 1].text in _EN_HURT_NOUN_CUE
        if not (is_kill or is_hurt):
            continue
        if is_kill and token.text in ("death", "deaths"):
            toll = _en_toll(tokens, index)
            if toll is not None:
                tally.killed = max(tally.killed or 0, toll)
                last_trigger = index
                continue
        if is_hurt and _died_later(tokens, index):
            last_trigger = index
            continue
        figure = None
        if token.text.endswith("ing") or token.text in (
            "killed",
            "kill",
            "kills",
            "wounded",
            "injured",
            "deaths",
        ):
            figure = _en_figure_after(tokens, index)
        if figure is None:
            figure = _en_figure_before(tokens, index, max(clause_start, last_trigger))
        last_trigger = index
        if figure is not None:
            tally.add(figure, kill=is_kill)
    return tally.result()


def _back_reference(tokens: list[_Tok], position: int) -> int:
    """How many tokens at ``position`` point back to the attack: 1 ("فيه"), 2 ("جراء ذلك",
    "على إثره"), 3 ("على إثر الانفجار"), else 0."""
    words = [token.text for token in tokens[position : position + 3]]
    if words[:1] and words[0] in _AR_BACK_REFERENCE:
        return 1
    if words[:1] == ["علي"] and len(words) > 1:
        if words[1] in ("اثره", "اثرها"):
            return 2
        return 3 if words[1] == "اثر" and len(words) == 3 else 0
    if words[:1] and words[0] in _AR_CAUSE_WORDS and len(words) > 1 and words[1] not in _BREAK:
        return 2
    return 0


#: Casualty verbs a subject may come before (Iraqi word order): "وسايقه انصاب", "جنديين استشهدوا".
_AR_SUBJECT_VERBS = re.compile(
    r"^(?:[وف])?(?:اصيب|اصيبوا|اصيبا|انصاب|انصابوا|انصابو|انجرح|انجرحوا|انجرحو|تصوب|تصوبوا|تصاوب|استشهد|"
    r"استشهدوا|استشهدو|انقتل|انقتلوا|ماتوا|ماتو)$"
)


def _arabic_figure(tokens: list[_Tok], index: int) -> int | None:
    """The figure right after (or before) an Arabic casualty word; -1 when vague; a person named
    right before a casualty verb ("وسايقه انصاب") when nothing after it counts."""
    figure = _arabic_figure_after(tokens, index)
    if figure is not None or index == 0 or not _AR_SUBJECT_VERBS.match(tokens[index].text):
        return figure
    person = _ar_person(tokens[index - 1].text)
    if person == 0 and index >= 3 and tokens[index - 2].text == "من":
        return _number(tokens[index - 3].text)  # "واحد من السواق انصاب": how many of them
    return person if person in (1, 2) else None


def _arabic_figure_after(tokens: list[_Tok], index: int) -> int | None:
    """The figure right after (or, for a plural victim noun, before) an Arabic casualty word."""
    trigger = _AR_PROCLITICS.sub("", tokens[index].text)
    for stem in ("قتيل", "شهيد", "جريح"):
        if trigger.startswith(stem) and _AR_DUAL_TRIGGER.search(trigger):
            return 2
    if index > 0:
        before = _number(tokens[index - 1].text)
        if before is not None and trigger in ("قتلي", "جرحي", "شهداء", "قتيلا", "جريحا", "شهيدا", "مصابين"):
            return before
        if trigger in ("قتيلا", "شهيدا", "جريحا") and _ar_person(tokens[index - 1].text) in (1, 2):
            # "ارتقى مقاتل شهيدا", "سقط جنديان قتيلا": the person who fell as one
            return _ar_person(tokens[index - 1].text)
    if index + 1 < len(tokens) and tokens[index + 1].text in _AR_ORDINAL_ONE:
        return 1
    if tokens[index].text.removeprefix("و") in _AR_SINGULAR_VICTIM:
        # "سقوط شهيد وجريحين": a bare singular victim noun is one person ("الشهيد القائد" is a title)
        return 1
    total = 0
    found = False
    position = index + 1 + _back_reference(tokens, index + 1)
    limit = min(len(tokens), position + 8)
    while position < limit:
        word = tokens[position].text
        if word in _BREAK or word == "," or _AR_KILL.match(word) or _AR_HURT.match(word):
            break
        if word in _AR_AMONG:
            break  # "خمسة أشخاص بينهم سائقان": the drivers are of the five
        value = _number(word)
        person = _ar_person(word)
        if value is not None:
            # "سائقين اثنين": the number restates the noun before it; "ضابط وثلاثة جنود" adds to it
            joined = word not in AR_NUMBERS and word.startswith("و")
            if found and not joined and position > 0 and _ar_person(tokens[position - 1].text) is not None:
                total = total - (_ar_person(tokens[position - 1].text) or 0) + value
            else:
                total += value
            found = True
            # "أحد السائقين", "ثلاثة آخرين": the noun after the number is part of it
            if position + 1 < limit and _ar_person(tokens[position + 1].text) is not None:
                position += 1
            elif position + 2 < limit and tokens[position + 1].text == "من":
                position += 2  # "ثلاثة من مقاتلي الحشد": who they were, not more of them
        elif person is not None:
            if person == 0:
                following = _number(tokens[position + 1].text) if position + 1 < limit else None
                if following is not None:
                    total += following
                    found = True
                    position += 1
                elif not found:
                    return -1
            else:
                total += person
                found = True
        elif found and (word in _AR_CAUSE or _AR_BY_CAUSE.match(word)):
            break  # "إصابة سائقين اثنين باستهداف رتل شاحنات متعاقدة": what hit them, not more people
        elif found and word.startswith("و"):
            # "استشهاد ٤ مقاتلين واحتراق ثلاث عجلات": another noun joined by و ends the people
            next_word = tokens[position + 1].text if position + 1 < limit else ""
            if word != "و" or (_number(next_word) is None and _ar_person(next_word) is None):
                break
        elif not found and position == index + 1 + _back_reference(tokens, index + 1):
            # the word after a casualty noun is not a person or a number ("إصابة مباشرة")
            return None
        position += 1
    return total if found else None


#: "ارتفاع عدد شهداء الهجوم ... إلى أربعة", "حصيلة الجرحى بلغت ٥": the count so far (folded).
_AR_COUNT_WORDS = frozenset(("عدد", "حصيله", "وعدد", "وحصيله"))
_AR_TOLL_TO = frozenset(("الي", "بلغت", "بلغ", "وبلغت", "وبلغ"))


def _arabic_toll(tokens: list[_Tok], index: int) -> int | None:
    """The figure a toll rose to, for a casualty noun after "عدد"/"حصيلة"; None otherwise."""
    if index == 0 or tokens[index - 1].text not in _AR_COUNT_WORDS:
        return None
    if index + 1 < len(tokens) and tokens[index - 2 : index - 1] and tokens[index - 2].text in _AR_TOLL_TO:
        return _number(tokens[index + 1].text)  # "وبلغ عدد الجرحى ثلاثة"
    for position in range(index + 1, min(len(tokens) - 1, index + _TOLL_REACH)):
        if tokens[position].text in _BREAK:
            return None
        if tokens[position].text in _AR_TOLL_TO:
            value = _number(tokens[position + 1].text)
            if value is not None:
                return value
    return None


def _negated_verb(tokens: list[_Tok], index: int) -> bool:
    """Whether a casualty word is negated right before it: "لم يصب", "دون أن يصاب"."""
    before = tokens[index - 1].text if index > 0 else ""
    if before in _AR_NEGATORS:
        return True
    return before == "ان" and index > 1 and tokens[index - 2].text in _AR_NEGATORS


def _arabic(tokens: list[_Tok]) -> tuple[int | None, int | None, bool, bool]:
    tally = _Tally()
    for index, token in enumerate(tokens):
        word = token.text
        if index > 0 and tokens[index - 1].text in _AR_COUNT_WORDS:
            word = word.removeprefix("ال")  # "حصيلة القتلى": the toll's noun takes the article
        is_kill = bool(_AR_KILL.match(word))
        is_hurt = not is_kill and bool(_AR_HURT.match(word))
        if not (is_kill or is_hurt):
            continue
        if _negated_verb(tokens, index):
            continue  # "دون أن يصاب أحد", "لم يُصب أحد": nobody, not one
        figure = _arabic_toll(tokens, index)
        if figure is None:
            figure = _arabic_figure(tokens, index)
        if figure is not None:
            tally.add(figure, kill=is_kill)
    return tally.result()


def _sentences(text: str) -> list[str]:
    return [part for part in re.split(r"(?<=[.!?؟\n])\s*", text) if part.strip()]


def _zero(text: str) -> tuple[bool, bool]:
    """Whether the text says nobody was killed / nobody was hurt (specific, not 'most attacks')."""
    zero_killed = zero_both = False
    for sentence in _sentences(text):
        if _GENERIC.search(sentence) or _ATTACKER_SIDE.search(sentence):
            continue
        if any(pattern.search(sentence) for pattern in (_EN_ZERO_BOTH, _AR_MATERIAL_ONLY, _AR_NOBODY)):
            zero_both = True
        if _EN_ZERO_KILLED.search(sentence):
            zero_killed = True
        tokens = [token.text for token in _tokens(sentence)]
        for index, word in enumerate(tokens):
            harm = (
                bool(_AR_HUMAN_HARM.match(word))
                and index + 1 < len(tokens)
                and tokens[index + 1] in _AR_HUMAN
            )
            if not (_AR_ZERO_NOUNS.match(word) or harm):
                continue
            if index + 1 < len(tokens) and tokens[index + 1] in ("ماديه", "بالماديات"):
                continue
            window = tokens[max(0, index - 5) : index]
            negated = [position for position, item in enumerate(window) if item in _AR_NEGATORS]
            if negated and not any(_AR_INFO.match(item) for item in window[negated[-1] :]):
                lives = tokens[index + 1 : index + 3]
                if lives and lives[0] in _AR_LIVES and (lives[0] != "في" or lives[1:2] == ["الارواح"]):
                    zero_killed = True
                else:
                    zero_both = True
    return zero_both or zero_killed, zero_both


def _larger(first: int | None, second: int | None) -> int | None:
    if first is None:
        return second
    if second is None:
        return first
    return max(first, second)


def find_casualties(text: str) -> Casualties:
    """Killed and injured stated in a (segment of a) report."""
    body = fold(_MARKED_DUAL.sub("\u0627\u0646", text)).text
    tokens = _tokens(body)
    en_killed, en_injured, en_vague_k, en_vague_i = _english(tokens)
    ar_killed, ar_injured, ar_vague_k, ar_vague_i = _arabic(tokens)
    killed = _larger(en_killed, ar_killed)
    injured = _larger(en_injured, ar_injured)
    zero_killed, zero_injured = _zero(body)
    if killed is None and zero_killed and not (en_vague_k or ar_vague_k):
        killed = 0
    if injured is None and zero_injured and not (en_vague_i or ar_vague_i):
        injured = 0
    return Casualties(killed, injured)
