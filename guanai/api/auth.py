from __future__ import annotations

from rest_framework.request import Request

from guanai.accounts.current import request_user
from guanai.accounts.models import User


def actor(request: Request) -> User:
    """The authenticated user of an API request (every API view requires authentication)."""
    return request_user(request)
