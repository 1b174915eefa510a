"""Text normalisation shared by imports and search: full-width to half-width, stray spaces removed."""

from __future__ import annotations

import unicodedata


def normalise_text(value: object) -> str:
    """NFKC (full-width digits and letters become ASCII) and trimmed, inner runs of space collapsed."""
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value)).replace("\u3000", " ")
    return " ".join(text.split())
