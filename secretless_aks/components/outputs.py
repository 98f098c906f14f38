"""Helpers for provider outputs the program depends on."""

from __future__ import annotations


def required(value: str | None, field: str) -> str:
    """An output Azure always returns for what this program creates; fail loudly if it did not."""
    if not value:
        raise ValueError(f"Azure returned no {field}; it is needed downstream")
    return value
