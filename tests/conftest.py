"""Shared fixtures: paths to the repository's config and the shared evaluation material."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "config"
SHARED = ROOT.parent / "shared"


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
