"""One-pass matching of every term of every concept over a tokenised document.

How tolerance works without a per-term loop: the vocabulary (every word of every term) is
known when the matcher is built, so all *tolerant forms* of each vocabulary word are
generated up front, Arabic proclitics (و ف ب ك ل, the article ال, the ل+ال contraction لل)
and English inflections (-s, -es, -ed, -ing, -ies, doubled consonants), into one dict
``form -> word``. Scanning a document then maps every token to its vocabulary word (one C
level ``map(dict.get, ...)``), joins the result into a string and runs a single
Aho-Corasick automaton (pyahocorasick) over it, where each term is a key ``" w1 w2 "``.
The cost grows with the text, not with the number of terms.

Vocabulary guidance keeps the classic false positives out:

* a form is only mapped when it is not itself a vocabulary word (``بابل`` is not ``ب+ابل``
  when ``بابل`` is a term word) and not protected (an ``exact`` term's words are protected:
  list ``بلغم`` as exact to keep ``لغم`` from matching it);
* a term written with the article (``الموصل``, ``القاعدة``) only matches tokens that carry
  it (``للموصل``, ``بالموصل``), never the bare word (``سلك موصل``, ``قاعدة عسكرية``);
* Arabic words shorter than three letters get no proclitic forms (``اب`` is not ``باب``).

When a tolerant form of a word is itself another vocabulary word through the article or an
inflection (``القاعده`` is a form of ``قاعده`` and also a term word), the term gets that
form as an alternative key, so both terms match it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import product
from operator import itemgetter
from typing import Any, ClassVar, NamedTuple

import ahocorasick

from bot.rules.accel import RegexGate, hyperscan
from bot.rules.text import LINE, MARKS, SENTENCE, Document, chunk_stream, fold_letters, tokenise

__all__ = ["GAF", "QAF", "Hit", "Matcher", "Presence", "TermEntry", "compile_regex", "readings", "term_words"]

#: Gaf, which Iraqi writers also put for the qaf sound (حرگ for حرق "burned"), and qaf.
GAF = "\u06af"
QAF = "\u0642"


@dataclass(frozen=True, slots=True)
class TermEntry:
    """A term of a concept.

    * plain: matches the term's words with tolerant forms (proclitics, inflections);
    * ``exact``: only the normalised words themselves;
    * a trailing ``*`` (``استهدف*``, ``bomb*``): the last word is a prefix of the token;
    * ``regex``: a Python regular expression over the normalised words (separated by single
      spaces), matching whole words; regex terms are scanned in one extra pass of their own.
    """

    concept: str
    term: str
    exact: bool = False
    origin: str | None = None  # "file:line", for messages
    regex: bool = False

    @property
    def wildcard(self) -> bool:
        """Whether the term's last word is a prefix (written with a trailing ``*``)."""
        return not self.regex and self.term.rstrip().endswith("*")


class Hit(NamedTuple):
    """A term found in a document: token indexes ``first..last`` (inclusive), original span.

    A named tuple rather than a dataclass: a relevant post makes dozens and they are
    built on the hot path.
    """

    concept: str
    term: str
    first: int
    last: int
    start: int
    end: int


_ARABIC_LETTERS = frozenset(chr(code) for code in range(0x0621, 0x064B))
_VOWELS = frozenset("aeiou")
#: Proclitic strings: a conjunction, then a preposition and/or the article (ل + ال = لل).
_PREFIXES: tuple[tuple[str, bool], ...] = tuple(
    sorted(
        {
            (conjunction + rest, article)
            for conjunction in ("", "و", "ف")
            for rest, article in (
                ("", False),
                ("ب", False),
                ("ك", False),
                ("ل", False),
                ("ال", True),
                ("بال", True),
                ("كال", True),
                ("لل", True),
            )
        },
        key=lambda item: -len(item[0]),
    )
)
#: Enclitic pronouns (رتلهم "their convoy") and the accusative alef (رتلاً -> رتلا): no article.
_ENCLITICS = ("هما", "ها", "هم", "هن", "كم", "نا", "ه", "ا")
#: Dual and sound feminine plural endings (الرتلين, بالعبوات): the article is allowed.
_NUMBER = ("ين", "ان", "ات")
_MIN_STEM = 3


def term_words(term: str) -> tuple[str, ...]:
    """The normalised words of a term, tokenised exactly like post text."""
    return tuple(word for word in tokenise(term).words if word not in MARKS)


def _is_arabic(word: str) -> bool:
    return word[0] in _ARABIC_LETTERS


