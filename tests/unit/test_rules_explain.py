"""`rules explain` and `rules test`: pure formatters and the evaluation report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.rules.engine import RuleSet, load_ruleset
from bot.rules.evaluate import Scores, evaluate_records, format_report
from bot.rules.explain import ANSI_MARK, explain, mark_text

RULES = """\
categories:
  relevant: {threshold: 1}
  attack_type: {values: [ied, drone], default: ied}
concepts:
  convoy: [convoy, رتل]
  ied: [IED, عبوة ناسفة]
  drone: [drone]
rules:
  - name: convoy-ied
    category: relevant
    all: [convoy]
    any: [ied, drone]
    same_sentence: true
  - name: type-drone
    category: attack_type
    value: drone
    weight: 2
    any: [drone]
"""


@pytest.fixture(scope="module")
def ruleset(tmp_path_factory: pytest.TempPathFactory) -> RuleSet:
    directory = tmp_path_factory.mktemp("rules")
    (directory / "rules.yaml").write_text(RULES, encoding="utf-8")
    return load_ruleset(directory)


def test_mark_text_merges_overlapping_spans() -> None:
    """Overlapping and touching spans are marked once."""
    assert mark_text("abcdefgh", [(1, 3), (2, 5), (6, 7)]) == "a[bcde]f[g]h"
    assert mark_text("abc", []) == "abc"
    assert mark_text("abc", [(0, 3)], ANSI_MARK) == "\x1b[1;33mabc\x1b[0m"


def test_explain_lists_verdict_rules_matches_and_marked_text(ruleset: RuleSet) -> None:
    """The explanation names the verdict, each fired rule with its origin and matches, and marks the text."""
    lines = explain(ruleset, "استهداف رتلٍ بعبوةٍ ناسفة\nثم drone")
    assert lines[0] == "relevant: yes (score 1, threshold 1)"
    assert lines[1] == "labels: attack_type=drone"
    assert lines[2] == "rules fired:"
    assert lines[3].startswith("  convoy-ied  [relevant +1]  (") and lines[3].endswith("rules.yaml:9)")
    assert "      convoy: 'رتل' «رتلٍ» at 8-12" in lines
    assert "      ied: 'عبوة ناسفة' «بعبوةٍ ناسفة» at 13-25" in lines
    assert "  drone: 'drone' «drone» at 29-34 (tokens 5-5)" in lines
    assert lines[-3:] == ["text:", "  استهداف [رتلٍ] [بعبوةٍ ناسفة]", "  ثم [drone]"]


def test_explain_when_nothing_matches(ruleset: RuleSet) -> None:
    """A text with no match says so (and has no labels: they describe a relevant post)."""
    lines = explain(ruleset, "nothing here")
    assert lines[:2] == ["relevant: no (score 0, threshold 1)", "rules fired: none"]
    assert "rules fired: none" in lines
    assert "matches: none" in lines


def test_scores() -> None:
    """Precision, recall and F1 follow their definitions; empty counts score 1."""
    scores = Scores(tp=8, fp=2, fn=8)
    assert scores.precision == pytest.approx(0.8)
    assert scores.recall == pytest.approx(0.5)
    assert scores.f1 == pytest.approx(2 * 0.8 * 0.5 / 1.3)
    assert Scores().precision == 1.0


def test_evaluate_records_counts_and_lists_errors(ruleset: RuleSet) -> None:
    """Relevance and labels are scored, and misses, false alarms and wrong labels are listed."""
    records: list[dict[str, Any]] = [
        {
            "id": "a",
            "text": "IED hit a convoy",
            "label": {"relevant": True, "events": [{"attack_type": "ied"}]},
        },
        {
            "id": "b",
            "text": "drone hit a convoy",
            "label": {"relevant": True, "events": [{"attack_type": "ied"}]},
        },
        {
            "id": "c",
            "text": "a convoy crossed",
            "label": {"relevant": True, "events": [{"attack_type": "ied"}]},
        },
        {"id": "d", "text": "IED near a convoy route", "label": {"relevant": False, "events": []}},
        {"id": "e", "text": "weather", "label": {"relevant": False, "events": []}},
        {"id": "f", "text": "no label"},
    ]
    report = evaluate_records(ruleset, records)
    assert report.posts == 5
    assert report.skipped == ("f",)
    assert report.scores["relevant"] == Scores(tp=2, fp=1, fn=1)
    assert report.scores["attack_type"] == Scores(tp=1, fp=1, fn=2)
    assert [(error.id, error.category, error.expected, error.got) for error in report.errors] == [
        ("b", "attack_type", "ied", "drone"),
        ("c", "relevant", "yes", "no"),
        ("d", "relevant", "no", "yes"),
    ]
    lines = format_report(report)
    assert lines[0] == "posts: 5  (skipped without labels: 1)"
    assert lines[2] == "relevant      0.667  0.667  0.667    2    1    1"
    assert "misses (relevant, not flagged): 1" in lines
    assert "  c: rules: no rule fired" in lines
    assert "false alarms (flagged, not relevant): 1" in lines
    assert "  b: attack_type: expected ied, got drone; rules: convoy-ied, type-drone" in lines


def test_shipped_explain_on_a_real_post() -> None:
    """The shipped rules explain a typical Sabereen post."""
    rules = load_ruleset(Path(__file__).parents[2] / "config" / "rules")
    lines = explain(rules, "🔴 عاجل | استهداف رتل للدعم اللوجستي التابع للتحالف بعبوة ناسفة في الديوانية")
    assert lines[0].startswith("relevant: yes")
    assert lines[1] == "labels: attack_type=ied  target=us_coalition"
