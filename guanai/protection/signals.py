"""Listeners: a child's risk grade follows the registry's facts (derived groups)."""

from __future__ import annotations

import datetime as dt
from typing import Any


def on_facts_changed(sender: Any, *, child_ids: list[int], today: dt.date, **kwargs: Any) -> None:
    from guanai.protection.services import risk_refresh

    risk_refresh(child_ids=list(child_ids), today=today)