def _stems(rest: str, article: bool) -> Iterator[str]:
    """A bare remainder and what it may be without an ending (ة restored before endings)."""
    yield rest
    endings = _NUMBER if article else (*_ENCLITICS, *_NUMBER)
    for ending in endings:
        if rest.endswith(ending) and len(rest) - len(ending) >= _MIN_STEM - (ending == "ات"):
            stem = rest[: -len(ending)]
            if ending == "ات":
                yield stem + "ه"  # عبوات -> عبوه
                continue
            yield stem
            if stem.endswith("ت"):
                yield stem[:-1] + "ه"  # عبوتها, عبوتين -> عبوه


def _arabic_readings(token: str) -> Iterator[tuple[str, bool]]:
    """Ways to read an Arabic token as proclitics + a word (+ ending); safe = only the article."""
    for prefix, article in _PREFIXES:
        if not token.startswith(prefix) or len(token) - len(prefix) < 2:
            continue
        rest = token[len(prefix) :]
        if article:
            yield "ال" + rest, False  # a term word written with the article: بالموصل -> الموصل
        elif prefix and rest.startswith("ال") and len(rest) > 4:
            yield rest, False  # وبالموصل handled above; والموصل -> الموصل
        for stem in _stems(rest, article):
            if len(stem) >= _MIN_STEM and (prefix or stem != token):
                yield stem, prefix == "ال" and stem == rest


def _english_readings(token: str) -> Iterator[tuple[str, bool]]:
    """Plural and simple verb inflections stripped from an English token (all safe)."""
    if len(token) < 4 or not token.isascii() or not token.isalpha():
        return
    candidates: list[str] = []
    if token.endswith("s"):
        candidates.append(token[:-1])
        if token.endswith("es"):
            candidates.append(token[:-2])
        if token.endswith("ies"):
            candidates.append(token[:-3] + "y")
    for ending in ("ed", "ing"):
        if token.endswith(ending):
            stem = token[: -len(ending)]
            candidates += [stem, stem + "e"]
            if len(stem) > 2 and stem[-1] == stem[-2] and stem[-1] not in _VOWELS:
                candidates.append(stem[:-1])  # hitting -> hit, planned -> plan
            if ending == "ed" and stem.endswith("i"):
                candidates.append(stem[:-1] + "y")  # supplied -> supply
    for candidate in candidates:
        if len(candidate) >= _MIN_STEM:
            yield candidate, True


def readings(token: str) -> Iterator[tuple[str, bool]]:
    """Every way to read a normalised token as a word with affixes, with whether it is *safe*.

    Safe readings (the bare article, English inflections) still apply when the token is
    itself a vocabulary word; proclitic and ending readings do not (``بابل`` is not ``ب+ابل``).
    """
    if not token:
        return
    if _is_arabic(token):
        yield from _arabic_readings(token)
    else:
        yield from _english_readings(token)


@dataclass(frozen=True, slots=True)
class Presence:
    """Which concepts (bit masks over a concept tuple) may or must occur, by sentence and token."""

    sentences: list[tuple[int, int]]  # (certain, possible) of each sentence with a match
    positions: list[tuple[int, int, int]]  # (first token, certain, possible), ascending
    everywhere: int = 0  # concepts with regex terms not scanned: possible in every sentence and place


class _Key(NamedTuple):
    """A term as the automaton holds it (a tuple: ``scan`` unpacks thousands per second)."""

    concept: str
    term: str
    words: tuple[str, ...]
    exact: bool
    size: int


def compile_regex(pattern: str) -> re.Pattern[str]:
    """Compile a regex term so it matches whole words of a normalised stream (raises re.error).

    The pattern is matched against normalised text (lower case, ه for ة, ا for أ ...); its
    Arabic letters are folded the same way, its case and escapes are left alone.
    """
    return re.compile(f"(?<![^ ])(?:{pattern})(?![^ ])")


def _strip_lookbehinds(pattern: str) -> str:
    """The pattern without the lookbehind assertions it starts with (a looser pattern)."""
    rest = pattern
    while rest.startswith(("(?<!", "(?<=")):
        depth = 0
        in_class = False
        index = 0
        while index < len(rest):
            char = rest[index]
            if char == "\\":
                index += 2
                continue
            if in_class:
                in_class = char != "]"
            elif char == "[":
                in_class = True
            elif char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
                if not depth:
                    break
            index += 1
        if depth:
            return pattern  # unbalanced: leave it alone
        rest = rest[index + 1 :]
    return rest or pattern


def _parse(pattern: str) -> Any:
    """The parsed pattern (sre's tree), or None when it does not parse."""
    try:
        return re._parser.parse(pattern)  # type: ignore[attr-defined]
    except re.error:
        return None


