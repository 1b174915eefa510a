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


class StripNulMiddleware:
    """Remove NUL characters from query parameters. They cannot be stored or compared in PostgreSQL text (the
    driver raises), and no legitimate filter contains one; forms and API fields already refuse them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.META.get("QUERY_STRING", "") or "%00" in request.META.get("QUERY_STRING", ""):
            cleaned = request.GET.copy()
            for key in list(cleaned):
                cleaned.setlist(key, [v.replace("\x00", "") for v in cleaned.getlist(key)])
            cleaned._mutable = False
            request.GET = cleaned  # type: ignore[assignment]  # a QueryDict made immutable again above
        return self.get_response(request)
