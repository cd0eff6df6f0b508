"""What a check finds, and the list of checks in the order the operator reads them."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

OK, WARNING, PROBLEM = "ok", "warning", "PROBLEM"
_RANK = {OK: 0, WARNING: 1, PROBLEM: 2}


@dataclass(frozen=True)
class Finding:
    """What one check found: ``level`` is ok, warning or PROBLEM."""

    name: str
    level: str
    message: str


CHECKS: list[Callable[[], Finding | None]] = []


def check(name: str):
    """Register a check under the name the operator reads."""
    def register(func):
        func.check_name = name
        CHECKS.append(func)
        return func
    return register


def finding(name: str, issues: list[tuple[str, str]], fine: str = "") -> Finding:
    """One finding from a check's (level, words): the worst level; the words of what is
    not ok, or of everything (or ``fine``) when all is ok."""
    bad = [(level, words) for level, words in issues if level != OK]
    if not bad:
        return Finding(name, OK, " ".join(words for _, words in issues) or fine)
    return Finding(name, max((level for level, _ in bad), key=_RANK.__getitem__), " ".join(w for _, w in bad))


def count(number: int, word: str) -> str:
    return f"{number} {word}{'' if number == 1 else 's'}"