def _parse_plain(pattern: str) -> Any:
    """The parsed pattern (sre's tree), or None when it does not parse or ignores case/spaces."""
    parsed = _parse(pattern)
    if parsed is None or parsed.state.flags & (re.IGNORECASE | re.VERBOSE):
        return None
    return parsed


def _required_literal(pattern: str) -> str | None:
    """The longest run of literal characters every match of the pattern contains (>= 2)."""
    parsed = _parse_plain(pattern)
    if parsed is None:
        return None
    literal = re._constants.LITERAL  # type: ignore[attr-defined]
    best = run = ""
    for op, value in parsed:
        if op is literal:
            run += chr(value)
            best = max(best, run, key=len)
        else:
            run = ""
    return best if len(best) >= 2 else None


def _literal_prefix(items: list[tuple[object, Any]]) -> str:
    literal = re._constants.LITERAL  # type: ignore[attr-defined]
    prefix = ""
    for op, value in items:
        if op is not literal:
            break
        prefix += chr(value)
    return prefix


def _first_literals(pattern: str) -> tuple[str, ...] | None:
    """Literals one of which every match starts with (its first group's alternatives), or None."""
    parsed = _parse_plain(pattern)
    if parsed is None:
        return None
    return _first_literals_of(parsed)


def _first_literals_of(parsed: Any) -> tuple[str, ...] | None:
    constants = re._constants  # type: ignore[attr-defined]
    items = [item for item in parsed if item[0] not in (constants.ASSERT, constants.ASSERT_NOT)]
    if not items:
        return None
    op, value = items[0]
    if op is constants.LITERAL:
        return (_literal_prefix(items),)
    if op is constants.BRANCH and len(items) == 1:  # a|b at the top: a start of each
        starts: set[str] = set()
        for branch in value[1]:
            found = _first_literals_of(branch)
            if found is None:
                return None
            starts.update(found)
        return tuple(sorted(starts))
    if op is constants.SUBPATTERN and not value[1] & (re.IGNORECASE | re.VERBOSE):
        prefixes = _prefixes(list(value[-1]))
        if all(prefixes):
            return tuple(sorted(set(prefixes)))
    return None


def _prefixes(items: list[tuple[Any, Any]]) -> tuple[str, ...]:
    """Literal prefixes one of which every match of a group's items starts with.

    The parser factors a shared start out of alternatives (``(بالطيران|بطيران)`` becomes
    ``ب`` + a branch of ``الطيران`` and ``طيران``): the literals then a branch's are joined.
    """
    prefix = _literal_prefix(items)
    rest = items[len(prefix) :]  # one LITERAL item per character
    if rest and rest[0][0] is re._constants.BRANCH:  # type: ignore[attr-defined]
        return tuple(prefix + _literal_prefix(list(branch)) for branch in rest[0][1][1])
    return (prefix,)


def _only_word_letters(items: list[tuple[Any, Any]]) -> bool:
    """Whether these pattern items match only literal letters (no space), possibly alternated."""
    constants = re._constants  # type: ignore[attr-defined]
    for op, value in items:
        if op is constants.LITERAL:
            if chr(value).isspace():
                return False
        elif op is constants.IN:  # a set of letters: [وف] or (و|ف), which the parser merges
            if not all(kind is constants.LITERAL and not chr(code).isspace() for kind, code in value):
                return False
        elif op is constants.SUBPATTERN and not value[1]:
            if not _only_word_letters(list(value[-1])):
                return False
        elif op is constants.BRANCH:
            if not all(_only_word_letters(list(branch)) for branch in value[1]):
                return False
        else:
            return False
    return True


def _inner_literals(pattern: str) -> tuple[str, ...] | None:
    """Literals one of which every match holds in its first word, after optional letters.

    For patterns that begin with optional proclitic letters (``(و|ف)?`` or ``(و|ب|ل)*``):
    a match starts at the start of the word holding one of these literals.
    """
    parsed = _parse_plain(pattern)
    if parsed is None:
        return None
    constants = re._constants  # type: ignore[attr-defined]
    items = [item for item in parsed if item[0] not in (constants.ASSERT, constants.ASSERT_NOT)]
    skipped = 0
    while items and items[0][0] in (constants.MAX_REPEAT, constants.MIN_REPEAT):
        low, _high, body = items[0][1]
        if low != 0 or not _only_word_letters(list(body)):
            return None
        items = items[1:]
        skipped += 1
    if not skipped or not items:
        return None
    rest = re._parser.SubPattern(parsed.state, items)  # type: ignore[attr-defined]
    return _first_literals_of(rest)


