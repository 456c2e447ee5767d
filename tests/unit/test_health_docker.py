"""The container files agree with the settings: every variable documented, none unknown, image sane."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

from bot.settings import CONFIG_ENV, Settings, load_settings
from tests.conftest import ROOT

DOCKERFILE = ROOT / "Dockerfile"
ENV_EXAMPLE = ROOT / "docker" / "convoywatch.env.example"
COMPOSE = ROOT / "docker" / "compose.yaml"
KNOWN = {f"CONVOYWATCH_{name.upper()}" for name in Settings.model_fields} | {CONFIG_ENV}


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    result = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            word, _, rest = stripped.partition(" ")
            result.append((word.upper(), rest.strip()))
    return result


def final_stage() -> list[tuple[str, str]]:
    instructions = dockerfile_instructions()
    starts = [index for index, (word, _) in enumerate(instructions) if word == "FROM"]
    return instructions[starts[-1] :]


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for word, rest in final_stage():
        if word == "ENV":
            for pair in shlex.split(rest):
                name, _, value = pair.partition("=")
                env[name] = value
    return env


def test_env_example_documents_every_setting() -> None:
    """Every setting has a CONVOYWATCH_* line in the env example, and it names no unknown variable."""
    text = ENV_EXAMPLE.read_text(encoding="utf-8")
    named = set(re.findall(r"^#? ?(CONVOYWATCH_[A-Z0-9_]+)=", text, re.MULTILINE))
    assert sorted(KNOWN - named) == []
    assert sorted(named - KNOWN) == []


def test_env_example_defaults_are_valid(monkeypatch: pytest.MonkeyPatch) -> None:
    """The example's values, all uncommented at once, load as valid settings."""
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"^# (CONVOYWATCH_[A-Z0-9_]+)=(.*)$", line)
        if match and match.group(2) and match.group(1) != CONFIG_ENV:
            monkeypatch.setenv(match.group(1), match.group(2))
    settings = load_settings()
    assert settings.health_port == 8080
    assert settings.db == Path("/data/convoywatch.db")


def test_image_environment_is_valid_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The image's CONVOYWATCH_* variables are known settings, point into /data and load."""
    env = {name: value for name, value in image_env().items() if name.startswith("CONVOYWATCH_")}
    assert set(env) <= KNOWN
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    settings = load_settings()
    assert settings.db == Path("/data/convoywatch.db")
    assert settings.session_file.parent == Path("/data")
    assert settings.inbox.parent == Path("/data")
    assert settings.health_port is not None
    assert settings.health_host == "0.0.0.0"
    assert settings.log_format == "json"


def test_dockerfile_final_stage() -> None:
    """The final stage runs as UID 10001, stops on SIGTERM, checks health and keeps state in /data."""
    stage = final_stage()
    words = [word for word, _ in stage]
    assert ("USER", "10001:10001") in stage
    assert ("STOPSIGNAL", "SIGTERM") in stage
    assert ("VOLUME", '["/data"]') in stage
    assert ("ENTRYPOINT", '["convoywatch"]') in stage
    assert ("CMD", '["run"]') in stage
    healthcheck = next(rest for word, rest in stage if word == "HEALTHCHECK")
    assert healthcheck.endswith('CMD ["convoywatch", "healthcheck"]')
    assert "LABEL" in words
    # No compiler or pip in the final stage: it only copies the venv built before.
    runs = " ".join(rest for word, rest in stage if word == "RUN")
    assert "pip" not in runs
    assert "apt-get" not in runs


def test_dockerfile_names_no_index_host() -> None:
    """The package index comes from build args: the Dockerfile contains no URL."""
    assert "://" not in DOCKERFILE.read_text(encoding="utf-8")
    instructions = dockerfile_instructions()
    assert ("ARG", "BASE_IMAGE=python:3.11-slim") in instructions
    assert ("ARG", "PIP_INDEX_URL") in instructions


def test_compose_service() -> None:
    """The compose service uses the env file, the /data volume, a restart policy and a grace period."""
    compose = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    service = compose["services"]["convoywatch"]
    assert service["env_file"] == ["convoywatch.env"]
    assert "convoywatch-data:/data" in service["volumes"]
    assert "convoywatch-data" in compose["volumes"]
    assert service["restart"] == "unless-stopped"
    assert service["stop_signal"] == "SIGTERM"
    assert int(service["stop_grace_period"].removesuffix("s")) >= 30
    assert service["healthcheck"]["test"] == ["CMD", "convoywatch", "healthcheck"]
    assert service["build"]["context"] == ".."
    assert (
        COMPOSE.parent / service["build"]["context"] / service["build"]["dockerfile"]
    ).resolve() == DOCKERFILE


def test_dockerignore_keeps_what_the_build_copies() -> None:
    """Everything the Dockerfile copies from the context is let through .dockerignore."""
    allowed = {
        line.removeprefix("!").rstrip("/")
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.startswith("!")
    }
    copied = {
        rest.split()[0].rstrip("/")
        for word, rest in dockerfile_instructions()
        if word == "COPY" and not rest.startswith("--from")
    }
    assert copied <= allowed
