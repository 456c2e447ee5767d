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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import accumulate, product
from operator import attrgetter

import ahocorasick

from bot.rules.text import LINE, MARKS, SENTENCE, Document, chunk_stream, fold_letters, tokenise

__all__ = ["Hit", "Matcher", "TermEntry", "compile_regex", "readings", "term_words"]


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


@dataclass(frozen=True, slots=True)
class Hit:
    """A term found in a document: token indexes ``first..last`` (inclusive), original span."""

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
class _Key:
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


class Matcher:
    """Every term of every concept compiled into one automaton; ``scan`` is one pass."""

    def __init__(self, entries: Iterable[TermEntry]) -> None:
        prepared: list[tuple[TermEntry, tuple[str, ...]]] = []
        regexes: list[tuple[TermEntry, re.Pattern[str]]] = []
        for entry in entries:
            if entry.regex:
                regexes.append((entry, compile_regex(fold_letters(entry.term))))
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
        self._chunks = _ChunkCache(self._words)

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
        automaton = ahocorasick.Automaton()
        for pattern, bucket in keys.items():
            automaton.add_word(pattern, (len(pattern), tuple(bucket)))
        if keys:
            automaton.make_automaton()
        self._automaton = automaton
        self._empty = not keys
        self._regexes = tuple(regexes)
        self._any_regex = re.compile("|".join(f"(?:{rx.pattern})" for _, rx in regexes)) if regexes else None
        self.size = len(prepared) + len(regexes)
        self._keys = keys
        self._memo_key = f"canonical:{id(self)}"
        self._screens: dict[frozenset[str], ahocorasick.Automaton | None] = {}
        self._presence: dict[tuple[str, ...], tuple[ahocorasick.Automaton | None, int]] = {}

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

    def finds(self, doc: Document, concepts: frozenset[str]) -> bool:
        """Whether any plain term of these concepts occurs (cheap: no hits are built).

        A screen before ``scan``: a post with none of a rule set's relevance triggers cannot
        be relevant, so its hits are never needed. Regex terms are not screened (True).
        """
        if self._any_regex is not None and any(entry.concept in concepts for entry, _ in self._regexes):
            return True
        screen = self._screens.get(concepts, False)
        if screen is False:
            screen = self._screens[concepts] = self._screen(concepts)
        if screen is None or not doc.parts:
            return False
        only_exact = False
        for _end, tolerant in screen.iter(self.canonical(doc)):
            if tolerant:
                return True
            only_exact = True  # an exact term's key: its words must be checked by a full scan
        return only_exact and any(hit.concept in concepts for hit in self.scan(doc))

    def presence(self, doc: Document, concepts: tuple[str, ...]) -> tuple[int, int]:
        """Which of ``concepts`` occur, as bit masks (bit i for ``concepts[i]``): (certain, possible).

        One pass of an automaton over these concepts' keys, no hits built. *certain*: a
        tolerant term of the concept occurs; *possible*: certain, or an exact term's key
        occurs (its words are only confirmed by ``scan``), or the concept has regex terms
        (not screened). So every concept of ``scan(doc)`` is in *possible*, and every
        concept in *certain* is in ``scan(doc)``.
        """
        screen = self._presence.get(concepts)
        if screen is None:
            screen = self._presence[concepts] = self._presence_screen(concepts)
        automaton, possible = screen
        if not doc.parts:
            return 0, 0
        certain = 0
        if automaton is None:
            return certain, possible
        for _end, (sure, maybe) in automaton.iter(self.canonical(doc)):
            certain |= sure
            possible |= maybe
        return certain, possible

    def presence_by_sentence(self, doc: Document, concepts: tuple[str, ...]) -> list[tuple[int, int]]:
        """``presence`` per sentence: (certain, possible) masks of each sentence with a match.

        Sentences are those of ``scan``'s hits (a hit never spans a sentence end); concepts
        with regex terms are possible in every sentence.
        """
        screen = self._presence.get(concepts)
        if screen is None:
            screen = self._presence[concepts] = self._presence_screen(concepts)
        automaton, everywhere = screen
        if not doc.parts:
            return []
        if automaton is None:
            return [(0, everywhere)] if everywhere else []
        stream = self.canonical(doc)
        count = stream.count
        sentences: dict[int, tuple[int, int]] = {}
        sentence = previous = 0
        for end, (sure, maybe) in automaton.iter(stream):
            sentence += count(SENTENCE, previous, end)
            previous = end
            known = sentences.get(sentence)
            sentences[sentence] = (
                (sure, maybe | everywhere) if known is None else (known[0] | sure, known[1] | maybe)
            )
        found = list(sentences.values())
        if everywhere:  # a sentence holding only regex hits
            found.append((0, everywhere))
        return found

    def _presence_screen(self, concepts: tuple[str, ...]) -> tuple[ahocorasick.Automaton | None, int]:
        bit = {concept: 1 << number for number, concept in enumerate(concepts)}
        regex_bits = 0
        for entry, _ in self._regexes:
            regex_bits |= bit.get(entry.concept, 0)
        automaton = ahocorasick.Automaton()
        for pattern, bucket in self._keys.items():
            sure = maybe = 0
            for key in bucket:
                mask = bit.get(key.concept, 0)
                maybe |= mask
                if not key.exact:
                    sure |= mask
            if maybe:
                automaton.add_word(pattern, (sure, maybe))
        if not len(automaton):
            return None, regex_bits
        automaton.make_automaton()
        return automaton, regex_bits

    def _screen(self, concepts: frozenset[str]) -> ahocorasick.Automaton | None:
        automaton = ahocorasick.Automaton()
        for pattern, bucket in self._keys.items():
            chosen = [key for key in bucket if key.concept in concepts]
            if chosen:
                automaton.add_word(pattern, not all(key.exact for key in chosen))
        if not len(automaton):
            return None
        automaton.make_automaton()
        return automaton

    def scan(self, doc: Document) -> list[Hit]:
        """Every (concept, span) hit in the document, sorted by (first, last, concept)."""
        if not doc.parts:
            return []
        hits: list[Hit] = [] if self._any_regex is None else self._scan_regexes(doc)
        if self._empty:
            hits.sort(key=_ORDER)
            return hits
        stream = self.canonical(doc)
        located: dict[int, tuple[int, int, int, int]] = {}
        ends: dict[int, int] = {}
        keys_of = doc.sentence_keys
        span = doc.span
        count = stream.count
        append = hits.append
        for end, (length, keys) in self._automaton.iter(stream):
            start = end - length + 1  # the key's leading space
            place = located.get(start)
            if place is None:
                slot = count(" ", 0, start)  # index in doc.words (marks included)
                marks = count(SENTENCE, 0, start)  # LINE is spelled SENTENCE here
                first = slot - marks
                keys_of[first] = marks
                head, tail = span(first)
                ends[first] = tail
                place = located[start] = (slot, first, head, tail)
            slot, first, head, tail = place
            for key in keys:
                size = key.size
                if size == 1:
                    if key.exact and doc.words[slot] != key.words[0]:
                        continue
                    append(Hit(key.concept, key.term, first, first, head, tail))
                    continue
                if key.exact and tuple(doc.words[slot : slot + size]) != key.words:
                    continue
                last = first + size - 1
                finish = ends.get(last)
                if finish is None:
                    finish = ends[last] = span(last)[1]
                append(Hit(key.concept, key.term, first, last, head, finish))
        hits.sort(key=_ORDER)
        return hits

    def _scan_regexes(self, doc: Document) -> list[Hit]:
        assert self._any_regex is not None
        stream = " " + doc.stream + " "
        words = doc.stream.split(" ")
        slot_at = dict(
            zip(accumulate(map(_one_more, map(len, words)), initial=1), range(len(words)), strict=False)
        )
        token_of_slot = doc.layout()[0]
        hits: list[Hit] = []
        for found in self._any_regex.finditer(stream):
            start, end = found.span()
            text = found.group()
            if start == end or start not in slot_at or text[0] in MARKS or text[-1] in MARKS:
                continue  # empty, inside a word, or on a sentence mark: not a match of words
            slot = slot_at[start]
            first = token_of_slot[slot]
            last = token_of_slot[slot + text.count(" ")]
            for entry, regex in self._regexes:
                if regex.fullmatch(stream, start, end) and last >= first:
                    hits.append(
                        Hit(entry.concept, entry.term, first, last, doc.span(first)[0], doc.span(last)[1])
                    )
        return hits


