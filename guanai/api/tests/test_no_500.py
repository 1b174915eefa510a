"""Every API operation of the OpenAPI schema, called with empty, malformed and unknown input by users of several
roles: the answer may be a refusal, never a server error (a 500 is a bug)."""

from __future__ import annotations

import re

import pytest
from drf_spectacular.generators import SchemaGenerator

from conftest import client_for, make_child

BODIES = [
    ("{}", "application/json"),
    ('{"posted": "x", "reason": 5, "answers": [1], "outcome": null}', "application/json"),
    ("not json at all", "application/json"),
]


def _operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        (path, method)
        for path, item in schema["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    ]


@pytest.mark.parametrize("who", ["alice", "charlie", "eve"])
def test_no_api_operation_answers_a_server_error(cast, who):
    child = make_child("500230101201")
    client = client_for(cast[who])
    client.raise_request_exception = False  # let Django answer as in production (the 500 handler) and check it
    failures = []
    operations = _operations()
    assert len(operations) > 50
    for path, method in operations:
        for ident in (str(child.pk), "999999"):
            url = re.sub(r"\{[^}]+\}", ident, path)
            if method in ("get", "delete"):
                calls = [getattr(client, method)(url)]
            else:
                calls = [getattr(client, method)(url, data, content_type=ct) for data, ct in BODIES]
            failures += [f"{method.upper()} {url} → {r.status_code}" for r in calls if r.status_code >= 500]
    assert failures == []
