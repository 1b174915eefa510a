"""The one domain error type. Services raise it; the API and page handlers map it to a response."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refused request: ``code`` is stable English for operators and clients, ``message`` is Chinese for users."""

    status = 400

    def __init__(self, code: str, message: str, *, detail: Any = None, status: int | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.detail = detail
        if status is not None:
            self.status = status


class NotFound(DomainError):
    status = 404

    def __init__(self, message: str = "未找到该记录，或不在您的管辖范围内") -> None:
        super().__init__("not_found", message)


class PermissionRefused(DomainError):
    status = 403

    def __init__(self, message: str = "您的角色无权进行此操作") -> None:
        super().__init__("permission_denied", message)
