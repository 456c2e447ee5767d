"""Reading rule files: YAML -> concept, rule and category definitions, each with file and line.

A rules directory holds any number of ``*.yaml`` files, read in name order. Each file is a
mapping with any of these keys (a concept may be spread over several files, e.g. one per
language; its terms are merged):

```yaml
concepts:
  convoy:                    # a named list of terms
    - convoy                 # plain: tolerant (proclitics, article, plurals, inflections)
    - "=US"                  # exact: only this word
    - "استهدف*"              # trailing *: the last word is a prefix (استهدفت, استهدفوا)
    - "re:عبوت(ين|ان)"       # regex over the normalised words (whole words)
protected: [بلغم]            # words never read as proclitic + term (بلغم is not ب + لغم)
categories:
  relevant: {threshold: 1}
  attack_type: {values: [ied, rocket], default: unknown, threshold: 1}
rules:
  - name: convoy-attacked
    category: relevant
    weight: 1
    all: [convoy, attack]    # every concept must match
    any: [ied, rocket]       # at least one of them
    none: [denial]           # none of them anywhere in the text
    none_near: [foiled]      # none of them in the same sentence / window as the match
    same_sentence: true      # the matched concepts share a sentence
    within: 8                # ... and start within 8 words of each other
```

Parsing never raises on bad content: every problem becomes a ``RuleProblem``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.errors import RuleProblem

__all__ = ["CategoryDef", "ConceptDef", "RuleDef", "Source", "TermDef", "read_rules"]

PROTECTED = "protected"  # the concept name protected words are filed under


@dataclass(frozen=True, slots=True)
class TermDef:
    """One term as written, with its kind and where."""

    text: str
    exact: bool
    regex: bool
    file: str
    line: int


@dataclass(frozen=True, slots=True)
class ConceptDef:
    """A concept's terms from one file."""

    name: str
    terms: tuple[TermDef, ...]
    file: str
    line: int


@dataclass(frozen=True, slots=True)
class RuleDef:
    """A rule as written."""

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
    file: str
    line: int
    #: line of each concept reference, for messages
    refs: tuple[tuple[str, int], ...] = ()
    within_line: int = 0


@dataclass(frozen=True, slots=True)
class CategoryDef:
    """An output category: relevance (no values) or a label with values and a default."""

    name: str
    threshold: float
    values: tuple[str, ...]
    default: str | None
    file: str
    line: int


@dataclass(slots=True)
class Source:
    """Everything read from a rules directory, and the problems found while reading."""

    concepts: list[ConceptDef] = field(default_factory=list)
    rules: list[RuleDef] = field(default_factory=list)
    categories: list[CategoryDef] = field(default_factory=list)
    problems: list[RuleProblem] = field(default_factory=list)


_FILE_KEYS = ("concepts", "protected", "categories", "rules")
_RULE_KEYS = (
    "name",
    "category",
    "weight",
    "value",
    "all",
    "any",
    "none",
    "none_near",
    "within",
    "same_sentence",
    "note",
)
_CATEGORY_KEYS = ("threshold", "values", "default", "note")


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


