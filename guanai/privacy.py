"""Personal data protection glue: encrypt, blind-index and mask identifiers with the configured keys.

PIPL treats personal information of children under 14 as sensitive. ID numbers and phone numbers are kept
encrypted (AES-256-GCM, ``lib/crypto``), looked up and matched by an HMAC blind index, and shown masked.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from guanai.lib import crypto, idnumber

# Every encrypted column of the project, for key rotation: (app label, model, encrypted field).
ENCRYPTED_FIELDS: list[tuple[str, str, str]] = [
    ("registry", "Child", "id_number_enc"),
    ("registry", "Person", "id_number_enc"),
    ("registry", "Person", "phone_enc"),
    ("protection", "Report", "reporter_identity_enc"),
]


@cache
def keyring() -> crypto.KeyRing:
    try:
        return crypto.KeyRing.parse(settings.GUANAI_FIELD_KEYS)
    except crypto.KeyConfigError as exc:
        raise ImproperlyConfigured(f"GUANAI_FIELD_KEYS: {exc}") from exc


@cache
def blind_index() -> crypto.BlindIndex:
    try:
        return crypto.BlindIndex(settings.GUANAI_BLIND_INDEX_KEY)
    except crypto.KeyConfigError as exc:
        raise ImproperlyConfigured(f"GUANAI_BLIND_INDEX_KEY: {exc}") from exc


def reset_caches() -> None:
    """Forget cached keys (after settings change in tests or a rotation)."""
    keyring.cache_clear()
    blind_index.cache_clear()


@dataclass(frozen=True)
class Protected:
    enc: str
    bidx: str
    mask: str


def protect_id_number(value: str) -> Protected:
    """A validated 18-character ID number as ciphertext, blind index and mask."""
    return Protected(keyring().encrypt(value), id_bidx(value), idnumber.mask(value))


def id_bidx(value: str) -> str:
    """The blind index of an ID number, after the same cleaning as at storage (x → X, full-width → ASCII)."""
    return blind_index().digest("id:" + idnumber.clean(value))


def protect_phone(value: str) -> Protected:
    digits = idnumber.clean(value)
    return Protected(keyring().encrypt(digits), blind_index().digest("phone:" + digits), idnumber.mask_phone(digits))


def reveal(token: str) -> str:
    return keyring().decrypt(token) if token else ""