_one_more = (1).__add__


def _slot_at(words: list[str]) -> dict[int, int]:
    """Start position in ``" " + " ".join(words) + " "`` of each word -> its index."""
    return dict(zip(accumulate(map(_one_more, map(len, words)), initial=1), range(len(words)), strict=False))


class _WordCache(dict[str, str]):
    """``token -> canonical word`` for one matcher, bounded."""

    limit = 100_000

    def __init__(self, canonical: Callable[[str], str]) -> None:
        super().__init__()
        self.canonical = canonical

    def __missing__(self, token: str) -> str:
        if len(self) >= self.limit:
            self.clear()
        value = self[token] = token if token in MARKS else self.canonical(token)
        return value


class _ChunkCache(dict[str, str]):
    """``chunk -> its stream with words mapped to vocabulary words``, for one matcher, bounded."""

    limit = 50_000

    def __init__(self, words: _WordCache) -> None:
        super().__init__()
        self.words = words

    def __missing__(self, chunk: str) -> str:
        if len(self) >= self.limit:
            self.clear()
        stream = chunk_stream(chunk)
        if stream == LINE:
            value = SENTENCE  # one kind of mark in the canonical stream: one count per hit
        else:
            value = " ".join(map(self.words.__getitem__, stream.split(" "))) if stream else ""
        self[chunk] = value
        return value


_ORDER = attrgetter("first", "last", "concept", "term")
