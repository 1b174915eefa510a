from __future__ import annotations

from rest_framework.request import Request

from guanai.accounts.models import User
from guanai.lib.errors import PermissionRefused


def actor(request: Request) -> User:
    """The authenticated user of an API request (every API view requires authentication)."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionRefused("请先登录")
    return user
