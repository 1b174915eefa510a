"""The signed-in user of a page or API request, typed as ``accounts.User``."""

from __future__ import annotations

from typing import Any

from guanai.accounts.models import User
from guanai.lib.errors import PermissionRefused


def request_user(request: Any) -> User:
    """The authenticated user of ``request`` (a Django ``HttpRequest`` or a DRF ``Request``). Views that require
    a login always have one; anything else is refused as not signed in."""
    user = request.user
    if not isinstance(user, User):
        raise PermissionRefused("请先登录")
    return user