def may_hold(pattern: str, char: str) -> bool:
    """Whether a match of ``pattern`` (a folded regex term) may hold ``char``: False only when
    no part of the pattern that consumes text can match it (True when unsure). Lookarounds
    consume nothing: what they look at is outside or inside the match, never part of it."""
    parsed = _parse(pattern)
    if parsed is None or parsed.state.flags & (re.ASCII | re.LOCALE):
        return True
    return _may_hold(list(parsed), char)


def _may_hold(items: list[tuple[Any, Any]], char: str) -> bool:
    constants = re._constants  # type: ignore[attr-defined]
    for op, value in items:
        if op is constants.LITERAL:
            held = chr(value) == char
        elif op is constants.NOT_LITERAL:
            held = chr(value) != char
        elif op is constants.ANY:
            held = char != "\n"
        elif op is constants.IN:
            held = _in_class(value, char)
        elif op is constants.AT:
            held = False  # an anchor holds no character
        elif op is constants.SUBPATTERN:
            held = bool(value[1] or value[2]) or _may_hold(list(value[3]), char)  # inline flags: unsure
        elif op is constants.BRANCH:
            held = any(_may_hold(list(branch), char) for branch in value[1])
        elif op in (constants.MAX_REPEAT, constants.MIN_REPEAT, constants.POSSESSIVE_REPEAT):
            held = value[1] > 0 and _may_hold(list(value[2]), char)
        elif op in (constants.ASSERT, constants.ASSERT_NOT):
            held = False
        elif op is constants.ATOMIC_GROUP:
            held = _may_hold(list(value), char)
        else:
            held = True  # back references, conditionals: unsure
        if held:
            return True
    return False


#: What a class escape of a parsed pattern stands for (tested on the character itself).
_CATEGORIES = {
    "CATEGORY_DIGIT": r"\d",
    "CATEGORY_NOT_DIGIT": r"\D",
    "CATEGORY_SPACE": r"\s",
    "CATEGORY_NOT_SPACE": r"\S",
    "CATEGORY_WORD": r"\w",
    "CATEGORY_NOT_WORD": r"\W",
}


def _in_class(items: list[tuple[Any, Any]], char: str) -> bool:
    """Whether a character class (``[...]``, parsed) matches ``char`` (True when unsure)."""
    constants = re._constants  # type: ignore[attr-defined]
    negated = False
    inside = False
    for op, value in items:
        if op is constants.NEGATE:
            negated = True
        elif op is constants.LITERAL:
            inside = inside or chr(value) == char
        elif op is constants.RANGE:
            inside = inside or value[0] <= ord(char) <= value[1]
        elif op is constants.CATEGORY and str(value) in _CATEGORIES:
            inside = inside or re.fullmatch(_CATEGORIES[str(value)], char) is not None
        else:
            return True
    return inside != negated


@dataclass(frozen=True, slots=True)
class _RegexTerm:
    """A regex term compiled for a fast scan of one stream.

    ``finder`` (the pattern without its leading lookbehinds and without the word-start
    check) finds candidate starts quickly; ``whole`` (``compile_regex``) confirms each one,
    so the matches are exactly those of ``whole.finditer``. A stream without ``required``
    cannot match at all.
    """

    entry: TermEntry
    whole: re.Pattern[str]
    finder: re.Pattern[str] | None  # None: the pattern can match empty, use whole.finditer
    required: str | None
    #: literals a match starts with (one of them, at a word start): candidates without a search
    starts: tuple[str, ...] | None
    #: literals one of which a match's first word holds after optional proclitic letters
    inner: tuple[str, ...] | None = None

    @classmethod
    def of(cls, entry: TermEntry) -> _RegexTerm:
        pattern = fold_letters(entry.term)
        whole = compile_regex(pattern)
        finder: re.Pattern[str] | None = re.compile(f"(?:{_strip_lookbehinds(pattern)})(?![^ ])")
        assert finder is not None
        if finder.search(" ") is not None or re.compile(pattern).fullmatch("") is not None:
            finder = None
        starts = _first_literals(pattern) if finder is not None else None
        inner = _inner_literals(pattern) if finder is not None and starts is None else None
        return cls(entry, whole, finder, _required_literal(pattern), starts, inner)

    def spans(self, stream: str) -> Iterator[tuple[int, int]]:
        """``(start, end)`` of every match of ``whole`` in the stream, as ``finditer`` finds them."""
        if self.required is not None and self.required not in stream:
            return
        if self.finder is None:
            for found in self.whole.finditer(stream):
                yield found.span()
            return
        match = self.whole.match
        if self.starts is not None or self.inner is not None:
            yield from self._spans_from_starts(stream)
            return
        search = self.finder.search
        position = 0
        while True:
            candidate = search(stream, position)
            if candidate is None:
                return
            start = candidate.start()
            confirmed = match(stream, start)
            if confirmed is None:
                position = start + 1
                continue
            end = confirmed.end()
            yield start, end
            position = end if end > start else start + 1

    def _spans_from_starts(self, stream: str) -> Iterator[tuple[int, int]]:
        """Like ``spans``, trying ``whole`` only at the start of words that begin with one of
        ``starts`` (or hold one of ``inner``)."""
        candidates: set[int] = set()
        if self.starts is not None:
            for literal in self.starts:
                needle = " " + literal
                found = stream.find(needle)
                while found >= 0:
                    candidates.add(found + 1)
                    found = stream.find(needle, found + 1)
        else:
            assert self.inner is not None
            rfind = stream.rfind
            for literal in self.inner:
                found = stream.find(literal)
                while found >= 0:
                    candidates.add(rfind(" ", 0, found) + 1)  # the start of the word it is in
                    found = stream.find(literal, found + 1)
        match = self.whole.match
        position = 0
        for start in sorted(candidates):
            if start < position:
                continue
            found_match = match(stream, start)
            if found_match is not None:
                end = found_match.end()
                yield start, end
                position = end if end > start else start + 1


