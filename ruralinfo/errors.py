"""Errors that services raise for people to read."""
from __future__ import annotations


class FieldErrors(ValueError):
    """One or more fields are wrong; ``errors`` maps field name → message, ready to show."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors
