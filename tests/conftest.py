"""Shared fixtures: paths to the repository's config and the shared evaluation material."""

from __future__ import annotations

import importlib
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config"
SHARED = ROOT.parent / "shared"
#: the rule engine's modules that the install compiles with mypyc (setup.py)
COMPILED = ("text", "matcher", "engine", "prefilter", "accel")


def pytest_sessionstart(session: pytest.Session) -> None:
    """Refuse to test a compiled module older than its source (``make`` rebuilds it), and, for
    the pure-Python pass (CONVOYWATCH_EXPECT_PURE=1), make sure the Python modules run."""
    del session
    expect_pure = os.environ.get("CONVOYWATCH_EXPECT_PURE") == "1"
    for name in COMPILED:
        module = importlib.import_module(f"bot.rules.{name}")
        loaded = Path(module.__file__ or "")
        if expect_pure and loaded.suffix != ".py":
            pytest.exit(f"bot.rules.{name} is compiled ({loaded}); the pure-Python pass needs the .py", 2)
        source = ROOT / "bot" / "rules" / f"{name}.py"
        if loaded.suffix == ".so" and source.stat().st_mtime > loaded.stat().st_mtime:
            pytest.exit(f"{loaded.name} is older than {source.name}: run `make` (or pip install -e .)", 2)


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Tests never see the developer's CONVOYWATCH_* variables or a stray .env file."""
    for name in list(os.environ):
        if name.startswith("CONVOYWATCH_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(ROOT)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A fresh SQLite file path in a temporary folder."""
    return tmp_path / "convoywatch.db"