class _Reader:
    def __init__(self, file: str, source: Source) -> None:
        self.file = file
        self.source = source

    def problem(self, node: yaml.Node | None, message: str, line: int | None = None) -> None:
        where = line if line is not None else (_line(node) if node is not None else 1)
        self.source.problems.append(RuleProblem(self.file, where, message))

    def mapping(self, node: yaml.Node, what: str) -> Iterator[tuple[str, yaml.Node, yaml.Node]]:
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, f"{what} must be a mapping")
            return
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                self.problem(key_node, f"{what}: keys must be plain names")
                continue
            if key in seen:
                self.problem(key_node, f"{what}: duplicate key {key!r}")
                continue
            seen.add(key)
            yield key, key_node, value_node

    def strings(self, node: yaml.Node, what: str) -> list[tuple[str, int]]:
        if isinstance(node, yaml.ScalarNode) and node.value not in ("", "~", "null"):
            return [(str(node.value), _line(node))]
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, f"{what} must be a list")
            return []
        out: list[tuple[str, int]] = []
        for item in node.value:
            if isinstance(item, yaml.ScalarNode) and str(item.value).strip():
                out.append((str(item.value), _line(item)))
            else:
                self.problem(item, f"{what}: every item must be a non-empty string")
        return out

    def number(self, node: yaml.Node, what: str) -> float | None:
        try:
            return float(node.value) if isinstance(node, yaml.ScalarNode) else None
        except ValueError:
            pass
        self.problem(node, f"{what} must be a number")
        return None

    def read(self, root: yaml.Node) -> None:
        for key, key_node, value in self.mapping(root, "rule file"):
            if key == "concepts":
                self.concepts(value)
            elif key == "protected":
                terms = self.strings(value, "protected")
                if not terms:
                    self.problem(value, "protected: empty list")
                self.source.concepts.append(
                    ConceptDef(
                        PROTECTED,
                        tuple(TermDef(text, True, False, self.file, line) for text, line in terms),
                        self.file,
                        _line(key_node),
                    )
                )
            elif key == "categories":
                self.categories(value)
            elif key == "rules":
                self.rules(value)
            else:
                self.problem(key_node, f"unknown key {key!r} (expected one of {', '.join(_FILE_KEYS)})")

    def concepts(self, node: yaml.Node) -> None:
        for name, key_node, value in self.mapping(node, "concepts"):
            terms: list[TermDef] = []
            if isinstance(value, yaml.ScalarNode) and value.value in ("", "~", "null"):
                pass  # reported as an empty list by the checks
            else:
                for text, line in self.strings(value, f"concept {name!r}"):
                    if text.startswith("re:"):
                        terms.append(TermDef(text[3:], False, True, self.file, line))
                    elif text.startswith("="):
                        terms.append(TermDef(text[1:], True, False, self.file, line))
                    else:
                        terms.append(TermDef(text, False, False, self.file, line))
            self.source.concepts.append(ConceptDef(name, tuple(terms), self.file, _line(key_node)))

    def categories(self, node: yaml.Node) -> None:
        for name, key_node, value in self.mapping(node, "categories"):
            threshold = 1.0
            values: tuple[str, ...] = ()
            default: str | None = None
            for key, inner_key, inner in self.mapping(value, f"category {name!r}"):
                if key == "threshold":
                    threshold = self.number(inner, f"category {name!r}: threshold") or 0.0
                elif key == "values":
                    values = tuple(text for text, _ in self.strings(inner, f"category {name!r}: values"))
                elif key == "default":
                    default = str(inner.value) if isinstance(inner, yaml.ScalarNode) else None
                elif key != "note":
                    self.problem(inner_key, f"category {name!r}: unknown key {key!r}")
            self.source.categories.append(
                CategoryDef(name, threshold, values, default, self.file, _line(key_node))
            )

    def rules(self, node: yaml.Node) -> None:
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, "rules must be a list")
            return
        for item in node.value:
            self.rule(item)

    def rule(self, node: yaml.Node) -> None:
        fields: dict[str, yaml.Node] = {}
        for key, key_node, value in self.mapping(node, "rule"):
            if key not in _RULE_KEYS:
                self.problem(key_node, f"rule: unknown key {key!r} (expected one of {', '.join(_RULE_KEYS)})")
                continue
            fields[key] = value
        line = _line(node)
        name_node = fields.get("name")
        name = str(name_node.value) if isinstance(name_node, yaml.ScalarNode) else ""
        if not name:
            self.problem(node, "rule without a name")
            name = f"<rule at line {line}>"
        category_node = fields.get("category")
        category = str(category_node.value) if isinstance(category_node, yaml.ScalarNode) else ""
        if not category:
            self.problem(node, f"rule {name!r}: no category")
        weight = 1.0
        if "weight" in fields:
            number = self.number(fields["weight"], f"rule {name!r}: weight")
            weight = number if number is not None else 1.0
        value_node = fields.get("value")
        label = str(value_node.value) if isinstance(value_node, yaml.ScalarNode) else None
        refs: list[tuple[str, int]] = []

        def concepts(key: str) -> tuple[str, ...]:
            if key not in fields:
                return ()
            found = self.strings(fields[key], f"rule {name!r}: {key}")
            refs.extend(found)
            if not found:
                self.problem(fields[key], f"rule {name!r}: {key} is an empty list")
            return tuple(text for text, _ in found)

        all_of, any_of = concepts("all"), concepts("any")
        none_of, none_near = concepts("none"), concepts("none_near")
        within: int | None = None
        within_line = line
        if "within" in fields:
            within_line = _line(fields["within"])
            number = self.number(fields["within"], f"rule {name!r}: within")
            if number is not None:
                if number != int(number):
                    self.problem(fields["within"], f"rule {name!r}: within must be a whole number of words")
                within = int(number)
        same_sentence = False
        if "same_sentence" in fields:
            flag = fields["same_sentence"]
            if isinstance(flag, yaml.ScalarNode) and flag.value.lower() in ("true", "yes", "false", "no"):
                same_sentence = flag.value.lower() in ("true", "yes")
            else:
                self.problem(flag, f"rule {name!r}: same_sentence must be true or false")
        self.source.rules.append(
            RuleDef(
                name=name,
                category=category,
                weight=weight,
                value=label,
                all_of=all_of,
                any_of=any_of,
                none_of=none_of,
                none_near=none_near,
                within=within,
                same_sentence=same_sentence,
                file=self.file,
                line=line,
                refs=tuple(refs),
                within_line=within_line,
            )
        )


def read_rules(directory: Path) -> Source:
    """Read every ``*.yaml`` file of a rules directory (name order) into definitions + problems."""
    source = Source()
    if not directory.is_dir():
        source.problems.append(RuleProblem(str(directory), 0, "rules directory not found"))
        return source
    files = sorted(directory.glob("*.yaml"))
    if not files:
        source.problems.append(RuleProblem(str(directory), 0, "no *.yaml rule files"))
    for path in files:
        name = str(path)
        try:
            root = yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
        except yaml.MarkedYAMLError as error:
            mark = error.problem_mark or error.context_mark
            line = int(mark.line) + 1 if mark is not None else 1
            source.problems.append(RuleProblem(name, line, f"YAML error: {error.problem or error}"))
            continue
        except (OSError, UnicodeDecodeError) as error:
            source.problems.append(RuleProblem(name, 1, f"cannot read: {error}"))
            continue
        if root is None:
            source.problems.append(RuleProblem(name, 1, "empty rule file"))
            continue
        _Reader(name, source).read(root)
    return source
