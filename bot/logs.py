"""structlog set-up: JSON lines when stdout is not a terminal, readable console output when it is.

Secrets never reach the logs: settings hold them as ``SecretStr`` and nothing logs settings
wholesale; ``redact`` is a last line of defence for values bound by mistake.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}


def _redactor(secrets: Iterable[str]) -> structlog.types.Processor:
    values = [secret for secret in secrets if secret and len(secret) >= 4]

    def redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        if not values:
            return event
        for key, value in event.items():
            if isinstance(value, str) and any(secret in value for secret in values):
                text = value
                for secret in values:
                    text = text.replace(secret, "***")
                event[key] = text
        return event

    return redact


class _Stream:
    """Writes to ``sys.<name>`` as it is at write time, so a replaced or closed stream
    (tests capture and close them) never receives a stale logger's output."""

    def __init__(self, name: str) -> None:
        self.name = name

    def write(self, text: str) -> int:
        return int(getattr(sys, self.name).write(text))

    def flush(self) -> None:
        getattr(sys, self.name).flush()

    def isatty(self) -> bool:
        return bool(getattr(sys, self.name).isatty())


def configure(
    *,
    level: str = "info",
    fmt: str = "auto",
    stream: TextIO | None = None,
    secrets: Iterable[str] = (),
) -> None:
    """Configure structlog (and the stdlib loggers Telethon uses) once per process."""
    out: Any = stream or sys.stdout
    if out is sys.stdout:
        out = _Stream("stdout")
    elif out is sys.stderr:
        out = _Stream("stderr")
    json_lines = fmt == "json" or (fmt == "auto" and not out.isatty())
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json_lines
        else structlog.dev.ConsoleRenderer(colors=out.isatty())
    )
    processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        _redactor(secrets),
        renderer,
    ]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS[level]),
        logger_factory=structlog.PrintLoggerFactory(out),
        cache_logger_on_first_use=False,
    )
    # Telethon logs through the stdlib; route its warnings to stderr, quietly.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(name)s %(levelname)s %(message)s")
    logging.getLogger("telethon").setLevel(logging.WARNING if level != "debug" else logging.INFO)


def get_logger(name: str | None = None) -> Any:
    """A structlog logger; bind ``channel=`` / ``message_id=`` for context."""
    return structlog.get_logger(name)
