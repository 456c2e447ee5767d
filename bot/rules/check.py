"""Static checks of rule definitions: every problem with its file and line.

Kinds: unknown concept or category, empty list, duplicate term / concept / rule, bad
regex, a term with no words, and rules that can never fire (a required concept that an
exclusion of the same rule always contains, a weight that can never reach the category's
threshold, ``within`` below 1, a value the category does not have, a zero weight).

Notes (``speed_notes``) are not problems: a regex term that a relevance rule needs but the
literal prefilter cannot look for makes every post go through the tokeniser.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

from bot.errors import RuleProblem
from bot.rules.matcher import TermEntry, compile_regex, term_words
from bot.rules.prefilter import term_keys
from bot.rules.source import PROTECTED, RuleDef, Source, TermDef, read_rules
from bot.rules.text import fold_letters

__all__ = ["check_rules", "check_source", "speed_notes"]

_RELEVANT = "relevant"


def _term_key(term: TermDef) -> tuple[object, ...]:
    if term.regex:
        return ("regex", term.text)
    wildcard = term.text.rstrip().endswith("*")
    return ("exact" if term.exact else "term", wildcard, term_words(term.text))


def _check_terms(source: Source, problems: list[RuleProblem]) -> dict[str, set[tuple[object, ...]]]:
    """Term-level problems; returns each concept's set of term keys (for subset checks)."""
    keys: dict[str, set[tuple[object, ...]]] = defaultdict(set)
    first_seen: dict[tuple[str, tuple[object, ...]], TermDef] = {}
    defined: dict[tuple[str, str], int] = {}
    for concept in source.concepts:
        if concept.name != PROTECTED:
            where = (concept.file, concept.name)
            if where in defined:
                problems.append(
                    RuleProblem(
                        concept.file,
                        concept.line,
                        f"concept {concept.name!r} defined twice in this file"
                        f" (first at line {defined[where]})",
                    )
                )
            defined.setdefault(where, concept.line)
        if not concept.terms and concept.name != PROTECTED:
            problems.append(
                RuleProblem(concept.file, concept.line, f"concept {concept.name!r} is an empty list")
            )
        for term in concept.terms:
            if term.regex:
                try:
                    compile_regex(fold_letters(term.text))
                except re.error as error:
                    problems.append(RuleProblem(term.file, term.line, f"bad regex {term.text!r}: {error}"))
                    continue
            elif not term_words(term.text):
                problems.append(
                    RuleProblem(term.file, term.line, f"term {term.text!r} in {concept.name!r} has no words")
                )
                continue
            key = _term_key(term)
            previous = first_seen.get((concept.name, key))
            if previous is not None:
                problems.append(
                    RuleProblem(
                        term.file,
                        term.line,
                        f"duplicate term {term.text!r} in concept {concept.name!r}"
                        f" (same as {previous.text!r} at {previous.file}:{previous.line})",
                    )
                )
                continue
            first_seen[(concept.name, key)] = term
            keys[concept.name].add(key)
    return keys


def _check_categories(source: Source, problems: list[RuleProblem]) -> None:
    seen: dict[str, str] = {}
    for category in source.categories:
        if category.name in seen:
            problems.append(
                RuleProblem(
                    category.file,
                    category.line,
                    f"category {category.name!r} defined twice (first at {seen[category.name]})",
                )
            )
            continue
        seen[category.name] = f"{category.file}:{category.line}"
        if category.threshold <= 0:
            problems.append(
                RuleProblem(
                    category.file, category.line, f"category {category.name!r}: threshold must be > 0"
                )
            )
        if category.name == _RELEVANT:
            if category.values:
                problems.append(
                    RuleProblem(
                        category.file, category.line, "category 'relevant' takes no values (it is yes/no)"
                    )
                )
        else:
            if not category.values:
                problems.append(
                    RuleProblem(
                        category.file, category.line, f"category {category.name!r}: values is an empty list"
                    )
                )
            if category.default is not None and category.default not in category.values:
                problems.append(
                    RuleProblem(
                        category.file,
                        category.line,
                        f"category {category.name!r}: default {category.default!r} is not one of its values",
                    )
                )
    if _RELEVANT not in seen and source.rules:
        first = source.rules[0]
        problems.append(RuleProblem(first.file, 1, "no 'relevant' category is defined"))


def _ref_line(rule: RuleDef, concept: str) -> int:
    for name, line in rule.refs:
        if name == concept:
            return line
    return rule.line


