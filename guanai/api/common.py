"""What every API module shares: the documented error responses and validating a request body."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.request import Request

from guanai.api.serializers import ErrorEnvelopeSerializer

# The error envelope (guanai.api.errors) for the statuses a write endpoint can answer with, for the OpenAPI schema.
ERRORS = {
    400: ErrorEnvelopeSerializer,
    403: ErrorEnvelopeSerializer,
    404: ErrorEnvelopeSerializer,
    409: ErrorEnvelopeSerializer,
}


def valid_body(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    """The request body checked by ``serializer_class``; invalid input answers 400 in the one error shape."""
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    return dict(body.validated_data)
