"""Field encryption (AES-256-GCM with a key ring) and the HMAC-SHA256 blind index.

A token is ``<key id>:<base64(nonce ‖ ciphertext ‖ tag)>``. The key ring's first key encrypts; every key in
the ring decrypts, so keys rotate without downtime: add a new key first, run ``guanai pii rotate-keys``, then
drop the old key. The blind index is a keyed hash of the normalised value, so equal ID numbers match
without the database or a linkage table ever holding the plaintext.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class KeyConfigError(ValueError):
    """The key settings are malformed (an operator error, reported in English)."""


class DecryptionError(ValueError):
    """A token could not be decrypted with any key of the ring."""


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class KeyRing:
    keys: tuple[tuple[str, AESGCM], ...]

    @classmethod
    def parse(cls, spec: str) -> KeyRing:
        """``"2:base64key,1:base64key"`` — the first entry is the current encryption key."""
        keys: list[tuple[str, AESGCM]] = []
        for part in (p.strip() for p in spec.split(",") if p.strip()):
            key_id, sep, material = part.partition(":")
            if not sep or not key_id.isalnum():
                raise KeyConfigError("each field key must look like '<id>:<urlsafe-base64 32-byte key>'")
            try:
                raw = _b64decode(material)
            except ValueError as exc:
                raise KeyConfigError(f"field key {key_id!r} is not valid base64") from exc
            if len(raw) != 32:
                raise KeyConfigError(f"field key {key_id!r} must be 32 bytes, got {len(raw)}")
            keys.append((key_id, AESGCM(raw)))
        if not keys:
            raise KeyConfigError("no field encryption key configured")
        if len({k for k, _ in keys}) != len(keys):
            raise KeyConfigError("field key ids must be unique")
        return cls(tuple(keys))

    @property
    def current_id(self) -> str:
        return self.keys[0][0]

    def encrypt(self, plaintext: str) -> str:
        key_id, aead = self.keys[0]
        nonce = os.urandom(12)
        data = aead.encrypt(nonce, plaintext.encode(), key_id.encode())
        return key_id + ":" + base64.urlsafe_b64encode(nonce + data).decode().rstrip("=")

    def decrypt(self, token: str) -> str:
        key_id, _, body = token.partition(":")
        for kid, aead in self.keys:
            if kid == key_id:
                raw = _b64decode(body)
                try:
                    return aead.decrypt(raw[:12], raw[12:], kid.encode()).decode()
                except InvalidTag as exc:
                    raise DecryptionError(f"token for key {kid!r} failed authentication") from exc
        raise DecryptionError(f"no key {key_id!r} in the key ring")

    def needs_rotation(self, token: str) -> bool:
        return token.partition(":")[0] != self.current_id


def new_key_spec(key_id: str) -> str:
    return key_id + ":" + base64.urlsafe_b64encode(os.urandom(32)).decode()


class BlindIndex:
    def __init__(self, key: str) -> None:
        try:
            raw = _b64decode(key)
        except ValueError as exc:
            raise KeyConfigError("blind index key is not valid base64") from exc
        if len(raw) < 32:
            raise KeyConfigError("blind index key must be at least 32 bytes")
        self._key = raw

    def digest(self, value: str) -> str:
        return hmac.new(self._key, value.encode(), hashlib.sha256).hexdigest()
