"""A literal prefilter: which concepts *may* occur in a text, without tokenising it.

Most posts a channel carries cannot make any relevance rule fire. Finding that out with the
tokeniser and the matcher costs a split of the whole text and a dictionary probe per word;
the prefilter instead folds the text with a handful of C-level string operations and runs
one Aho-Corasick pass over it, looking for a *key* of every term: a piece of one of the
term's words that every token the matcher could read as that word contains (Hyperscan's
"literal prefilter", in Python).

Why a key is always inside such a token: the matcher reads a token as a vocabulary word
either as it is, or by removing proclitics and endings and then at most adding the
article ال in front or one restored letter at the end (ه for ت/ات, ``y`` for ``-ies``,
``e`` for ``-ed``/``-ing``). So the word without the alef of a leading ال (every article a
token may hold ends in ل: ال بال كال لل) and without a final ه, ``e`` or ``y`` is a
substring of the token. Exact terms are themselves, a wildcard's stem is a
prefix of the token's reading (the same argument holds), and a regex term's keys are the
literals inside one word that every match contains (a regex term without one makes its
concept always possible).

The folded text keeps the rare spellings that the full normaliser would fold (ٱ, Persian
letters, Eastern digits); instead, every key is also added in those spellings. A text that
is not NFKC-normalised (presentation forms, ligatures, full-width letters) is normalised
in full first. The result is a *superset*: ``possible(text)`` has the bit of every concept
``Matcher.scan`` would find in ``tokenise(text)`` (a property test checks it), and maybe more.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from itertools import product

import ahocorasick

from bot.rules.accel import Scanner, hyperscan  # hyperscan: None where it is not installed
from bot.rules.matcher import (
    GAF,
    QAF,
    TermEntry,
    _first_literals,
    _inner_literals,
    _required_literal,
    may_hold,
    term_words,
)
from bot.rules.text import DROP, LINE, TABLE, fold_letters, normalise

__all__ = ["Prefilter", "screen_text", "term_key", "term_keys"]

#: Letters the screen text folds itself (the frequent ones); the rest get key variants.
_FOLDED = (
    ("\u0623", "\u0627"),
    ("\u0625", "\u0627"),
    ("\u0622", "\u0627"),
    ("\u0649", "\u064a"),
    ("\u0629", "\u0647"),
)
_FOLDED_SOURCES = frozenset(source for source, _ in _FOLDED)
#: letter -> every character the normaliser folds into it that the screen text leaves alone
_SPELLINGS: dict[str, tuple[str, ...]] = {}
for _code, _target in TABLE.items():
    if _target is not None and chr(_code) not in _FOLDED_SOURCES:
        _SPELLINGS[_target] = (*_SPELLINGS.get(_target, ()), chr(_code))
#: the matcher may also read گ as ق (Iraqi writing): a key with ق is looked for with گ too
_SPELLINGS[QAF] = (*_SPELLINGS.get(QAF, ()), GAF)
#: At most this many spellings of one key (a longer word keeps its least ambiguous piece).
_MAX_SPELLINGS = 256
_ARTICLE = "\u0627\u0644"  # ال
_RESTORED = frozenset("\u0647ey")  # ه e y: a letter a reading may add at the end


def screen_text(text: str) -> str:
    """The text folded cheaply for the prefilter (``normalise`` minus the rare letter folds)."""
    if text.isascii():
        return text.lower()
    if not unicodedata.is_normalized("NFKC", text):
        if GAF in text:  # normalise folds گ to ك; the matcher may read it as ق too: both
            return normalise(text) + "\n" + normalise(text.replace(GAF, QAF))
        return normalise(text)
    folded = DROP.sub("", text.casefold())
    for source, target in _FOLDED:
        if source in folded:
            folded = folded.replace(source, target)
    return folded


def _word_key(word: str, *, exact: bool = False) -> str:
    """The part of a vocabulary word that every token read as it contains (an exact term's
    word is only ever itself)."""
    if exact:
        return word
    if word.startswith(_ARTICLE) and len(word) > len(_ARTICLE):
        # a token read as ال + rest holds an article ending in ل before rest (ال بال كال لل)
        word = word[len(_ARTICLE) - 1 :]
    if len(word) > 1 and word[-1] in _RESTORED:
        word = word[:-1]
    return word


def _spellings(key: str) -> int:
    total = 1
    for char in key:
        total *= 1 + len(_SPELLINGS.get(char, ()))
    return total


def _least_ambiguous(key: str) -> str:
    """The longest piece of a key with at most ``_MAX_SPELLINGS`` spellings."""
    if _spellings(key) <= _MAX_SPELLINGS:
        return key
    best = ""
    for start in range(len(key)):
        for end in range(len(key), start + len(best), -1):
            if _spellings(key[start:end]) <= _MAX_SPELLINGS:
                best = key[start:end]
                break
    return best


def term_key(entry: TermEntry) -> str | None:
    """The key of a plain term: its longest word key (None: a regex, or no usable key)."""
    if entry.regex:
        return None
    words = [word.rstrip("*") for word in term_words(entry.term.rstrip().rstrip("*"))]
    keys = [_least_ambiguous(_word_key(word, exact=entry.exact)) for word in words if word]
    best = max(keys, key=len, default="")
    return best or None


def term_keys(entry: TermEntry) -> tuple[str, ...] | None:
    """Keys one of which every match of the term contains (None: the term cannot be screened).

    A plain term has one (``term_key``). A regex term is matched against the normalised
    words, so a literal every match contains, inside one word, is a key: its required
    literal, or else the word-start literals of its first group's alternatives, or else
    (after optional proclitic letters, ``(و|ف)?(ال)?(عمليه|عمليات)``) the literals one of
    which its first word holds.
    """
    if not entry.regex:
        key = term_key(entry)
        return None if key is None else (key,)
    pattern = fold_letters(entry.term)
    required = _required_literal(pattern)
    if required is not None:
        piece = max(required.split(" "), key=len)
        if len(piece) >= _MIN_REGEX_KEY and piece.isalnum():
            return (_least_ambiguous(piece),)
    for literals in (_first_literals(pattern), _inner_literals(pattern)):
        if literals is not None:
            pieces = [literal.split(" ")[0] for literal in literals]
            if all(len(piece) >= _MIN_REGEX_KEY - 1 and piece.isalnum() for piece in pieces):
                return tuple(sorted({_least_ambiguous(piece) for piece in pieces}))
    return None


#: A regex key shorter than this would match nearly every post: the term is not screened.
_MIN_REGEX_KEY = 3


def _spelled(key: str) -> Iterable[str]:
    """The key in every spelling the screen text may hold it in."""
    options = [(char, *_SPELLINGS.get(char, ())) for char in key]
    return ("".join(letters) for letters in product(*options))


class _Hyperscan:
    """The keys as one Hyperscan literal database (each key reported once per scan).

    One id per key: with ids shared by the keys of one concept mask, single-match
    compilation takes ~9x longer (0.78 s against 0.09 s for ~7,000 keys).
    """

    def __init__(self, masks: Mapping[str, int]) -> None:
        assert hyperscan is not None
        self.kinds = list(masks.values())  # id -> the concept mask of its key
        self.database = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self.database.compile(
            expressions=[key.encode("utf-8") for key in masks],
            ids=list(range(len(masks))),
            elements=len(masks),
            flags=hyperscan.HS_FLAG_SINGLEMATCH,
            literal=True,
        )
        self._scanner = Scanner(self.database)

    def found(self, text: str) -> int:
        mask = 0
        kinds = self.kinds
        for ident in self._scanner.ids(text.encode("utf-8", "surrogatepass")):
            mask |= kinds[ident]
        return mask


class _AhoCorasick:
    """The keys as one pyahocorasick automaton (where Hyperscan is not installed)."""

    def __init__(self, masks: Mapping[str, int]) -> None:
        automaton = ahocorasick.Automaton()
        for key, mask in masks.items():
            automaton.add_word(key, mask)
        automaton.make_automaton()
        self._automaton = automaton

    def found(self, text: str) -> int:
        mask = 0
        for _end, kind in self._automaton.iter(text):
            mask |= kind
        return mask


def _literals(masks: Mapping[str, int], engine: str) -> _Hyperscan | _AhoCorasick | None:
    """A matcher of these keys on ``engine`` (hyperscan, aho-corasick; auto: the first there)."""
    if not masks:
        return None
    if engine != "aho-corasick" and hyperscan is not None:
        return _Hyperscan(masks)
    return _AhoCorasick(masks)


class Prefilter:
    """One pass over the folded text for the keys of some concepts' terms.

    Hyperscan's literal matcher when it is installed (x86-64 Linux wheels), else a
    pyahocorasick automaton (the same answer, about three times slower).

    ``regex_concepts`` bounds, in a second small pass, which concepts' *regex* terms may
    match (the matcher's regex gate answers that more tightly, but needs the tokenised text).
    """

    def __init__(
        self, concepts: Mapping[str, Iterable[TermEntry]], order: tuple[str, ...], *, engine: str = "auto"
    ) -> None:
        if engine not in ("auto", "hyperscan", "aho-corasick"):
            raise ValueError(f"unknown prefilter engine {engine!r}")
        if engine == "hyperscan" and hyperscan is None:
            raise ValueError("hyperscan is not installed")
        bit = {concept: 1 << number for number, concept in enumerate(order)}
        always = 0
        spread = 0
        regex_always = 0
        masks: dict[str, int] = {}
        regex_masks: dict[str, int] = {}
        for concept, entries in concepts.items():
            mask = bit.get(concept, 0)
            if not mask:
                continue
            for entry in entries:
                if entry.regex and may_hold(fold_letters(entry.term), LINE):
                    spread |= mask
                keys = term_keys(entry)
                if keys is None or not all(keys):
                    always |= mask
                    if entry.regex:
                        regex_always |= mask
                    continue
                for key in keys:
                    for spelling in _spelled(key):
                        masks[spelling] = masks.get(spelling, 0) | mask
                        if entry.regex:
                            regex_masks[spelling] = regex_masks.get(spelling, 0) | mask
        self.always = always
        #: concepts with a regex term whose match may run on past a line break (``.`` or
        #: ``[^ ]`` may take the line mark): its key may be on a later line than its first token
        self.spread = spread
        self.keys = len(masks)
        self._keys = _literals(masks, engine)
        self._regex_always = regex_always
        self._regex_keys = _literals(regex_masks, engine)
        self.engine = (
            "none"
            if self._keys is None
            else "hyperscan"
            if isinstance(self._keys, _Hyperscan)
            else "aho-corasick"
        )

    @property
    def size(self) -> int:
        """Bytes of the compiled Hyperscan databases (0 on pyahocorasick: its memory is Python's)."""
        return sum(
            literals.database.size()
            for literals in (self._keys, self._regex_keys)
            if isinstance(literals, _Hyperscan)
        )

    def possible(self, text: str) -> int:
        """A bit mask (over ``order``) of the concepts that may occur in ``text``."""
        return self.found(screen_text(text)) if text else self.always

    def found(self, folded: str) -> int:
        """``possible`` of the text ``folded`` is the ``screen_text`` of."""
        if not folded or self._keys is None:
            return self.always
        return self.always | self._keys.found(folded)

    def regex_concepts(self, folded: str) -> int:
        """The concepts (of ``order``) whose regex terms may match the text ``folded`` is the
        ``screen_text`` of: a superset, as ``found`` is, of those with a regex hit."""
        if not folded or self._regex_keys is None:
            return self._regex_always
        return self._regex_always | self._regex_keys.found(folded)

    def line_masks(self, text: str, possible: int, folded: str | None = None) -> Iterator[int]:
        """``possible`` of each line of ``text``, line by line (a caller may stop early);
        ``possible``: the whole text's mask, ``folded``: its ``screen_text`` if at hand.

        A term never matches across a line break, so a concept a line's tokens hold is
        possible in that line; the concept of a regex term that may match across one
        (``spread``), possible anywhere in the text, is taken as possible in every line.
        The folded text's lines are the lines' folded texts (folding never adds or joins
        lines) unless the fold wrote the text twice (the two readings of گ).
        """
        spread = possible & self.spread
        lines = None if folded is None else folded.split("\n")
        if lines is None or len(lines) != text.count("\n") + 1:
            lines = [screen_text(line) for line in text.split("\n")]
        found = self.found
        for line in lines:
            yield found(line) | spread
