"""The policy as data: YAML rule files, each rule citing the clause it implements."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

RULES_DIR = Path(__file__).resolve().parent


@cache
def load(name: str) -> dict[str, Any]:
    """Load ``rules/<name>.yaml``. Rule files ship with the code and are validated by their consumers."""
    with (RULES_DIR / f"{name}.yaml").open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh)
    if not isinstance(data, dict) or "version" not in data or "source" not in data:
        raise ValueError(f"rules/{name}.yaml must be a mapping with 'version' and 'source'")
    return data
