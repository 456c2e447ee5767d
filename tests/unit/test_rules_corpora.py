"""The shipped rules on the hand-written held-out corpora: every relevance verdict right."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.rules.engine import RuleSet, load_ruleset
from bot.rules.evaluate import evaluate_records

ROOT = Path(__file__).parents[2]
CORPORA = ["rules_holdout.jsonl", "rules_holdout2.jsonl", "rules_holdout3.jsonl"]


@pytest.fixture(scope="module")
def shipped() -> RuleSet:
    """The rule set shipped in config/rules."""
    return load_ruleset(ROOT / "config" / "rules")


def _records(name: str) -> list[dict[str, object]]:
    path = ROOT / "tests" / "data" / name
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("name", CORPORA)
def test_relevance_is_exact_on_the_rules_holdout_corpora(shipped: RuleSet, name: str) -> None:
    """Relevance precision and recall are both 1.0 on each hand-written held-out corpus."""
    report = evaluate_records(shipped, _records(name))
    relevance = report.scores["relevant"]
    assert (relevance.precision, relevance.recall) == (1.0, 1.0), report.of("relevant")


def test_third_holdout_has_hard_negatives_and_positives() -> None:
    """rules_holdout3 holds both relevant reports and hard negatives, so the test can fail."""
    labels = [record["label"] for record in _records("rules_holdout3.jsonl")]
    relevant = sum(1 for label in labels if isinstance(label, dict) and label["relevant"])
    assert 20 <= relevant <= len(labels) - 20
