"""Needs from visit checklists: a recorded visit re-derives the child's needs in the same transaction."""

from __future__ import annotations

from typing import Any


def on_visit_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if not created or kwargs.get("raw"):
        return
    from guanai.support.services import needs_derive

    needs_derive(child_ids=[instance.child_id], on=instance.visited_on)
