from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from guanai.lib.errors import DomainError


class DomainErrorMiddleware:
    """A refused request on a page renders its Chinese message with the right status, never a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if request.path.startswith("/api/") or not isinstance(exception, DomainError):
            return None
        template = "web/_error_fragment.html" if request.headers.get("HX-Request") else "web/error.html"
        return render(
            request,
            template,
            {"title": "无法完成操作", "message": exception.message},
            status=exception.status,
        )
