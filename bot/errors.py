"""One root error; configuration and rule errors carry where the problem is."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class ConvoywatchError(Exception):
    """An expected failure: reported as one clear line and a non-zero exit, no traceback."""

    exit_code = 1


class ConfigError(ConvoywatchError):
    """A bad setting or a bad configuration/data file."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.file = file
        self.line = line
        where = f"{file}:{line}: " if file and line else f"{file}: " if file else ""
        super().__init__(f"{where}{message}")


@dataclass(frozen=True, slots=True)
class RuleProblem:
    """One problem in a rule file, with where it is."""

    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class RuleError(ConvoywatchError):
    """The rule files have problems; every one of them is listed."""

    exit_code = 2

    def __init__(self, problems: Sequence[RuleProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


class InputError(ConvoywatchError):
    """A file given to replay/classify is missing or not in a format we read."""

    exit_code = 1


class StoreError(ConvoywatchError):
    """The database cannot be opened or written (read-only, full disk, newer schema)."""

    exit_code = 1
