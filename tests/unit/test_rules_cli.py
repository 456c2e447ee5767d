"""`convoywatch rules check|explain|test` through the real command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.cli import main

RULES = """\
categories:
  relevant: {threshold: 1}
concepts:
  convoy: [convoy]
  ied: [IED]
rules:
  - name: convoy-ied
    category: relevant
    all: [convoy, ied]
"""


def _rules(directory: Path, body: str = RULES) -> Path:
    directory.mkdir(exist_ok=True)
    (directory / "rules.yaml").write_text(body, encoding="utf-8")
    return directory


def test_rules_check_ok(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Good rules: exit 0 and say so."""
    rules = _rules(tmp_path / "rules")
    assert main(["rules", "check", "--rules", str(rules)]) == 0
    assert capsys.readouterr().out.startswith("rules ok")


def test_rules_check_notes_a_regex_term_the_prefilter_cannot_screen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A needed regex term without a literal key: a file:line note, and still exit 0."""
    body = RULES.replace("convoy: [convoy]", 'convoy: [convoy, "re:[a-z]+ (column|convoy)s?"]')
    rules = _rules(tmp_path / "rules", body)
    assert main(["rules", "check", "--rules", str(rules)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith(f"{rules / 'rules.yaml'}:4: note: regex term '[a-z]+ (column|convoy)s?'")
    assert out[-1].startswith("rules ok")
    keyed = RULES.replace("convoy: [convoy]", 'convoy: [convoy, "re:(struck|hit) (a|the) convoy"]')
    assert main(["rules", "check", "--rules", str(_rules(tmp_path / "keyed", keyed))]) == 0
    assert capsys.readouterr().out.startswith("rules ok")


def test_rules_check_reports_file_line_and_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Bad rules: one file:line: message line per problem and a non-zero exit."""
    rules = _rules(tmp_path / "rules", RULES.replace("all: [convoy, ied]", "all: [convoy, nope]"))
    assert main(["rules", "check", "--rules", str(rules)]) == 2
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{rules / 'rules.yaml'}:9: rule 'convoy-ied': unknown concept 'nope'"]


def test_rules_explain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Explain prints the verdict and the text with matches marked (no ANSI when not a TTY)."""
    rules = _rules(tmp_path / "rules")
    assert main(["rules", "explain", "--rules", str(rules), "An IED hit a convoy"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("relevant: yes")
    assert "  An [IED] hit a [convoy]" in out
    assert "\x1b[" not in out


def test_rules_explain_refuses_bad_rules(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Explain with broken rules exits 2 with the problems."""
    rules = _rules(tmp_path / "rules", RULES.replace("ied: [IED]", "ied: []"))
    assert main(["rules", "explain", "--rules", str(rules), "x"]) == 2
    assert "concept 'ied' is an empty list" in capsys.readouterr().err


def test_rules_test_prints_scores(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """rules test prints P/R/F1 and lists a miss."""
    rules = _rules(tmp_path / "rules")
    corpus = tmp_path / "corpus.jsonl"
    records = [
        {"id": "a", "text": "IED hit a convoy", "label": {"relevant": True, "events": []}},
        {"id": "b", "text": "a convoy was bombed", "label": {"relevant": True, "events": []}},
        {"id": "c", "text": "weather", "label": {"relevant": False, "events": []}},
    ]
    corpus.write_text("\n".join(json.dumps(record) for record in records) + "\n", encoding="utf-8")
    assert main(["rules", "test", "--rules", str(rules), str(corpus)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "relevant      1.000  0.500  0.667    1    0    1" in out
    assert "  b: rules: no rule fired" in out


def test_rules_test_bad_corpus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A corpus line that is not JSON is an input error naming file and line."""
    rules = _rules(tmp_path / "rules")
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('{"id": "a"}\nnot json\n', encoding="utf-8")
    assert main(["rules", "test", "--rules", str(rules), str(corpus)]) == 1
    assert f"{corpus}:2: not JSON" in capsys.readouterr().err
