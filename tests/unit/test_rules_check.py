"""`rules check`: every kind of mistake is reported with its file and line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.errors import RuleError, RuleProblem
from bot.rules.check import check_rules, speed_notes
from bot.rules.engine import load_ruleset

CATEGORIES = """\
categories:
  relevant: {threshold: 1}
  attack_type: {values: [ied, rocket, unknown], default: unknown}
"""

GOOD = """\
concepts:
  convoy: [convoy, رتل]
  ied: [IED, عبوة ناسفة]
  foiled: [defused]
rules:
  - name: convoy-ied
    category: relevant
    all: [convoy, ied]
    none_near: [foiled]
    same_sentence: true
"""


def _write(directory: Path, body: str, name: str = "rules.yaml") -> Path:
    (directory / "categories.yaml").write_text(CATEGORIES, encoding="utf-8")
    path = directory / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def _problems(directory: Path) -> list[tuple[str, int, str]]:
    return [(Path(problem.file).name, problem.line, problem.message) for problem in check_rules(directory)]


def test_good_rules_have_no_problems(tmp_path: Path) -> None:
    """A correct rule directory checks clean and loads."""
    _write(tmp_path, GOOD)
    assert check_rules(tmp_path) == []
    assert load_ruleset(tmp_path).classify("IED hits a convoy").relevant


def test_shipped_rules_have_no_problems() -> None:
    """The rules in config/rules check clean."""
    assert check_rules(Path(__file__).parents[2] / "config" / "rules") == []


def test_shipped_rules_leave_the_prefilter_nothing_it_cannot_screen() -> None:
    """Every regex term a relevance rule needs holds a literal the prefilter looks for."""
    assert speed_notes(Path(__file__).parents[2] / "config" / "rules") == []


CASES = [
    (
        "unknown concept",
        GOOD.replace("all: [convoy, ied]", "all: [convoy, ieds]"),
        8,
        "rule 'convoy-ied': unknown concept 'ieds'",
    ),
    (
        "empty list",
        GOOD.replace("  foiled: [defused]", "  foiled: []"),
        4,
        "concept 'foiled' is an empty list",
    ),
    (
        "duplicate term (after normalisation)",
        GOOD.replace("ied: [IED, عبوة ناسفة]", "ied: [IED, عبوة ناسفة, عبوه ناسفه]"),
        3,
        "duplicate term 'عبوه ناسفه' in concept 'ied' (same as 'عبوة ناسفة' at",
    ),
    (
        "bad regex",
        GOOD.replace("foiled: [defused]", 'foiled: [defused, "re:defus(ed"]'),
        4,
        "bad regex 'defus(ed'",
    ),
    (
        "required concept also excluded",
        GOOD.replace("none_near: [foiled]", "none_near: [ied]"),
        8,
        "rule 'convoy-ied': 'ied' is both required and excluded, it can never fire",
    ),
    (
        "required concept always contained in an exclusion",
        GOOD.replace("foiled: [defused]", "foiled: [defused, IED, عبوة ناسفة]"),
        8,
        "rule 'convoy-ied': every term of 'ied' is also in the exclusion 'foiled', it can never fire",
    ),
    (
        "weight below threshold and alone",
        GOOD.replace("    category: relevant\n", "    category: relevant\n    weight: 0.5\n"),
        6,
        "rule 'convoy-ied': weight 0.5 alone stays below the threshold 1 of relevant, it can never fire",
    ),
    (
        "window 0",
        GOOD.replace("    same_sentence: true\n", "    within: 0\n"),
        10,
        "rule 'convoy-ied': within 0 can never fire (at least 1)",
    ),
    (
        "no concepts at all",
        GOOD.replace("    all: [convoy, ied]\n", ""),
        6,
        "rule 'convoy-ied': no 'all' or 'any' concepts, it can never fire",
    ),
    (
        "unknown category",
        GOOD.replace("category: relevant", "category: relevance"),
        6,
        "rule 'convoy-ied': unknown category 'relevance'",
    ),
    (
        "value the category does not have",
        GOOD + "  - name: type\n    category: attack_type\n    value: drone\n    weight: 2\n    any: [ied]\n",
        11,
        "rule 'type': value 'drone' is not one of 'attack_type''s values",
    ),
    (
        "duplicate rule name",
        GOOD + "  - name: convoy-ied\n    category: relevant\n    any: [ied]\n",
        11,
        "duplicate rule name 'convoy-ied' (first at",
    ),
    (
        "zero weight",
        GOOD.replace("    category: relevant\n", "    category: relevant\n    weight: 0\n"),
        6,
        "rule 'convoy-ied': weight 0, it never changes a result",
    ),
    (
        "unknown key",
        GOOD.replace("    same_sentence: true\n", "    same_sentance: true\n"),
        10,
        "rule: unknown key 'same_sentance'",
    ),
    (
        "term with no words",
        GOOD.replace("foiled: [defused]", 'foiled: [defused, "..."]'),
        4,
        "term '...' in 'foiled' has no words",
    ),
    (
        "YAML syntax error",
        GOOD.replace("  foiled: [defused]", "  foiled: [defused"),
        5,
        "YAML error",
    ),
]


@pytest.mark.parametrize(("kind", "body", "line", "message"), CASES, ids=[case[0] for case in CASES])
def test_each_kind_of_problem_is_reported_with_file_and_line(
    tmp_path: Path, kind: str, body: str, line: int, message: str
) -> None:
    """Each mistake yields a problem naming the rule file, the line and what is wrong."""
    _write(tmp_path, body)
    problems = _problems(tmp_path)
    assert any(
        name == "rules.yaml" and where == line and text.startswith(message) for name, where, text in problems
    ), (kind, problems)


def test_load_ruleset_raises_with_every_problem(tmp_path: Path) -> None:
    """Loading bad rules raises RuleError listing all problems as file:line: message."""
    _write(
        tmp_path,
        GOOD.replace("all: [convoy, ied]", "all: [convoy, nope]").replace("foiled: [defused]", "foiled: []"),
    )
    with pytest.raises(RuleError) as raised:
        load_ruleset(tmp_path)
    problems = raised.value.problems
    assert len(problems) == 2
    assert all(isinstance(problem, RuleProblem) for problem in problems)
    assert str(raised.value).count("rules.yaml:") == 2


def test_missing_directory_is_a_problem(tmp_path: Path) -> None:
    """A rules directory that does not exist is reported, not a crash."""
    assert [problem.message for problem in check_rules(tmp_path / "nope")] == ["rules directory not found"]


def test_concept_spread_over_files_merges(tmp_path: Path) -> None:
    """A concept defined in two files (one per language) is one concept; duplicates across them are caught."""
    _write(tmp_path, GOOD)
    (tmp_path / "zz_more.yaml").write_text("concepts:\n  convoy: [قافلة, رتل]\n", encoding="utf-8")
    assert _problems(tmp_path) == [
        (
            "zz_more.yaml",
            2,
            f"duplicate term 'رتل' in concept 'convoy' (same as 'رتل' at {tmp_path / 'rules.yaml'}:2)",
        )
    ]
    (tmp_path / "zz_more.yaml").write_text("concepts:\n  convoy: [قافلة]\n", encoding="utf-8")
    assert load_ruleset(tmp_path).classify("انفجار عبوة ناسفة على قافلة").relevant