class Matcher:
    """Every term of every concept compiled into one automaton; ``scan`` is one pass.

    Regex terms are searched one by one, but only those that may match the document: with
    Hyperscan installed (``accelerate``), one ``RegexGate`` pass tells which.
    """

    def __init__(self, entries: Iterable[TermEntry], *, accelerate: bool = True) -> None:
        prepared: list[tuple[TermEntry, tuple[str, ...]]] = []
        regexes: list[_RegexTerm] = []
        for entry in entries:
            if entry.regex:
                regexes.append(_RegexTerm.of(entry))
                continue
            words = term_words(entry.term)
            if words:
                prepared.append((entry, words))
        vocabulary = frozenset(word for _, words in prepared for word in words)
        tolerant = frozenset(
            word
            for entry, words in prepared
            if not entry.exact
            for word in (words[:-1] if entry.wildcard else words)
        )
        # a vocabulary word that is a safe form of another (القاعده of قاعده, attacks of attack)
        # stays itself, so the other word's terms also accept it
        aliases: dict[str, set[str]] = {}
        for word in vocabulary:
            for reading, safe in readings(word):
                if safe and reading in tolerant and reading != word:
                    aliases.setdefault(reading, set()).add(word)
        self._vocabulary = vocabulary
        self._tolerant = tolerant
        self._words = _WordCache(self._canonical_word)

        keys: dict[str, list[_Key]] = {}
        for entry, words in prepared:
            key = _Key(entry.concept, entry.term, words, entry.exact, len(words))
            alternatives: list[tuple[str, ...]] = [
                (word,) if entry.exact else (word, *sorted(aliases.get(word, ()))) for word in words
            ]
            if entry.wildcard:
                stem = words[-1]
                prefixed = (stem, "و" + stem, "ف" + stem) if _is_arabic(stem) and len(words) == 1 else (stem,)
                alternatives[-1] = prefixed
            for combination in product(*alternatives):
                pattern = " " + " ".join(combination) + ("" if entry.wildcard else " ")
                bucket = keys.setdefault(pattern, [])
                if key not in bucket:
                    bucket.append(key)
        values: list[tuple[int, tuple[_Key, ...]]] = []  # what the automaton holds
        automaton = ahocorasick.Automaton()
        for pattern, bucket in keys.items():
            value = (pattern.count(" "), tuple(bucket))  # the spaces a match of it spans
            values.append(value)
            automaton.add_word(pattern, value)
        if keys:
            automaton.make_automaton()
        self._automaton = automaton
        self._empty = not keys
        self._exact = any(key.exact for bucket in keys.values() for key in bucket)
        self._regexes = tuple(regexes)
        self._gate = (
            RegexGate([fold_letters(regex.entry.term) for regex in regexes])
            if accelerate and regexes and hyperscan is not None
            else None
        )
        self._candidates_key = f"regex-candidates:{id(self)}"
        self.size = len(prepared) + len(regexes)
        self._keys = keys
        # a wildcard key " w1 stem" (no closing space) matches a last token that starts with stem
        stems = tuple(sorted({key.rsplit(" ", 1)[-1] for key in keys if not key.endswith(" ")}))
        self._chunks = _ChunkCache(self._words, vocabulary, stems)
        self._memo_key = f"canonical:{id(self)}"
        self._regex_key = f"regex:{id(self)}"
        self._values = values
        self._longest = {
            id(bucket): sizes
            for _length, bucket in values
            if (sizes := tuple(sorted({key.size for key in bucket if key.size > 1})))
        }
        self._located_key = f"located:{id(self)}"
        #: per concept tuple: id(a key's bucket) -> (certain, possible) masks; each regex term's
        #: bit; the bits of all concepts with a regex term
        self._presence: dict[tuple[str, ...], tuple[dict[int, tuple[int, int]], tuple[int, ...], int]] = {}

    def _canonical_word(self, token: str) -> str:
        """The vocabulary word a token stands for (the longest reading), or the token itself."""
        if token in self._vocabulary:
            return token
        best = token
        for reading, _ in readings(token):
            if reading in self._tolerant and (
                best is token or len(reading) > len(best) or (len(reading) == len(best) and reading < best)
            ):
                best = reading
        return best

    def canonical(self, doc: Document) -> str:
        """The document's stream with every word mapped to its vocabulary word (the automaton input)."""
        memo = doc.memo
        cached = memo.get(self._memo_key)
        if isinstance(cached, str):
            return cached
        stream = " " + " ".join(filter(None, map(self._chunks.__getitem__, doc.parts))) + " "
        memo[self._memo_key] = stream
        return stream

    def presence_map(
        self, doc: Document, concepts: tuple[str, ...], *, regexes: bool = False, bound: int | None = None
    ) -> Presence:
        """Where ``concepts`` occur: per sentence, and per token (one automaton pass, no hits).

        ``positions`` holds ``(first token, certain, possible)`` for every match of a key,
        ascending: the first token a hit of that key would have. Concepts with regex terms
        that may match (all, or those the gate lets through) are possible everywhere
        (``everywhere``) unless ``regexes``: then those terms are scanned (their hits are
        real, so certain where they are; ``scan`` reuses them). ``bound`` (a mask over
        ``concepts``, not with ``regexes``) stands in for the gate: the caller's superset of
        the concepts whose regex terms may match, so the text's stream is not built.
        """
        screen = self._presence.get(concepts)
        if screen is None:
            screen = self._presence[concepts] = self._presence_screen(concepts)
        masks, term_bits, with_regexes = screen
        regex_bits = 0
        if bound is not None:
            if regexes:
                raise ValueError("a bound stands in for the regex gate: not with regexes=True")
            regex_bits = with_regexes & bound
        elif with_regexes:
            for number in self._regex_candidates(doc):
                regex_bits |= term_bits[number]
        everywhere = 0 if regexes else regex_bits
        if not doc.parts:
            return Presence([], [], everywhere)
        memo = doc.memo
        memo_key = f"presence:{id(self)}:{hash(concepts)}"
        cached = memo.get(memo_key)  # the automaton's part, when asked again with regexes
        if not isinstance(cached, tuple):
            cached = memo[memo_key] = self._key_presence(doc, masks)
        sentences, positions = cached
        if regex_bits and regexes:
            sentences, positions = dict(sentences), list(positions)  # the memo stays as it is
            bit = {concept: 1 << number for number, concept in enumerate(concepts)}
            keys = doc.sentence_keys
            extra = False
            for hit in self._regex_hits(doc):
                mask = bit.get(hit.concept, 0)
                if mask:
                    extra = True
                    positions.append((hit.first, mask, mask))
                    sentence = keys[hit.first]
                    known = sentences.get(sentence)
                    sentences[sentence] = (
                        (mask, mask) if known is None else (known[0] | mask, known[1] | mask)
                    )
            if extra:
                positions.sort(key=_START)
        listed = list(sentences.values())
        if everywhere:
            listed = [(sure, maybe | everywhere) for sure, maybe in listed]
            listed.append((0, everywhere))  # a sentence holding only regex hits
        return Presence(listed, positions, everywhere)

    def _key_presence(
        self, doc: Document, masks: Mapping[int, tuple[int, int]]
    ) -> tuple[dict[int, tuple[int, int]], list[tuple[int, int, int]]]:
        """The automaton's matches of keys with these masks, by sentence key and by first token."""
        sentences: dict[int, tuple[int, int]] = {}
        positions: list[tuple[int, int, int]] = []
        if not masks:
            return sentences, positions
        get = masks.get
        for _slot, first, sentence, keys in self._located(doc):
            mask = get(id(keys))
            if mask is None:
                continue
            sure, maybe = mask
            positions.append((first, sure, maybe))
            known = sentences.get(sentence)
            sentences[sentence] = (sure, maybe) if known is None else (known[0] | sure, known[1] | maybe)
        positions.sort(key=_START)  # matches come by end; a longer key may start earlier
        return sentences, positions

    def _located(self, doc: Document) -> list[tuple[int, int, int, tuple[_Key, ...]]]:
        """Every key match as (slot in ``doc.words``, first token, sentence key, its keys), in
        the automaton's order (by end): one pass, shared by the screen and ``scan``.

        Counts run up to each match's end, which only grows: a key " w1 w2 " spans its
        words' spaces (leading, inner, closing), so the words before it are the spaces up to
        its end less those; it holds no sentence mark, so the marks before it are those up to
        its end.
        """
        memo = doc.memo
        cached = memo.get(self._located_key)
        if cached is not None:
            return cached  # type: ignore[return-value]
        stream = self.canonical(doc)
        count = stream.count
        find = stream.find
        size = len(stream)
        keys_of = doc.sentence_keys
        located: list[tuple[int, int, int, tuple[_Key, ...]]] = []
        append = located.append
        previous = spaces = marks = 0
        mark = find(SENTENCE)  # the next sentence mark (LINE is spelled SENTENCE); size: none left
        if mark < 0:
            mark = size
        for end, (inside, keys) in self._automaton.iter(stream):
            stop = end + 1
            if stop != previous:
                spaces += count(" ", previous, stop)  # spaces before stop
                while mark < stop:  # the marks before stop: the sentence key
                    marks += 1
                    mark = find(SENTENCE, mark + 1)
                    if mark < 0:
                        mark = size
                previous = stop
            slot = spaces - inside  # index in doc.words (marks included)
            first = slot - marks
            keys_of[first] = marks
            append((slot, first, marks, keys))
        memo[self._located_key] = located
        return located

    def _regex_hits(self, doc: Document) -> list[Hit]:
        """The regex terms' hits in a document (scanned once per document and matcher)."""
        memo = doc.memo
        cached = memo.get(self._regex_key)
        if cached is None:
            cached = memo[self._regex_key] = self._scan_regexes(doc) if self._regexes else []
        return cached  # type: ignore[return-value]

    def _regex_candidates(self, doc: Document) -> list[int]:
        """Indexes (ascending) of the regex terms that may match the document: every one
        without the gate; with it, a superset of those that do (one Hyperscan pass)."""
        memo = doc.memo
        cached = memo.get(self._candidates_key)
        if cached is None:
            gate = self._gate
            cached = memo[self._candidates_key] = (
                list(range(len(self._regexes))) if gate is None else gate.candidates(" " + doc.stream + " ")
            )
        return cached  # type: ignore[return-value]

    def _presence_screen(
        self, concepts: tuple[str, ...]
    ) -> tuple[dict[int, tuple[int, int]], tuple[int, ...], int]:
        """(certain, possible) masks over ``concepts`` of every key bucket, each regex term's
        bit, and their union."""
        bit = {concept: 1 << number for number, concept in enumerate(concepts)}
        term_bits = tuple(bit.get(regex.entry.concept, 0) for regex in self._regexes)
        masks: dict[int, tuple[int, int]] = {}
        for _length, bucket in self._values:
            sure = maybe = 0
            for key in bucket:
                mask = bit.get(key.concept, 0)
                maybe |= mask
                if not key.exact:
                    sure |= mask
            if maybe:
                masks[id(bucket)] = (sure, maybe)
        with_regexes = 0
        for term_bit in term_bits:
            with_regexes |= term_bit
        return masks, term_bits, with_regexes

    def scan(self, doc: Document) -> list[Hit]:
        """Every (concept, span) hit in the document, sorted by (first, last, concept)."""
        if not doc.parts:
            return []
        hits: list[Hit] = list(self._regex_hits(doc))
        if self._empty:
            hits.sort(key=_ORDER)
            return hits
        located = self._located(doc)
        if not located:
            hits.sort(key=_ORDER)
            return hits
        needed = {first for _, first, _, _ in located}
        longest = self._longest  # id(bucket) -> the sizes (> 1) of its keys
        for _slot, first, _sentence, keys in located:
            sizes = longest.get(id(keys))
            if sizes is not None:
                for size in sizes:
                    needed.add(first + size - 1)
        spans = doc.spans(needed)
        words = doc.words if self._exact else None
        append = hits.append
        new = tuple.__new__  # Hit(...) without the named tuple's Python-level __new__
        for slot, first, _sentence, keys in located:
            head, end = spans[first]
            for concept, term, key_words, exact, size in keys:
                if exact:
                    assert words is not None
                    if (
                        (words[slot] != key_words[0])
                        if size == 1
                        else (tuple(words[slot : slot + size]) != key_words)
                    ):
                        continue
                if size == 1:
                    append(new(Hit, (concept, term, first, first, head, end)))
                else:
                    last = first + size - 1
                    append(new(Hit, (concept, term, first, last, head, spans[last][1])))
        hits.sort(key=_ORDER)
        return hits

    def _scan_regexes(self, doc: Document) -> list[Hit]:
        """The hits of every regex term: each term's own whole-word matches in the stream."""
        stream = " " + doc.stream + " "
        count = stream.count
        keys_of = doc.sentence_keys
        hits: list[Hit] = []
        regexes = self._regexes
        for number in self._regex_candidates(doc):
            regex = regexes[number]
            previous = slot = marks = 0  # running counts (matches come in order): linear
            for start, end in regex.spans(stream):
                if start == end or stream[start] in MARKS or stream[end - 1] in MARKS:
                    continue  # empty, or on a sentence mark: not a match of words
                if stream[start - 1] != " " or stream[start] == " ":
                    continue  # not at the start of a word
                slot += count(" ", previous, start)  # (minus the leading space) index in doc.words
                marks += count(SENTENCE, previous, start) + count(LINE, previous, start)
                previous = start
                first = slot - 1 - marks
                last_slot = slot - 1 + count(" ", start, end)
                last = last_slot - marks - count(SENTENCE, start, end) - count(LINE, start, end)
                if last >= first:
                    keys_of[first] = marks
                    entry = regex.entry
                    hits.append(
                        Hit(entry.concept, entry.term, first, last, doc.span(first)[0], doc.span(last)[1])
                    )
        return hits


