"""The diff this project's dynamic resources share: one property replaces the resource, another
updates it, and nothing else (the pickled provider among them) counts as a change."""

from __future__ import annotations

from typing import Any

import pulumi.dynamic


def replace_or_update(
    olds: dict[str, Any], news: dict[str, Any], *, replace_on: str, update_on: str
) -> pulumi.dynamic.DiffResult:
    """A new `replace_on` replaces (the new one first); a new `update_on` updates."""
    replaces = [replace_on] if olds.get(replace_on) != news.get(replace_on) else []
    changed = bool(replaces) or olds.get(update_on) != news.get(update_on)
    return pulumi.dynamic.DiffResult(
        changes=changed, replaces=replaces, delete_before_replace=False
    )
