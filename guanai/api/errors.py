"""One error shape for the API: ``{"error": {"code": ..., "message": <Chinese>, "detail": ...}}``."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from guanai.lib.errors import DomainError

log = logging.getLogger("guanai.api")

MESSAGES = {
    "not_authenticated": "请先登录",
    "authentication_failed": "身份验证失败",
    "permission_denied": "您的角色无权进行此操作",
    "not_found": "未找到该记录，或不在您的管辖范围内",
    "method_not_allowed": "不支持该请求方法",
    "throttled": "请求过于频繁，请稍后再试",
    "parse_error": "请求格式错误",
    "invalid": "提交的数据有误",
    "unsupported_media_type": "不支持的请求格式",
    "not_acceptable": "无法提供请求的响应格式",
}


def error_body(code: str, message: str, detail: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "detail": detail}}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(error_body(exc.code, exc.message, exc.detail), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_handler(exc, context)
    if response is None:
        log.exception("unhandled API error in %s", context.get("view").__class__.__name__)
        return Response(
            error_body("server_error", "服务器内部错误，请稍后重试"),
            status=status.HTTP_500_INTERNAL_SERVER_ERROR,
        )
    assert isinstance(exc, exceptions.APIException)
    code = exc.get_codes() if isinstance(exc, exceptions.ValidationError) else exc.default_code
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body("invalid", MESSAGES["invalid"], response.data)
    else:
        code_text = str(code)
        response.data = error_body(code_text, MESSAGES.get(code_text, str(exc.detail)))
    return response