class _WordCache(dict[str, str]):
    """``token -> canonical word`` for one matcher, bounded."""

    limit: ClassVar[int] = 100_000  # a class constant (mypyc: ClassVar)

    def __init__(self, canonical: Callable[[str], str]) -> None:
        super().__init__()
        self.canonical = canonical

    def __missing__(self, token: str) -> str:
        if len(self) >= self.limit:
            self.clear()
        value = self[token] = token if token in MARKS else self.canonical(token)
        return value


class _ChunkCache(dict[str, str]):
    """``chunk -> its stream with words mapped to vocabulary words``, for one matcher, bounded.

    Iraqi writers put gaf for the qaf sound (حرگ for حرق "burned", گنبلة for قنبلة "bomb"),
    while the normaliser folds گ to ك, its Persian and Kurdish reading (گرميان, Garmiyan). A
    word written with گ that the ك reading leaves outside the vocabulary (no term word, no
    wildcard stem at its start) is read with ق when that reading is inside it (plain and
    wildcard terms only: an exact or regex term sees the normalised word).
    """

    limit: ClassVar[int] = 50_000  # a class constant (mypyc: ClassVar)

    def __init__(self, words: _WordCache, vocabulary: frozenset[str], stems: tuple[str, ...]) -> None:
        super().__init__()
        self.words = words
        self.vocabulary = vocabulary
        self.stems = stems  # wildcard stems: a word starting with one is a term word too

    def __missing__(self, chunk: str) -> str:
        if len(self) >= self.limit:
            self.clear()
        stream = chunk_stream(chunk)
        if stream == LINE:
            value = SENTENCE  # one kind of mark in the canonical stream: one count per hit
        elif not stream:
            value = ""
        elif GAF in chunk:
            value = " ".join(self._gaf_read(chunk, stream.split(" ")))
        else:
            value = " ".join(map(self.words.__getitem__, stream.split(" ")))
        self[chunk] = value
        return value

    def _gaf_read(self, chunk: str, normalised: list[str]) -> list[str]:
        """The chunk's vocabulary words, a گ word read with ق where only that reading is one."""
        words = [self.words[word] for word in normalised]
        as_qaf = chunk_stream(chunk.replace(GAF, QAF)).split(" ")
        if len(as_qaf) != len(words):  # pragma: no cover - a letter for a letter: same words
            return words
        vocabulary = self.vocabulary
        stems = self.stems
        for index, (word, other) in enumerate(zip(normalised, as_qaf, strict=True)):
            if other == word:
                continue
            read_k = words[index]
            if read_k in vocabulary or (stems and read_k.startswith(stems)):
                continue
            read = self.words[other]
            if read in vocabulary or (stems and read.startswith(stems)):
                words[index] = read
        return words


_ORDER = itemgetter(2, 3, 0, 1)  # Hit: first, last, concept, term
_START = itemgetter(0)
