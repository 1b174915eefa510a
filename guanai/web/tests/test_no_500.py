"""Every page URL, fetched by users of each kind of role with an existing and an unknown id and with junk query
parameters: the answer may be a refusal or a redirect, never a server error (a 500 is a bug)."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from conftest import VILLAGE, client_for, make_child


def _paths(patterns: list, prefix: str = "") -> list[str]:
    out: list[str] = []
    for p in patterns:
        if isinstance(p, URLResolver):
            out += _paths(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            out.append(prefix + str(p.pattern))
    return out


def _page_paths() -> list[str]:
    skip = ("api/", "static/", "media/", "logout/")
    return sorted({p for p in _paths(get_resolver().url_patterns) if not p.startswith(skip) and "(?P" not in p})


@pytest.mark.parametrize("who", ["alice", "bob", "charlie", "diana", "eve", "frank"])
def test_no_page_answers_a_server_error(cast, who):
    child = make_child(VILLAGE)
    client = client_for(cast[who])
    client.raise_request_exception = False
    paths = _page_paths()
    assert len(paths) > 40
    failures = []
    for path in paths:
        for ident in (str(child.pk), "999999"):
            url = "/" + re.sub(r"<(?:\w+:)?\w+>", ident, path)
            for query in ("", "?page=x&status=bogus&region=5x&q=%00&year=abc&month=13"):
                response = client.get(url + query)
                if response.status_code >= 500:
                    failures.append(f"GET {url}{query} → {response.status_code}")
    assert failures == []


@pytest.mark.parametrize("who", ["alice", "charlie", "frank"])
def test_no_form_answers_a_server_error_to_an_empty_or_junk_post(cast, who):
    child = make_child(VILLAGE)
    client = client_for(cast[who])
    client.raise_request_exception = False
    junk = {"name": "", "birth_date": "2099-99-99", "version": "x", "region_code": "5x", "page": "-1", "pk": "abc"}
    failures = []
    for path in _page_paths():
        for ident in (str(child.pk), "999999"):
            url = "/" + re.sub(r"<(?:\w+:)?\w+>", ident, path)
            for data in ({}, junk):
                response = client.post(url, data)
                if response.status_code >= 500:
                    failures.append(f"POST {url} {sorted(data)} → {response.status_code}")
    assert failures == []