def _check_rules(
    source: Source, keys: dict[str, set[tuple[object, ...]]], problems: list[RuleProblem]
) -> None:
    categories = {category.name: category for category in source.categories}
    concepts = {concept.name for concept in source.concepts}
    names: dict[str, str] = {}
    for rule in source.rules:
        label = f"rule {rule.name!r}"
        if rule.name in names:
            problems.append(
                RuleProblem(
                    rule.file, rule.line, f"duplicate rule name {rule.name!r} (first at {names[rule.name]})"
                )
            )
        names.setdefault(rule.name, f"{rule.file}:{rule.line}")
        for concept in (*rule.all_of, *rule.any_of, *rule.none_of, *rule.none_near):
            if concept not in concepts:
                problems.append(
                    RuleProblem(rule.file, _ref_line(rule, concept), f"{label}: unknown concept {concept!r}")
                )
        category = categories.get(rule.category)
        if rule.category and category is None:
            problems.append(RuleProblem(rule.file, rule.line, f"{label}: unknown category {rule.category!r}"))
        elif category is not None:
            if category.name == _RELEVANT and rule.value is not None:
                problems.append(
                    RuleProblem(rule.file, rule.line, f"{label}: a 'relevant' rule takes no value")
                )
            if category.name != _RELEVANT and rule.value is None:
                problems.append(
                    RuleProblem(rule.file, rule.line, f"{label}: category {category.name!r} needs a value")
                )
            if category.name != _RELEVANT and rule.value is not None and rule.value not in category.values:
                problems.append(
                    RuleProblem(
                        rule.file,
                        rule.line,
                        f"{label}: value {rule.value!r} is not one of {category.name!r}'s values",
                    )
                )
        # -- rules that can never fire ----------------------------------------------------
        if not rule.all_of and not rule.any_of:
            problems.append(
                RuleProblem(rule.file, rule.line, f"{label}: no 'all' or 'any' concepts, it can never fire")
            )
        if rule.weight == 0:
            problems.append(
                RuleProblem(rule.file, rule.line, f"{label}: weight 0, it never changes a result")
            )
        if rule.within is not None and rule.within < 1:
            problems.append(
                RuleProblem(
                    rule.file, rule.within_line, f"{label}: within {rule.within} can never fire (at least 1)"
                )
            )
        excluded = (*rule.none_of, *rule.none_near)
        for concept in rule.all_of:
            if concept in excluded:
                problems.append(
                    RuleProblem(
                        rule.file,
                        _ref_line(rule, concept),
                        f"{label}: {concept!r} is both required and excluded, it can never fire",
                    )
                )
                continue
            for exclusion in excluded:
                if keys.get(concept) and keys[concept] <= keys.get(exclusion, set()):
                    problems.append(
                        RuleProblem(
                            rule.file,
                            _ref_line(rule, concept),
                            f"{label}: every term of {concept!r} is also in the exclusion {exclusion!r},"
                            " it can never fire",
                        )
                    )
        if rule.any_of and all(concept in excluded for concept in rule.any_of):
            problems.append(
                RuleProblem(
                    rule.file, rule.line, f"{label}: every 'any' concept is also excluded, it can never fire"
                )
            )
    _check_reachable(source, problems)


def _check_reachable(source: Source, problems: list[RuleProblem]) -> None:
    """A positive rule whose category (or value) cannot reach the threshold even with every rule."""
    categories = {category.name: category for category in source.categories}
    reach: dict[tuple[str, str | None], float] = defaultdict(float)
    for rule in source.rules:
        if rule.weight > 0:
            reach[(rule.category, rule.value)] += rule.weight
    for rule in source.rules:
        category = categories.get(rule.category)
        if category is None or rule.weight <= 0:
            continue
        total = reach[(rule.category, rule.value)]
        if total < category.threshold:
            what = f"{category.name}={rule.value}" if rule.value is not None else category.name
            alone = "alone" if total == rule.weight else "even with every other rule for it"
            problems.append(
                RuleProblem(
                    rule.file,
                    rule.line,
                    f"rule {rule.name!r}: weight {rule.weight:g} {alone} stays below the threshold"
                    f" {category.threshold:g} of {what}, it can never fire",
                )
            )


def check_source(source: Source) -> list[RuleProblem]:
    """Semantic problems of definitions that were read (parse problems are in ``source``)."""
    problems: list[RuleProblem] = []
    keys = _check_terms(source, problems)
    _check_categories(source, problems)
    _check_rules(source, keys, problems)
    return problems


def check_rules(directory: Path) -> list[RuleProblem]:
    """Every problem in a rules directory, parse and semantic, sorted by file and line."""
    source = read_rules(directory)
    problems = [*source.problems, *check_source(source)]
    return sorted(problems, key=lambda problem: (problem.file, problem.line, problem.message))


def speed_notes(directory: Path) -> list[RuleProblem]:
    """Regex terms of concepts a relevance rule needs that hold no literal the prefilter can
    look for (their concept is then possible in every post: slower, never wrong)."""
    source = read_rules(directory)
    needed = {
        concept
        for rule in source.rules
        if rule.category == _RELEVANT
        for concept in (*rule.all_of, *rule.any_of)
    }
    notes = [
        RuleProblem(
            term.file,
            term.line,
            f"note: regex term {term.text!r} of {concept.name!r} (a relevance rule needs it) holds"
            " no literal the prefilter can look for, so every post is tokenised for it; start it"
            " with literal words or alternatives of literal words, e.g. (struck|hit) ...",
        )
        for concept in source.concepts
        if concept.name in needed
        for term in concept.terms
        if term.regex and term_keys(TermEntry(concept.name, term.text, regex=True)) is None
    ]
    return sorted(notes, key=lambda note: (note.file, note.line))
